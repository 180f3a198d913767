/**
 * Builds the pruned onnxruntime Lambda layer for one architecture:
 *
 *   <outDir>/<arch>/nodejs/node_modules/onnxruntime-node     package.json, dist/*.js, bin/napi-v*\/linux/<arch>/
 *   <outDir>/<arch>/nodejs/node_modules/onnxruntime-common   package.json, dist/{cjs,esm}/*.js
 *   <outDir>/<arch>.manifest.json                             version, arch, files, sizes, hashes
 *
 * The npm package ships every platform (≈ 290 MB: macOS, Windows with DirectML, both Linux
 * arches); a Lambda needs one Linux arch. The native files kept are exactly the binding and
 * the DT_NEEDED closure it has inside its own directory, read from the ELF headers, so a
 * release that adds CUDA/TensorRT provider libraries or a byte-identical
 * `libonnxruntime.so.1.x.y` next to `libonnxruntime.so.1` cannot bloat the layer: those are
 * dlopen'ed for GPU execution providers or are packaging duplicates, never loaded on CPU.
 *
 * Synchronous on purpose: the CDK app calls {@link buildOnnxRuntimeLayer} while synthesizing,
 * and CDK constructs are built synchronously. A manifest makes repeated synths cheap: when the
 * source versions and the recipe are unchanged and the files are in place, nothing is copied.
 *
 *   npm run layer:build -- [--arch x64|arm64|all] [--out-dir DIR] [--force]
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { ELF_MACHINE, readElfInfo, readElfMachine } from './elf';

/** Node.js `process.arch` names of the two Lambda architectures (CDK calls them X86_64 and ARM_64). */
export type LayerArch = 'x64' | 'arm64';

export const LAYER_ARCHES: readonly LayerArch[] = ['x64', 'arm64'];

/** One mebibyte; sizes in this file are reported in MiB ("MB"), as Lambda's quotas are. */
export const MB = 1024 * 1024;

/**
 * Size budget of the unzipped layer. Lambda allows 250 MB for function + layers; the
 * onnxruntime CPU runtime needs ≈ 46 MB on x64 and ≈ 26 MB on arm64, so 60 MB leaves room
 * for a release or two of growth and fails loudly if a pruning rule stops working.
 */
export const LAYER_BUDGET_BYTES = 60 * MB;

/**
 * Bump when the selection rules below change, so existing builds are not mistaken for
 * up to date.
 */
const RECIPE = 1;

/** The binding `dist/binding.js` requires: `bin/napi-v<N>/<platform>/<arch>/onnxruntime_binding.node`. */
const BINDING = 'onnxruntime_binding.node';

/** Dependencies of onnxruntime-node that only its install script uses (downloads of CUDA files). */
const RUNTIME_DEPENDENCIES = new Set(['onnxruntime-common']);

/**
 * package.json fields that must not reach the layer: nothing installs or builds there, and
 * `types` would point at typings the layer does not carry.
 */
const DROPPED_PACKAGE_FIELDS = ['scripts', 'devDependencies', 'binary', 'types', 'typings'];

/** The layer could not be built, or the result breaks one of its invariants. */
export class LayerBuildError extends Error {
  override readonly name = 'LayerBuildError';
}

export interface BuildLayerOptions {
  /**
   * Directory that receives one layer directory per architecture (`<outDir>/<arch>`).
   * @default layers/onnxruntime/build
   */
  outDir?: string;
  /**
   * The `node_modules` holding onnxruntime-node and onnxruntime-common.
   * @default resolved from this file, as Node.js would
   */
  nodeModulesDir?: string;
  /** Copy everything again even if the manifest says the layer is up to date. @default false */
  force?: boolean;
  /** Fail the build above this many unzipped bytes. @default LAYER_BUDGET_BYTES */
  maxBytes?: number;
}

export interface LayerFile {
  /** Path relative to the layer directory, with forward slashes (`nodejs/node_modules/...`). */
  path: string;
  bytes: number;
  sha256: string;
}

