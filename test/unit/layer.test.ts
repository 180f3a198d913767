/**
 * The onnxruntime layer: built for both Lambda architectures into a temp dir, then checked
 * independently of the build's own verification — no other platform's or arch's binary (by
 * path and by ELF e_machine), no duplicate native library, under 60 MB unzipped — and, for
 * the arch of this machine, loaded in a fresh Node.js process that resolves onnxruntime-node
 * only through NODE_PATH, as Lambda does with /opt/nodejs/node_modules.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import {
  buildOnnxRuntimeLayer,
  buildOnnxRuntimeLayerWithReport,
  LAYER_ARCHES,
  type LayerArch,
  LayerBuildError,
  MB,
} from '../../layers/onnxruntime/build';
import { runProcess } from '../support/process';

const ROOT = join(__dirname, '..', '..');
const NODE_MODULES = join(ROOT, 'node_modules');
const LEAD_MODEL_DIR = join(ROOT, 'models', 'fraud-gbdt', '1.0.0');
const EM = { x64: 62, arm64: 183 } as const;
const BUDGET = 60 * MB;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) visit(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  visit(dir);
  return out.sort();
}

/** e_machine from the ELF header bytes (offset 18, little-endian), or undefined when not ELF. */
function elfMachine(path: string): number | undefined {
  const head = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  const read = readSync(fd, head, 0, 20, 0);
  closeSync(fd);
  if (read < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  return head.readUInt16LE(18);
}

const isNative = (path: string) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(path);

/** Every problem the layer has, as readable strings (empty when it is clean). */
function layerProblems(dir: string, arch: LayerArch): string[] {
  const problems: string[] = [];
  const other = LAYER_ARCHES.filter((a) => a !== arch);
  const files = listFiles(dir);
  const hashes = new Map<string, string>();
  let total = 0;
  for (const file of files) {
    const full = join(dir, file);
    total += statSync(full).size;
    if (/\/(darwin|win32)\//.test(file)) problems.push(`other platform: ${file}`);
    for (const a of other) if (file.includes(`/linux/${a}/`)) problems.push(`other arch: ${file}`);
    if (/\.(dylib|dll)$/.test(file)) problems.push(`non-Linux library: ${file}`);
    if (/cuda|tensorrt|providers_shared/i.test(file)) problems.push(`GPU provider library: ${file}`);
    const machine = elfMachine(full);
    if (isNative(file) && machine === undefined) problems.push(`native file that is not ELF: ${file}`);
    if (machine !== undefined && machine !== EM[arch])
      problems.push(`ELF machine ${machine} instead of ${EM[arch]}: ${file}`);
    if (machine !== undefined) {
      const hash = createHash('sha256').update(readFileSync(full)).digest('hex');
      const twin = hashes.get(hash);
      if (twin) problems.push(`duplicate shared library: ${file} = ${twin}`);
      hashes.set(hash, file);
    }
  }
  if (total > BUDGET) problems.push(`${(total / MB).toFixed(1)} MB unzipped, over 60 MB`);
  return problems;
}

// --- a minimal ONNX model, encoded by hand (protobuf wire format) -----------------------------

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 127) {
    bytes.push((v & 127) | 128);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}
const bytesField = (no: number, payload: Buffer) =>
  Buffer.concat([varint((no << 3) | 2), varint(payload.length), payload]);
const intField = (no: number, value: number) => Buffer.concat([varint(no << 3), varint(value)]);
const stringField = (no: number, value: string) => bytesField(no, Buffer.from(value));

/** `y = Sigmoid(x)` with x, y: float32[N, 3] (ir_version 7, opset 13). */
function sigmoidModel(): Buffer {
  const dims = Buffer.concat([bytesField(1, stringField(2, 'N')), bytesField(1, intField(1, 3))]);
  const tensorType = bytesField(1, Buffer.concat([intField(1, 1), bytesField(2, dims)]));
  const valueInfo = (name: string) => Buffer.concat([stringField(1, name), bytesField(2, tensorType)]);
  const node = Buffer.concat([stringField(1, 'x'), stringField(2, 'y'), stringField(4, 'Sigmoid')]);
  const graph = Buffer.concat([
    bytesField(1, node),
    stringField(2, 'layer-smoke'),
    bytesField(11, valueInfo('x')),
    bytesField(12, valueInfo('y')),
  ]);
  return Buffer.concat([
    intField(1, 7),
    bytesField(7, graph),
    bytesField(8, Buffer.concat([stringField(1, ''), intField(2, 13)])),
  ]);
}

/** Runs `script` in a fresh node whose only way to find onnxruntime-node is NODE_PATH=<layer>. */
function runWithLayer(layerDir: string, cwd: string, script: string) {
  return spawnSync(process.execPath, ['-e', script], {
    cwd,
    encoding: 'utf8',
    timeout: 15_000,
    env: { ...process.env, NODE_PATH: join(layerDir, 'nodejs', 'node_modules'), NODE_OPTIONS: '' },
  });
}

describe('buildOnnxRuntimeLayer', () => {
  let work: string;
  const dirs: Partial<Record<LayerArch, string>> = {};

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ort-layer-'));
    for (const arch of LAYER_ARCHES)
      dirs[arch] = buildOnnxRuntimeLayer(arch, { outDir: join(work, 'build') });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each(LAYER_ARCHES)(
    '%s: holds only Linux runtime files of that arch, no duplicates, under 60 MB',
    (arch) => {
      // prepare
      const dir = dirs[arch] as string;
      // act
      const problems = layerProblems(dir, arch);
      const files = listFiles(dir);
      // assert
      expect(problems).toEqual([]);
      expect(files).toEqual(
        expect.arrayContaining([
          'nodejs/node_modules/onnxruntime-node/package.json',
          'nodejs/node_modules/onnxruntime-node/dist/index.js',
          `nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/${arch}/onnxruntime_binding.node`,
          `nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/${arch}/libonnxruntime.so.1`,
          'nodejs/node_modules/onnxruntime-common/package.json',
          'nodejs/node_modules/onnxruntime-common/dist/cjs/index.js',
        ]),
      );
      expect(files.filter((f) => /\.(d\.ts|map|md|ts)$/.test(f))).toEqual([]);
      expect(files.filter((f) => f.includes('/script/') || f.includes('/lib/'))).toEqual([]);
    },
  );

  it('has a checker that does flag the unpruned npm package', () => {
    // The scan above must be able to fail: run it on what npm installed.
    const problems = layerProblems(join(NODE_MODULES, 'onnxruntime-node'), 'x64');
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^other platform: bin\/napi-v6\/darwin\//),
        expect.stringMatching(/^other arch: bin\/napi-v6\/linux\/arm64\//),
        expect.stringMatching(/^ELF machine 183 instead of 62: /),
        expect.stringMatching(/^non-Linux library: .*\.dll$/),
        expect.stringMatching(/over 60 MB$/),
      ]),
    );
  });

  it('drops install scripts and install-only dependencies from package.json', () => {
    const pkg = JSON.parse(
      readFileSync(join(dirs.x64 as string, 'nodejs/node_modules/onnxruntime-node/package.json'), 'utf8'),
    );
    expect(pkg.scripts).toBeUndefined();
    expect(pkg.dependencies).toEqual({ 'onnxruntime-common': pkg.version });
    expect(pkg.main).toBe('dist/index.js');
  });

  it('writes a manifest with version, arch, files and total size, and reuses an up-to-date build', () => {
    // act
    const first = buildOnnxRuntimeLayerWithReport('arm64', { outDir: join(work, 'build') });
    const { manifest } = first;
    // assert
    expect(first.rebuilt).toBe(false);
    expect(manifest.arch).toBe('arm64');
    expect(manifest.onnxruntimeNode).toBe(
      JSON.parse(readFileSync(join(NODE_MODULES, 'onnxruntime-node/package.json'), 'utf8')).version,
    );
    expect(manifest.files.map((f) => f.path).sort()).toEqual(listFiles(first.dir));
    expect(manifest.totalBytes).toBe(manifest.files.reduce((s, f) => s + f.bytes, 0));
    expect(existsSync(join(work, 'build', 'arm64.manifest.json'))).toBe(true);
  });

  it('rebuilds when a file of the layer went missing', () => {
    // prepare
    const dir = dirs.arm64 as string;
    unlinkSync(join(dir, 'nodejs/node_modules/onnxruntime-node/dist/index.js'));
    // act
    const again = buildOnnxRuntimeLayerWithReport('arm64', { outDir: join(work, 'build') });
    // assert
    expect(again.rebuilt).toBe(true);
    expect(existsSync(join(dir, 'nodejs/node_modules/onnxruntime-node/dist/index.js'))).toBe(true);
  });

  it('lets parallel builds of the same arch (jest workers, synths) finish with one valid layer', async () => {
    // prepare
    const outDir = join(work, 'parallel');
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const code = `const { buildOnnxRuntimeLayer } = require('./layers/onnxruntime/build');
      console.log(buildOnnxRuntimeLayer('arm64', { outDir: ${JSON.stringify(outDir)} }));`;
    const build = () => runProcess(tsx, ['-e', code], { cwd: ROOT });
    // act
    const results = await Promise.all([build(), build(), build()]);
    // assert
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(join(outDir, 'arm64'));
    }
    expect(layerProblems(join(outDir, 'arm64'), 'arm64')).toEqual([]);
    expect(readdirSync(outDir).sort()).toEqual(['arm64', 'arm64.manifest.json']);
  });

  it('keeps only what the binding needs: no byte-identical .so.1.x.y, no GPU providers, no darwin', () => {
    // prepare: a package shaped like a networked install (CUDA download) of a future release
    const real = join(NODE_MODULES, 'onnxruntime-node');
    const src = join(work, 'fake', 'node_modules');
    const pkg = join(src, 'onnxruntime-node');
    const native = join(pkg, 'bin/napi-v6/linux/x64');
    mkdirSync(native, { recursive: true });
    mkdirSync(join(pkg, 'bin/napi-v6/darwin/arm64'), { recursive: true });
    symlinkSync(join(real, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(real, 'dist'), join(pkg, 'dist'));
    symlinkSync(join(NODE_MODULES, 'onnxruntime-common'), join(src, 'onnxruntime-common'));
    const realNative = join(real, 'bin/napi-v6/linux/x64');
    symlinkSync(join(realNative, 'onnxruntime_binding.node'), join(native, 'onnxruntime_binding.node'));
    symlinkSync(join(realNative, 'libonnxruntime.so.1'), join(native, 'libonnxruntime.so.1'));
    symlinkSync(join(realNative, 'libonnxruntime.so.1'), join(native, 'libonnxruntime.so.1.30.0'));
    symlinkSync(
      join(realNative, 'onnxruntime_binding.node'),
      join(native, 'libonnxruntime_providers_cuda.so'),
    );
    writeFileSync(join(pkg, 'bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib'), 'not linux');
    // act
    const result = buildOnnxRuntimeLayerWithReport('x64', {
      outDir: join(work, 'fake-out'),
      nodeModulesDir: src,
    });
    // assert
    expect(listFiles(result.dir).filter((f) => f.includes('/bin/'))).toEqual([
      'nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    ]);
    expect(layerProblems(result.dir, 'x64')).toEqual([]);
  });

  it('fails with a clear error when the package ships no binding for the arch', () => {
    const src = join(work, 'empty', 'node_modules');
    mkdirSync(join(src, 'onnxruntime-node'), { recursive: true });
    mkdirSync(join(src, 'onnxruntime-common'), { recursive: true });
    writeFileSync(
      join(src, 'onnxruntime-node/package.json'),
      '{"name":"onnxruntime-node","version":"9.9.9"}',
    );
    writeFileSync(
      join(src, 'onnxruntime-common/package.json'),
      '{"name":"onnxruntime-common","version":"9.9.9"}',
    );
    const build = () =>
      buildOnnxRuntimeLayer('arm64', { outDir: join(work, 'empty-out'), nodeModulesDir: src });
    expect(build).toThrow(LayerBuildError);
    expect(build).toThrow(/no onnxruntime_binding\.node for linux\/arm64/);
  });

  const hostArch = process.platform === 'linux' ? (process.arch as LayerArch) : undefined;
  const loadIt = hostArch && LAYER_ARCHES.includes(hostArch) ? it : it.skip;

  loadIt('loads from the layer alone and runs an inference session on this machine', () => {
    // prepare: a model (the lead's tree model when it exists, else a hand-built Sigmoid)
    const arch = hostArch as LayerArch;
    const leadModel = join(LEAD_MODEL_DIR, 'model.onnx');
    const useLead = existsSync(leadModel) && existsSync(join(LEAD_MODEL_DIR, 'model.json'));
    let modelPath = join(work, 'sigmoid.onnx');
    let input = { name: 'x', row: [0, 1, -1], output: 'y' };
    if (useLead) {
      const card = JSON.parse(readFileSync(join(LEAD_MODEL_DIR, 'model.json'), 'utf8'));
      modelPath = leadModel;
      input = {
        name: card.input.name,
        row: card.features.map((f: { default: number }) => f.default),
        output: card.output.name,
      };
    } else {
      writeFileSync(modelPath, sigmoidModel());
    }
    const cwd = mkdtempSync(join(tmpdir(), 'ort-load-'));
    const script = `
      const ort = require('onnxruntime-node');
      (async () => {
        const session = await ort.InferenceSession.create(${JSON.stringify(modelPath)}, { intraOpNumThreads: 1 });
        const row = ${JSON.stringify(input.row)};
        const feeds = { ${JSON.stringify(input.name)}: new ort.Tensor('float32', Float32Array.from(row), [1, row.length]) };
        const out = await session.run(feeds);
        const first = out[${JSON.stringify(input.output)}];
        console.log(JSON.stringify({
          resolved: require.resolve('onnxruntime-node'),
          backends: ort.listSupportedBackends().map((b) => b.name),
          outputs: session.outputNames,
          values: Array.from(first.data).map(Number),
        }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    // act
    const run = runWithLayer(dirs[arch] as string, cwd, script);
    rmSync(cwd, { recursive: true, force: true });
    // assert
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop() as string);
    expect(result.resolved.startsWith(join(dirs[arch] as string, 'nodejs', 'node_modules'))).toBe(true);
    expect(result.backends).toContain('cpu');
    if (useLead) {
      expect(result.values.length).toBeGreaterThanOrEqual(1);
      // The card's output is a calibrated probability.
      for (const v of result.values) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    } else {
      expect(result.values[0]).toBeCloseTo(0.5, 6);
      expect(result.values[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
      expect(result.values[2]).toBeCloseTo(1 / (1 + Math.exp(1)), 6);
    }
  });
});
