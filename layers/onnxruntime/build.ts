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
 * The CLI is `cli.ts` (`npm run layer:build -- [--arch x64|arm64|all] [--out-dir DIR] [--force]`).
 */
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { withLock } from './lock';
import {
  describe,
  filesInPlace,
  LAYER_ARCHES,
  LAYER_BUDGET_BYTES,
  type LayerArch,
  LayerBuildError,
  type LayerManifest,
  MB,
  readManifest,
  verifyLayer,
} from './manifest';
import { fingerprint, locatePackages, planLayer } from './sources';

export {
  LAYER_ARCHES,
  LAYER_BUDGET_BYTES,
  type LayerArch,
  LayerBuildError,
  type LayerFile,
  type LayerManifest,
  MB,
} from './manifest';

/**
 * Bump when the selection rules change, so existing builds are not mistaken for up to date.
 */
const RECIPE = 1;

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

export interface LayerBuildResult {
  /** The layer directory, holding `nodejs/` (what `lambda.Code.fromAsset` takes). */
  dir: string;
  manifestPath: string;
  manifest: LayerManifest;
  /** False when the existing build was up to date and nothing was copied. */
  rebuilt: boolean;
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
export function estimateZippedBytes(result: LayerBuildResult): number {
  return result.manifest.files.reduce(
    (sum, f) => sum + deflateRawSync(readFileSync(join(result.dir, ...f.path.split('/')))).length,
    0,
  );
}
