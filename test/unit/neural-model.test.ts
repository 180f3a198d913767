/**
 * The committed fraud-seq model: serving reproduces the trainer (sequence code + ONNX graph +
 * stacker), the card describes the code's sequence spec, and the Triton repository holds the
 * same graph the card describes.
 */
import { readFileSync } from 'node:fs';
import { type Combination, combinationSchema, combineScores } from '#domain/neural';
import {
  RING_SIZE,
  SEQUENCE_FEATURES,
  SEQUENCE_SPEC_VERSION,
  SEQUENCE_STEPS,
  SEQUENCE_WIDTH,
} from '#domain/sequence';
import { checkNeuralParity } from '../../models/training/neural-parity';
import { parseModelConfig } from '../../services/neural/model-config';

const DIR = 'models/fraud-seq/1.0.0';
const card = JSON.parse(readFileSync(`${DIR}/model.json`, 'utf8'));

describe('fraud-seq 1.0.0', () => {
  it('onnxruntime-node on the serving sequence code reproduces torch on every replay case (≤ 1e-4)', async () => {
    // act
    const report = await checkNeuralParity(DIR);
    // assert
    expect(report.cases).toBe(256);
    expect(report.maxDiff).toBeLessThanOrEqual(1e-4);
    expect(report.maxCombinedDiff).toBeLessThanOrEqual(1e-4);
  });

  it('the card was trained on the code’s sequence spec', () => {
    // assert
    expect(card.sequenceSpecVersion).toBe(SEQUENCE_SPEC_VERSION);
    expect(card.sequence).toEqual({
      ringSize: RING_SIZE,
      steps: SEQUENCE_STEPS,
      width: SEQUENCE_WIDTH,
      features: SEQUENCE_FEATURES,
    });
    expect(card.inputs[0]).toMatchObject({
      name: 'sequence',
      dtype: 'float32',
      shape: [null, SEQUENCE_STEPS, SEQUENCE_WIDTH],
    });
  });

  it('the Triton repository holds the same graph and matching tensor dims', () => {
    // prepare
    const config = parseModelConfig(readFileSync(`${DIR}/triton/fraud-seq/config.pbtxt`, 'utf8'));
    // act
    const same = readFileSync(`${DIR}/model.onnx`).equals(
      readFileSync(`${DIR}/triton/fraud-seq/1/model.onnx`),
    );
    // assert
    expect(same).toBe(true);
    expect(config.inputs[0]?.dims).toEqual([SEQUENCE_STEPS, SEQUENCE_WIDTH]);
    expect(config.maxBatchSize).toBe(card.serving.maxBatchSize);
    expect(config.dynamicBatching?.preferredBatchSizes).toEqual(card.serving.preferredBatchSizes);
    expect(config.dynamicBatching?.maxQueueDelayMicroseconds).toBe(card.serving.maxQueueDelayMicroseconds);
  });

  it('thresholds are FPR bands, review below decline, for the neural model and the combination', () => {
    // act
    const combination = combinationSchema.parse(card.combination);
    // assert
    for (const t of [card.thresholds, combination.thresholds]) {
      expect(t.review.score).toBeLessThan(t.decline.score);
      expect(t.review.fpr).toBeLessThanOrEqual(0.01);
      expect(t.decline.fpr).toBeLessThanOrEqual(0.001);
    }
    expect(combination.treeModel).toEqual({ name: 'fraud-gbdt', version: '1.0.0' });
  });
});

describe('combineScores', () => {
  const combination: Combination = {
    method: 'logistic-stacker',
    treeModel: { name: 'fraud-gbdt', version: '1.0.0' },
    intercept: 0.5,
    tree: 0.5,
    neural: 0.5,
    clip: 1e-6,
    thresholds: {
      review: { score: 0.1, fpr: 0.01, recall: 0.9 },
      decline: { score: 0.5, fpr: 0.001, recall: 0.7 },
    },
  };

  it('is the logistic stacker formula', () => {
    // act
    const combined = combineScores(combination, 0.2, 0.6);
    // assert
    const logit = (p: number) => Math.log(p / (1 - p));
    expect(combined).toBeCloseTo(1 / (1 + Math.exp(-(0.5 + 0.5 * logit(0.2) + 0.5 * logit(0.6)))), 12);
  });

  it('clips 0 and 1 instead of producing infinities', () => {
    // act
    const low = combineScores(combination, 0, 0);
    const high = combineScores(combination, 1, 1);
    // assert
    expect(low).toBeGreaterThan(0);
    expect(high).toBeLessThan(1);
  });

  it('refuses a score that is not a probability', () => {
    // act / assert
    expect(() => combineScores(combination, Number.NaN, 0.5)).toThrow(RangeError);
    expect(() => combineScores(combination, 0.5, 1.5)).toThrow(RangeError);
  });
});
