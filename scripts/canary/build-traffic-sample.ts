/**
 * Builds `scripts/canary/data/traffic-sample.jsonl`, the traffic the canary simulator draws
 * from: simulated authorizations scored by the real model (`models/fraud-gbdt/1.0.0`) through
 * onnxruntime-node, with each row's segment and two input features for the input-sanity test.
 *
 *   npx tsx models/training/simulate-cli.ts --cards 6000 --days 14 --seed 7 --out W/events.jsonl
 *   npx tsx models/training/export-features.ts --events W/events.jsonl --out-dir W --seed 7
 *   npx tsx scripts/canary/build-traffic-sample.ts --work W [--rows 36000]
 *
 * The first week is skipped so cards have the history they have in production; the sample is
 * every k-th authorization of the second week (evenly spread over hours of day).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import { SEGMENT_KEYS, segmentKey, segmentOf } from '#domain/segment';
import type { Channel } from '#domain/types';

const { values } = parseArgs({
  options: { work: { type: 'string' }, rows: { type: 'string', default: '36000' } },
});
if (!values.work) throw new Error('--work DIR is required');
const work = values.work;
const wanted = Number(values.rows);

const csv = readFileSync(join(work, 'features.csv'), 'utf8').trim().split('\n');
const featureNames = (csv[0] as string).split(',').slice(3);
const requests = new Map<string, { channel: Channel; amount: number }>();
for (const line of readFileSync(join(work, 'requests.jsonl'), 'utf8').trim().split('\n')) {
  const { transactionId, request } = JSON.parse(line);
  requests.set(transactionId, { channel: request.channel, amount: request.amount });
}
const rows = csv.slice(1).map((line) => line.split(','));
const start = Number(rows[0]?.[1]) + 7 * 86_400_000;
const eligible = rows.filter((row) => Number(row[1]) >= start);
const step = Math.max(1, Math.floor(eligible.length / wanted));
const picked = eligible.filter((_, i) => i % step === 0).slice(0, wanted);

async function main(): Promise<void> {
  const runner = await OnnxModelRunner.load(join('models', 'fraud-gbdt', '1.0.0'));
  const since = featureNames.indexOf('card_seconds_since_last');
  const amountLog = featureNames.indexOf('amount_log');
  const count24h = featureNames.indexOf('card_count_24h');
  const out = {
    segment: [] as number[],
    score: [] as number[],
    label: [] as number[],
    amountLog: [] as number[],
    cardCount24h: [] as number[],
  };
  for (let i = 0; i < picked.length; i += 512) {
    const batch = picked.slice(i, i + 512);
    const features = batch.map((row) => row.slice(3).map(Number));
    const scores = await runner.score(features);
    batch.forEach((row, j) => {
      const request = requests.get(row[0] as string);
      if (!request) throw new Error(`no request for ${row[0]}`);
      const vector = features[j] as number[];
      // The serving code marks a card without history with seconds-since-last = −1.
      const key = segmentKey(segmentOf(request, (vector[since] as number) >= 0));
      out.segment.push(SEGMENT_KEYS.indexOf(key));
      out.score.push(Number((scores[j] as number).toPrecision(6)));
      out.amountLog.push(Number((vector[amountLog] as number).toFixed(4)));
      out.cardCount24h.push(vector[count24h] as number);
    });
  }
  // JSON lines (one header, then one line per column): compact, and left alone by the formatter.
  const file = join('scripts', 'canary', 'data', 'traffic-sample.jsonl');
  const header = {
    description:
      'Simulated authorizations (simulate-cli --cards 6000 --days 14 --seed 7, second week) scored by models/fraud-gbdt/1.0.0; built by scripts/canary/build-traffic-sample.ts',
    model: 'fraud-gbdt@1.0.0',
    segmentKeys: SEGMENT_KEYS,
    rows: out.score.length,
  };
  const lines = [header, ...Object.entries(out).map(([column, values]) => ({ column, values }))];
  writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  console.log(`wrote ${out.score.length} rows to ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
