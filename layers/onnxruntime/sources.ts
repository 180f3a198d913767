/**
 * Where the layer's files come from: the installed onnxruntime-node and onnxruntime-common
 * packages, and the plan of which of their files a Linux Lambda of one architecture needs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { readElfInfo } from './elf';
import { type LayerArch, LayerBuildError, type LayerManifest, walk } from './manifest';

/** The binding `dist/binding.js` requires: `bin/napi-v<N>/<platform>/<arch>/onnxruntime_binding.node`. */
const BINDING = 'onnxruntime_binding.node';

/** Dependencies of onnxruntime-node that only its install script uses (downloads of CUDA files). */
const RUNTIME_DEPENDENCIES = new Set(['onnxruntime-common']);

/**
 * package.json fields that must not reach the layer: nothing installs or builds there, and
 * `types` would point at typings the layer does not carry.
 */
const DROPPED_PACKAGE_FIELDS = ['scripts', 'devDependencies', 'binary', 'types', 'typings'];

/** A file to copy: where it comes from and where it goes inside the layer, or content to write. */
export interface PlannedFile {
  path: string;
  source?: string;
  content?: Buffer;
}

export interface PackageSources {
  nodeDir: string;
  commonDir: string;
  nodeVersion: string;
  commonVersion: string;
}

export function locatePackages(nodeModulesDir: string | undefined): PackageSources {
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

/** JavaScript that Node.js loads at run time: `.js`/`.cjs`/`.mjs` and the `{"type": ...}` markers; no typings, maps or sources. */
function isRuntimeJs(path: string): boolean {
  return /\.(c|m)?js$/.test(path) || path.endsWith('/package.json');
}

export function planLayer(
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

export function fingerprint(files: PlannedFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    const size = file.content ? file.content.length : statSync(file.source as string).size;
    hash.update(`${file.path}\0${size}\n`);
    if (file.content) hash.update(file.content);
  }
  return hash.digest('hex');
}
