/**
 * Adds the `monitoring` block to a trained model card: the top features by the model's own
 * importance and each one's training histogram, which the score function publishes as
 * `FeatureValue` and the drift monitor compares live traffic against. A separate step of
 * `train.sh` (after training, before parity), so `train.py` does not need to know about it.
 *
 *   npx tsx models/training/card-monitoring.ts --work DIR --model DIR [--top 5] [--bins 10]
 *     [--sample 2000] [--seed 42]
 *
 * Importance: the mean |score − score with the feature at its default| over a seeded sample of
 * training rows, scored by the ONNX model through the serving runner — the reason codes'
 * contribution, so "top feature" means what the answers' reasons mean. Histograms: every
 * training-period row (`training.data.trainPeriod.end` of the card, else every row) of
 * `DIR/features.csv`, on quantile edges (`#domain/monitoring/baseline`).
 */
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import { parseModelCard } from '#domain/model-card';
import {
  type FeatureBaseline,
  meanAbsoluteContribution,
  quantileBaseline,
  topByImportance,
} from '#domain/monitoring/baseline';
import { mulberry32 } from '#domain/random';

const { values } = parseArgs({
  options: {
    work: { type: 'string' },
    model: { type: 'string' },
    top: { type: 'string', default: '5' },
    bins: { type: 'string', default: '10' },
    sample: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '42' },
  },
});
if (!values.work || !values.model) {
  process.stderr.write(
    'usage: card-monitoring.ts --work DIR --model DIR [--top 5] [--bins 10] [--sample 2000]\n',
  );
  process.exit(2);
}
const work = values.work;
const modelDir = values.model;
const top = Number(values.top);
const bins = Number(values.bins);
const sampleSize = Number(values.sample);

/** Streams the training-period rows of features.csv: (row index, feature values). */
async function forEachRow(until: number, visit: (features: number[]) => void): Promise<string[]> {
  const lines = createInterface({ input: createReadStream(join(work, 'features.csv')), crlfDelay: Infinity });
  let header: string[] | undefined;
  for await (const line of lines) {
    if (!header) {
      header = line.split(',');
      continue;
    }
    const cells = line.split(',');
    if (Number(cells[1]) >= until) continue;
    visit(cells.slice(3).map(Number));
  }
  if (!header) throw new Error(`${work}/features.csv is empty`);
  return header.slice(3);
}

async function main(): Promise<void> {
  const cardPath = join(modelDir, 'model.json');
  const raw = JSON.parse(readFileSync(cardPath, 'utf8')) as Record<string, unknown>;
  const card = parseModelCard(raw);
  const trainEnd = (card.training.data.trainPeriod as { end?: string } | undefined)?.end;
  const until = trainEnd ? Date.parse(trainEnd) : Number.POSITIVE_INFINITY;
  const names = card.features.map((f) => f.name);
  const defaults = card.features.map((f) => f.default);

  // Pass 1: a seeded reservoir sample of training rows, for importance.
  const random = mulberry32(Number(values.seed));
  const sample: number[][] = [];
  let seen = 0;
  const header = await forEachRow(until, (row) => {
    seen += 1;
    if (sample.length < sampleSize) sample.push(row);
    else {
      const j = Math.floor(random() * seen);
      if (j < sampleSize) sample[j] = row;
    }
  });
  if (header.join(',') !== names.join(','))
    throw new Error('features.csv columns differ from the card features');

  const model = await OnnxModelRunner.load(modelDir);
  const scores: number[] = [];
  const perturbed: number[][] = [];
  for (const row of sample) {
    const batch = [row, ...names.map((_, i) => row.map((v, k) => (k === i ? (defaults[i] as number) : v)))];
    const out = await model.score(batch);
    scores.push(out[0] as number);
    perturbed.push(out.slice(1));
  }
  const importance = meanAbsoluteContribution(scores, perturbed);
  const topFeatures = topByImportance(names, importance, top);

  // Pass 2: every training-period value of the top features.
  const columns = topFeatures.map((name) => names.indexOf(name));
  const collected = topFeatures.map(() => [] as number[]);
  await forEachRow(until, (row) => {
    columns.forEach((column, k) => {
      collected[k]?.push(row[column] as number);
    });
  });
  const featureHistograms: Record<string, FeatureBaseline> = {};
  topFeatures.forEach((name, k) => {
    const baseline = quantileBaseline(collected[k] as number[], bins);
    featureHistograms[name] = {
      edges: baseline.edges.map((e) => Number(e.toPrecision(10))),
      fractions: baseline.fractions.map((f) => Number(f.toFixed(6))),
    };
  });

  raw.monitoring = {
    topFeatures,
    importance:
      'mean |score - score with the feature at its default| over training rows (reason-code contribution)',
    importanceSample: sample.length,
    histogramRows: seen,
    featureHistograms,
  };
  parseModelCard(raw);
  writeFileSync(cardPath, `${JSON.stringify(raw, null, 2)}\n`);
  process.stderr.write(
    `    monitoring: top features ${topFeatures
      .map((name) => `${name} (${(importance[names.indexOf(name)] as number).toFixed(4)})`)
      .join(', ')}; histograms over ${seen} training rows -> ${cardPath}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`card-monitoring: ${(error as Error).message}\n`);
  process.exit(1);
});