/** Written next to the layer directory as `<arch>.manifest.json` (outside the asset, so it cannot change its hash). */
export interface LayerManifest {
  recipe: number;
  arch: LayerArch;
  platform: 'linux';
  onnxruntimeNode: string;
  onnxruntimeCommon: string;
  /** Hash over the selected source files' paths and sizes: a reinstall with other bytes rebuilds. */
  sourceFingerprint: string;
  /** Native files kept and why: the DT_NEEDED chain starting at the binding. */
  nativeLibraries: { file: string; needed: string[] }[];
  files: LayerFile[];
  totalBytes: number;
}

export interface LayerBuildResult {
  /** The layer directory, holding `nodejs/` (what `lambda.Code.fromAsset` takes). */
  dir: string;
  manifestPath: string;
  manifest: LayerManifest;
  /** False when the existing build was up to date and nothing was copied. */
  rebuilt: boolean;
}

/** A file to copy: where it comes from and where it goes inside the layer, or content to write. */
interface PlannedFile {
  path: string;
  source?: string;
  content?: Buffer;
}

/**
 * Builds (or reuses) the onnxruntime layer for one architecture and returns the layer
 * directory — the one that contains `nodejs/`, ready for `lambda.Code.fromAsset(dir)`.
 *
 * @param arch `x64` for `Architecture.X86_64`, `arm64` for `Architecture.ARM_64`
 * @throws LayerBuildError when the packages are missing, the binding for `arch` is not
 *   shipped, a native file has the wrong machine type, two files are identical, or the layer
 *   exceeds the size budget
 */
export function buildOnnxRuntimeLayer(arch: LayerArch, options: BuildLayerOptions = {}): string {
  return buildOnnxRuntimeLayerWithReport(arch, options).dir;
}

