/** `tsx models/training/verify-neural-parity.ts MODEL_DIR`: exit 1 when serving disagrees with torch. */
import { checkNeuralParity } from './neural-parity';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: verify-neural-parity MODEL_DIR\n');
    process.exit(2);
  }
  const report = await checkNeuralParity(dir);
  process.stderr.write(
    `parity: ${report.cases} replay cases, max |onnxruntime − torch| = ${report.maxDiff.toExponential(2)}, combined ${report.maxCombinedDiff.toExponential(2)} (tolerance ${report.tolerance})\n`,
  );
  if (!(report.maxDiff <= report.tolerance && report.maxCombinedDiff <= report.tolerance)) {
    process.stderr.write(`parity FAILED, worst case: ${JSON.stringify(report.worst)}\n`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`verify-neural-parity: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
