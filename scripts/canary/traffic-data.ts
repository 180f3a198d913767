/**
 * The canary simulator's measured inputs (`scripts/canary/data/`, built by
 * `build-traffic-sample.ts`): simulated traffic scored by the real model, the latency distribution
 * measured on the local stack, and the model card's thresholds and score bins.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DATA = join(__dirname, 'data');

export interface TrafficSample {
  readonly segmentKeys: readonly string[];
  readonly segment: readonly number[];
  readonly score: readonly number[];
  readonly amountLog: readonly number[];
  readonly cardCount24h: readonly number[];
}

export interface LatencyProfile {
  readonly mu: number;
  readonly sigma: number;
}

export interface ModelThresholds {
  readonly review: number;
  readonly decline: number;
  readonly edges: readonly number[];
}

export function loadTrafficSample(): TrafficSample {
  const [header, ...columns] = readFileSync(join(DATA, 'traffic-sample.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const sample: Record<string, unknown> = { segmentKeys: header.segmentKeys };
  for (const { column, values } of columns) sample[column] = values;
  return sample as unknown as TrafficSample;
}

export function loadLatencyProfile(): LatencyProfile {
  return JSON.parse(readFileSync(join(DATA, 'latency-profile.json'), 'utf8'));
}

/** The card's thresholds and score bins (`models/fraud-gbdt/1.0.0/model.json`). */
export function loadModelThresholds(
  modelDir = join(__dirname, '..', '..', 'models', 'fraud-gbdt', '1.0.0'),
): ModelThresholds {
  const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  return {
    review: card.thresholds.review.score,
    decline: card.thresholds.decline.score,
    edges: card.scoreHistogram.edges,
  };
}
