/**
 * The layer's manifest and its invariants: what a built layer holds (files, sizes, hashes,
 * the native DT_NEEDED chain) and the checks every build must pass before a synth may zip it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ELF_MACHINE, readElfMachine } from './elf';

/** Node.js `process.arch` names of the two Lambda architectures (CDK calls them X86_64 and ARM_64). */
export type LayerArch = 'x64' | 'arm64';

export const LAYER_ARCHES: readonly LayerArch[] = ['x64', 'arm64'];

/** One mebibyte; sizes are reported in MiB ("MB"), as Lambda's quotas are. */
export const MB = 1024 * 1024;

/**
 * Size budget of the unzipped layer. Lambda allows 250 MB for function + layers; the
 * onnxruntime CPU runtime needs ≈ 46 MB on x64 and ≈ 26 MB on arm64, so 60 MB leaves room
 * for a release or two of growth and fails loudly if a pruning rule stops working.
 */
export const LAYER_BUDGET_BYTES = 60 * MB;

/** The layer could not be built, or the result breaks one of its invariants. */
export class LayerBuildError extends Error {
  override readonly name = 'LayerBuildError';
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

export function describe(root: string, path: string): LayerFile {
  const full = join(root, ...path.split('/'));
  const bytes = statSync(full).size;
  const sha256 = createHash('sha256').update(readFileSync(full)).digest('hex');
  return { path, bytes, sha256 };
}

export function readManifest(path: string): LayerManifest | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LayerManifest;
  } catch {
    return undefined;
  }
}

export function filesInPlace(dir: string, files: LayerFile[]): boolean {
  const listed = walk(dir, 'nodejs');
  if (listed.length !== files.length) return false;
  return files.every((f) => {
    const full = join(dir, ...f.path.split('/'));
    return existsSync(full) && statSync(full).size === f.bytes;
  });
}

/** The invariants the layer test checks as well, enforced at build time so a bad layer never reaches a synth. */
export function verifyLayer(dir: string, manifest: LayerManifest, maxBytes: number): void {
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

/** Every file under `root/sub`, as paths relative to `root` with forward slashes, sorted. */
export function walk(root: string, sub: string): string[] {
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
