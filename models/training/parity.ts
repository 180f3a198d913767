/**
 * Parity between the trainer and serving: onnxruntime-node must reproduce the trainer's
 * probability for every replay case. Used by `npm run train` (verify-parity.ts) and the
 * test suite.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';

/** One line of `replay.jsonl`. */
export interface ReplayCase {
  transactionId: string;
  request: Record<string, unknown>;
  features: number[];
  score: number;
  label: 0 | 1;
}

export function readReplay(modelDir: string): ReplayCase[] {
  return readFileSync(join(modelDir, 'replay.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ReplayCase);
}

export interface ParityReport {
  cases: number;
  maxDiff: number;
  tolerance: number;
  worst?: { transactionId: string; expected: number; got: number };
}

export async function checkParity(modelDir: string): Promise<ParityReport> {
  const runner = await OnnxModelRunner.load(modelDir);
  const cases = readReplay(modelDir);
  const scores = await runner.score(cases.map((c) => c.features));
  let maxDiff = 0;
  let worst: ParityReport['worst'];
  cases.forEach((c, i) => {
    const got = scores[i] as number;
    const diff = Math.abs(got - c.score);
    if (diff > maxDiff || Number.isNaN(diff)) {
      maxDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
      worst = { transactionId: c.transactionId, expected: c.score, got };
    }
  });
  return { cases: cases.length, maxDiff, tolerance: runner.card.replay.tolerance, worst };
}
