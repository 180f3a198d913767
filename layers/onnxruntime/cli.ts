/**
 * `npm run layer:build -- [--arch x64|arm64|all] [--out-dir DIR] [--force]`: builds the pruned
 * onnxruntime layer(s) and prints every file with its size, the total and an estimated zip size.
 */
import { parseArgs } from 'node:util';
import {
  buildOnnxRuntimeLayerWithReport,
  estimateZippedBytes,
  formatLayerSummary,
  LAYER_ARCHES,
  type LayerArch,
} from './build';

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
