/** `tsx models/training/verify-parity.ts MODEL_DIR`: fails (exit 1) when serving disagrees with the trainer. */
import { checkParity } from './parity';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: verify-parity MODEL_DIR\n');
    process.exit(2);
  }
  const report = await checkParity(dir);
  process.stderr.write(
    `parity: ${report.cases} replay cases, max |onnxruntime − trainer| = ${report.maxDiff.toExponential(2)} (tolerance ${report.tolerance})\n`,
  );
  if (!(report.maxDiff <= report.tolerance)) {
    process.stderr.write(`parity FAILED, worst case: ${JSON.stringify(report.worst)}\n`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`verify-parity: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
