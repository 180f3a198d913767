/**
 * Parity between the neural trainer and serving: the sequence input rebuilt by
 * `#domain/sequence` from each replay case's stored ring and request, run by
 * onnxruntime-node, must reproduce torch's probability within the card's tolerance (1e-4),
 * and `combineScores` must reproduce the trainer's stacked score. This checks the feature
 * code and the exported graph together. Used by `npm run train:neural` and the test suite.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { type Combination, combinationSchema, combineScores } from '#domain/neural';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH, type SequenceRing, sequenceTensor } from '#domain/sequence';
import type { ScoreRequest } from '#domain/types';

const { InferenceSession, Tensor }: typeof Ort = require('onnxruntime-node');

/** One line of the neural model's `replay.jsonl`. */
export interface NeuralReplayCase {
  transactionId: string;
  request: ScoreRequest;
  ring: SequenceRing;
  score: number;
  treeScore: number;
  combinedScore: number;
  label: 0 | 1;
  pattern: string;
}

export function readNeuralReplay(modelDir: string): NeuralReplayCase[] {
  return readFileSync(join(modelDir, 'replay.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as NeuralReplayCase);
}

/** The replay cases' inputs as one `[cases, SEQUENCE_STEPS, SEQUENCE_WIDTH]` batch. */
export function replayBatch(cases: readonly NeuralReplayCase[]): Float32Array {
  const data = new Float32Array(cases.length * SEQUENCE_STEPS * SEQUENCE_WIDTH);
  cases.forEach((c, i) => {
    data.set(
      sequenceTensor(c.ring, c.request, Date.parse(c.request.timestamp)).data,
      i * SEQUENCE_STEPS * SEQUENCE_WIDTH,
    );
  });
  return data;
}

export interface NeuralParityReport {
  cases: number;
  tolerance: number;
  maxDiff: number;
  maxCombinedDiff: number;
  worst?: { transactionId: string; expected: number; got: number };
}

export async function checkNeuralParity(modelDir: string): Promise<NeuralParityReport> {
  const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as {
    replay: { tolerance: number };
    combination: unknown;
  };
  const combination: Combination = combinationSchema.parse(card.combination);
  const cases = readNeuralReplay(modelDir);
  const session = await InferenceSession.create(join(modelDir, 'model.onnx'), { intraOpNumThreads: 1 });
  const output = await session.run({
    sequence: new Tensor('float32', replayBatch(cases), [cases.length, SEQUENCE_STEPS, SEQUENCE_WIDTH]),
  });
  const scores = output.score?.data as Float32Array;
  let maxDiff = 0;
  let maxCombinedDiff = 0;
  let worst: NeuralParityReport['worst'];
  cases.forEach((c, i) => {
    const got = scores[i] as number;
    const diff = Math.abs(got - c.score);
    if (!(diff <= maxDiff)) {
      maxDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
      worst = { transactionId: c.transactionId, expected: c.score, got };
    }
    const combined = Math.abs(combineScores(combination, c.treeScore, got) - c.combinedScore);
    maxCombinedDiff = Math.max(maxCombinedDiff, Number.isNaN(combined) ? Number.POSITIVE_INFINITY : combined);
  });
  await session.release();
  return { cases: cases.length, tolerance: card.replay.tolerance, maxDiff, maxCombinedDiff, worst };
}