/** {@link buildOnnxRuntimeLayer} with the manifest and whether anything was rebuilt, for the CLI and tests. */
export function buildOnnxRuntimeLayerWithReport(
  arch: LayerArch,
  options: BuildLayerOptions = {},
): LayerBuildResult {
  if (!LAYER_ARCHES.includes(arch)) {
    throw new LayerBuildError(
      `unsupported arch "${String(arch)}": expected one of ${LAYER_ARCHES.join(', ')}`,
    );
  }
  const outDir = resolve(options.outDir ?? join(__dirname, 'build'));
  const dir = join(outDir, arch);
  const manifestPath = join(outDir, `${arch}.manifest.json`);
  const sources = locatePackages(options.nodeModulesDir);
  const plan = planLayer(arch, sources);
  const sourceFingerprint = fingerprint(plan.files);

  // Jest workers and parallel synths may build the same arch at once: one builds, the
  // others wait and then find it up to date.
  mkdirSync(outDir, { recursive: true });
  return withLock(join(outDir, `.${arch}.lock`), () => {
    if (!options.force) {
      const existing = readManifest(manifestPath);
      if (
        existing &&
        existing.recipe === RECIPE &&
        existing.arch === arch &&
        existing.onnxruntimeNode === sources.nodeVersion &&
        existing.onnxruntimeCommon === sources.commonVersion &&
        existing.sourceFingerprint === sourceFingerprint &&
        filesInPlace(dir, existing.files)
      ) {
        return { dir, manifestPath, manifest: existing, rebuilt: false };
      }
    }

    // Build next to the target and swap it in, so an interrupted build never leaves a
    // half-copied layer that a later synth would zip.
    const staging = join(outDir, `.${arch}.partial-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    try {
      for (const file of plan.files) {
        const target = join(staging, ...file.path.split('/'));
        mkdirSync(dirname(target), { recursive: true });
        if (file.content) writeFileSync(target, file.content);
        else if (file.source) copyFileSync(file.source, target);
      }
      const files = plan.files.map((file) => describe(staging, file.path));
      const manifest: LayerManifest = {
        recipe: RECIPE,
        arch,
        platform: 'linux',
        onnxruntimeNode: sources.nodeVersion,
        onnxruntimeCommon: sources.commonVersion,
        sourceFingerprint,
        nativeLibraries: plan.nativeLibraries,
        files,
        totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
      };
      verifyLayer(staging, manifest, options.maxBytes ?? LAYER_BUDGET_BYTES);
      rmSync(manifestPath, { force: true });
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
      writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
      return { dir, manifestPath, manifest, rebuilt: true };
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  });
}

/** A lock older than this belongs to a build that crashed; a real build takes seconds. */
const STALE_LOCK_MS = 10 * 60_000;
const LOCK_WAIT_MS = 5 * 60_000;

/**
 * Runs `fn` holding an exclusive lock file. Synchronous like the build: waits with
 * `Atomics.wait`, which blocks the thread without spinning.
 */
function withLock<T>(lockPath: string, fn: () => T): T {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const giveUpAt = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > STALE_LOCK_MS) rmSync(lockPath, { force: true });
      } catch {
        // The holder released it between our attempts: try again.
      }
      if (Date.now() > giveUpAt)
        throw new LayerBuildError(`timed out waiting for the build lock ${lockPath}`);
      Atomics.wait(sleeper, 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

interface PackageSources {
  nodeDir: string;
  commonDir: string;
  nodeVersion: string;
  commonVersion: string;
}

function locatePackages(nodeModulesDir: string | undefined): PackageSources {
  let nodeDir: string;
  if (nodeModulesDir) {
    nodeDir = join(nodeModulesDir, 'onnxruntime-node');
  } else {
    try {
      nodeDir = dirname(require.resolve('onnxruntime-node/package.json', { paths: [__dirname] }));
    } catch (error) {
      throw new LayerBuildError('onnxruntime-node is not installed: run npm ci first', { cause: error });
    }
  }
  if (!existsSync(join(nodeDir, 'package.json')))
    throw new LayerBuildError(`onnxruntime-node not found at ${nodeDir}`);
  // onnxruntime-common has an `exports` map without `./package.json`, so look it up the way
  // Node.js would from onnxruntime-node: nested first, then every node_modules above.
  const candidates = [join(nodeDir, 'node_modules', 'onnxruntime-common')];
  for (let d = dirname(nodeDir); d !== dirname(d); d = dirname(d)) {
    if (d.endsWith(`${sep}node_modules`)) candidates.push(join(d, 'onnxruntime-common'));
  }
  const commonDir = candidates.find((c) => existsSync(join(c, 'package.json')));
  if (!commonDir) throw new LayerBuildError(`onnxruntime-common not found next to ${nodeDir}`);
  const nodeVersion = readPackageJson(nodeDir).version;
  const commonVersion = readPackageJson(commonDir).version;
  if (typeof nodeVersion !== 'string' || typeof commonVersion !== 'string')
    throw new LayerBuildError('onnxruntime package.json without a version');
  return { nodeDir, commonDir, nodeVersion, commonVersion };
}

function readPackageJson(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
}

/** The package.json that goes into the layer: same identity and entry points, nothing that installs or builds. */
function runtimePackageJson(dir: string): Buffer {
  const pkg = readPackageJson(dir);
  for (const field of DROPPED_PACKAGE_FIELDS) delete pkg[field];
  if (pkg.dependencies && typeof pkg.dependencies === 'object') {
    pkg.dependencies = Object.fromEntries(
      Object.entries(pkg.dependencies).filter(([name]) => RUNTIME_DEPENDENCIES.has(name)),
    );
  }
  return Buffer.from(`${JSON.stringify(pkg, null, 2)}\n`);
}

/** Every file under `root/sub`, as paths relative to `root` with forward slashes, sorted. */
function walk(root: string, sub: string): string[] {
  const start = join(root, sub);
  if (!existsSync(start)) return [];
  const out: string[] = [];
  const visit = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile() || entry.isSymbolicLink()) out.push(relative(root, full).split(sep).join('/'));
    }
  };
  visit(start);
  return out.sort();
}

/** JavaScript that Node.js loads at run time: `.js`/`.cjs`/`.mjs` and the `{"type": ...}` markers; no typings, maps or sources. */
function isRuntimeJs(path: string): boolean {
  return /\.(c|m)?js$/.test(path) || path.endsWith('/package.json');
}

function planLayer(
  arch: LayerArch,
  sources: PackageSources,
): { files: PlannedFile[]; nativeLibraries: LayerManifest['nativeLibraries'] } {
  const files: PlannedFile[] = [];
  const base = 'nodejs/node_modules';
  const add = (pkg: string, dir: string, paths: string[]) => {
    for (const p of paths) files.push({ path: `${base}/${pkg}/${p}`, source: join(dir, ...p.split('/')) });
  };

  files.push({ path: `${base}/onnxruntime-node/package.json`, content: runtimePackageJson(sources.nodeDir) });
  add('onnxruntime-node', sources.nodeDir, walk(sources.nodeDir, 'dist').filter(isRuntimeJs));

  const napiDirs = existsSync(join(sources.nodeDir, 'bin'))
    ? readdirSync(join(sources.nodeDir, 'bin')).filter((d) => /^napi-v\d+$/.test(d))
    : [];
  const nativeLibraries: LayerManifest['nativeLibraries'] = [];
  for (const napi of napiDirs.sort()) {
    const rel = `bin/${napi}/linux/${arch}`;
    const native = join(sources.nodeDir, rel);
    if (!existsSync(join(native, BINDING))) continue;
    for (const file of neededClosure(native)) {
      add('onnxruntime-node', sources.nodeDir, [`${rel}/${file.file}`]);
      nativeLibraries.push({ file: `${rel}/${file.file}`, needed: file.needed });
    }
  }
  if (nativeLibraries.length === 0) {
    throw new LayerBuildError(
      `onnxruntime-node ${sources.nodeVersion} ships no ${BINDING} for linux/${arch} under bin/napi-v*/`,
    );
  }

  files.push({
    path: `${base}/onnxruntime-common/package.json`,
    content: runtimePackageJson(sources.commonDir),
  });
  add('onnxruntime-common', sources.commonDir, walk(sources.commonDir, 'dist').filter(isRuntimeJs));
  return { files, nativeLibraries };
}

/**
 * The binding plus every library it needs, transitively, that lives in its own directory
 * (the binding's RUNPATH is `$ORIGIN/`; system libraries such as libstdc++ come from the
 * Lambda image). Names a DT_NEEDED entry uses are the names kept, so of two copies of
 * libonnxruntime only the one the loader asks for survives.
 */
function neededClosure(dir: string): { file: string; needed: string[] }[] {
  const present = new Set(readdirSync(dir));
  const seen = new Map<string, string[]>();
  const queue = [BINDING];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    const needed = readElfInfo(join(dir, file)).needed;
    seen.set(file, needed);
    for (const lib of needed) if (present.has(lib) && !seen.has(lib)) queue.push(lib);
  }
  return [...seen.entries()].map(([file, needed]) => ({ file, needed }));
}

function fingerprint(files: PlannedFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    const size = file.content ? file.content.length : statSync(file.source as string).size;
    hash.update(`${file.path}\0${size}\n`);
    if (file.content) hash.update(file.content);
  }
  return hash.digest('hex');
}

function describe(root: string, path: string): LayerFile {
  const full = join(root, ...path.split('/'));
  const bytes = statSync(full).size;
  const sha256 = createHash('sha256').update(readFileSync(full)).digest('hex');
  return { path, bytes, sha256 };
}

function readManifest(path: string): LayerManifest | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LayerManifest;
  } catch {
    return undefined;
  }
}

function filesInPlace(dir: string, files: LayerFile[]): boolean {
  const listed = walk(dir, 'nodejs');
  if (listed.length !== files.length) return false;
  return files.every((f) => {
    const full = join(dir, ...f.path.split('/'));
    return existsSync(full) && statSync(full).size === f.bytes;
  });
}

/** The invariants the layer test checks as well, enforced at build time so a bad layer never reaches a synth. */
function verifyLayer(dir: string, manifest: LayerManifest, maxBytes: number): void {
  const expected = ELF_MACHINE[manifest.arch];
  for (const file of manifest.files) {
    if (/\/(darwin|win32)\//.test(file.path))
      throw new LayerBuildError(`non-Linux file in the layer: ${file.path}`);
    const machine = readElfMachine(join(dir, ...file.path.split('/')));
    if (machine !== undefined && machine !== expected) {
      throw new LayerBuildError(
        `${file.path} is built for ELF machine ${machine}, expected ${expected} (${manifest.arch})`,
      );
    }
  }
  // Only native files: two tiny identical JS files (both packages' version.js) are legitimate.
  const byHash = new Map<string, string>();
  for (const file of manifest.files.filter((f) => /\.(so(\.\d+)*|node)$/.test(f.path))) {
    const other = byHash.get(file.sha256);
    if (other) throw new LayerBuildError(`duplicate native library: ${file.path} is identical to ${other}`);
    byHash.set(file.sha256, file.path);
  }
  if (manifest.totalBytes > maxBytes) {
    throw new LayerBuildError(
      `layer for ${manifest.arch} is ${(manifest.totalBytes / MB).toFixed(1)} MB unzipped, over the ${(maxBytes / MB).toFixed(0)} MB budget`,
    );
  }
}

/** Human-readable summary of one build: every file with its size, the total and an estimated zip size. */
export function formatLayerSummary(result: LayerBuildResult, zippedBytes?: number): string {
  const { manifest } = result;
  const width = Math.max(...manifest.files.map((f) => f.path.length));
  const lines = [
    `onnxruntime-node ${manifest.onnxruntimeNode} layer for linux/${manifest.arch} — ${result.rebuilt ? 'built' : 'up to date'}`,
    `  ${result.dir}`,
    ...manifest.files.map((f) => `  ${f.path.padEnd(width)}  ${(f.bytes / MB).toFixed(2).padStart(7)} MB`),
    `  ${'total (unzipped)'.padEnd(width)}  ${(manifest.totalBytes / MB).toFixed(2).padStart(7)} MB  (${((100 * manifest.totalBytes) / LAYER_BUDGET_BYTES).toFixed(0)}% of the ${LAYER_BUDGET_BYTES / MB} MB budget)`,
  ];
  if (zippedBytes !== undefined)
    lines.push(`  ${'zipped (estimate)'.padEnd(width)}  ${(zippedBytes / MB).toFixed(2).padStart(7)} MB`);
  return lines.join('\n');
}

/** Deflate size of the layer's files, close to what the CDK asset zip will weigh. */
function estimateZippedBytes(result: LayerBuildResult): number {
  return result.manifest.files.reduce(
    (sum, f) => sum + deflateRawSync(readFileSync(join(result.dir, ...f.path.split('/')))).length,
    0,
  );
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run layer:build -- [--arch x64|arm64|all] [--out-dir DIR] [--force]\n`,
  );
  process.exit(2);
}

function main(): void {
  let values: { arch?: string; 'out-dir'?: string; force?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        arch: { type: 'string', default: 'all' },
        'out-dir': { type: 'string' },
        force: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  const requested = values.arch ?? 'all';
  const arches = requested === 'all' ? LAYER_ARCHES : [requested as LayerArch];
  if (!arches.every((a) => LAYER_ARCHES.includes(a)))
    usage(`--arch must be x64, arm64 or all, got ${requested}`);
  for (const arch of arches) {
    const result = buildOnnxRuntimeLayerWithReport(arch, { outDir: values['out-dir'], force: values.force });
    process.stdout.write(`${formatLayerSummary(result, estimateZippedBytes(result))}\n\n`);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exit(1);
  }
}
