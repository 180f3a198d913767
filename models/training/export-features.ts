/**
 * Turns a simulated event stream into the training table, using the same feature module
 * as serving: each authorization's features are computed from the state *before* its own
 * event is applied, in time order, so no feature sees the future.
 *
 * Two passes over the file: the first collects fraud labels (they arrive days later), the
 * second replays the stream and writes one row per authorization.
 *
 *   npx tsx models/training/export-features.ts --events FILE --out-dir DIR [--seed N] [--generator CMD]
 *
 * Writes DIR/features.csv, DIR/feature-spec.json, DIR/dataset.json and DIR/requests.jsonl
 * (the contract is described in models/training/README.md).
 */
import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  statSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import {
  applyCardEvent,
  applyMerchantEvent,
  type CardState,
  FEATURE_NAMES,
  FEATURE_SPEC_VERSION,
  FEATURES,
  featureVector,
  type MerchantState,
  toEpochMs,
} from '#domain/features';
import {
  type AuthorizationEvent,
  isFraudLabel,
  type ScoreRequest,
  type TransactionEvent,
} from '#domain/types';

/** The request the payment service would have sent for this authorization. */
export function requestOf(event: AuthorizationEvent): ScoreRequest {
  const request: ScoreRequest = {
    transactionId: event.transactionId,
    cardId: event.cardId,
    merchantId: event.merchantId,
    mcc: event.mcc,
    amount: event.amount,
    currency: event.currency,
    country: event.country,
    channel: event.channel,
    timestamp: event.timestamp,
  };
  if (event.deviceId !== undefined) request.deviceId = event.deviceId;
  return request;
}

/** Streams parsed events from a JSON-lines file, reporting bytes read for progress. */
async function* readEvents(file: string, onBytes: (n: number) => void): AsyncGenerator<TransactionEvent> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    onBytes(line.length + 1);
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as TransactionEvent;
    } catch (error) {
      throw new Error(`${file}:${lineNo}: not valid JSON`, { cause: error });
    }
  }
}

async function write(stream: WriteStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

function progress(label: string, total: number): SingleBar {
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value_mb}/{total_mb} MB | {eta}s left`,
    hideCursor: true,
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 5000,
  });
  bar.start(total, 0, { value_mb: '0', total_mb: (total / 1e6).toFixed(0) });
  return bar;
}

/** Summary written to dataset.json. */
export interface DatasetSummary {
  generator: string;
  seed: number | null;
  cards: number;
  merchants: number;
  days: number;
  start: string;
  end: string;
  events: number;
  authorizations: number;
  labelledFraud: number;
  featureSpecVersion: string;
}

export async function exportFeatures(options: {
  events: string;
  outDir: string;
  seed?: number;
  generator?: string;
}): Promise<DatasetSummary> {
  const { events, outDir } = options;
  mkdirSync(outDir, { recursive: true });
  const size = statSync(events).size;

  // Pass 1: which transactions end up labelled fraud.
  const fraud = new Set<string>();
  let bar = progress('labels  ', size);
  let read = 0;
  let seen = 0;
  for await (const event of readEvents(events, (n) => {
    read += n;
  })) {
    if (event.type === 'label' && isFraudLabel(event.label)) fraud.add(event.transactionId);
    seen += 1;
    if (seen % 5000 === 0) bar.update(read, { value_mb: (read / 1e6).toFixed(0) });
  }
  bar.update(size, { value_mb: (size / 1e6).toFixed(0) });
  bar.stop();

  // Pass 2: replay in time order, features before each event is applied.
  const csv = createWriteStream(join(outDir, 'features.csv'));
  const requests = createWriteStream(join(outDir, 'requests.jsonl'));
  await write(csv, `transactionId,ts,label,${FEATURE_NAMES.join(',')}\n`);
  const cards = new Map<string, CardState>();
  const merchants = new Map<string, MerchantState>();
  let count = 0;
  let authorizations = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let previous = Number.NEGATIVE_INFINITY;
  bar = progress('features', size);
  read = 0;
  for await (const event of readEvents(events, (n) => {
    read += n;
  })) {
    count += 1;
    const ms = toEpochMs(event.timestamp);
    if (ms < previous) throw new Error(`events are not in time order at event ${count} (${event.eventId})`);
    previous = ms;
    if (event.type === 'authorization') {
      authorizations += 1;
      first = Math.min(first, ms);
      last = Math.max(last, ms);
      const vector = featureVector(
        { card: cards.get(event.cardId), merchant: merchants.get(event.merchantId) },
        event,
        ms,
      );
      const label = fraud.has(event.transactionId) ? 1 : 0;
      await write(csv, `${event.transactionId},${ms},${label},${vector.join(',')}\n`);
      await write(
        requests,
        `${JSON.stringify({ transactionId: event.transactionId, request: requestOf(event) })}\n`,
      );
    }
    cards.set(event.cardId, applyCardEvent(cards.get(event.cardId), event).state);
    merchants.set(event.merchantId, applyMerchantEvent(merchants.get(event.merchantId), event).state);
    if (count % 5000 === 0) bar.update(read, { value_mb: (read / 1e6).toFixed(0) });
  }
  bar.update(size, { value_mb: (size / 1e6).toFixed(0) });
  bar.stop();
  csv.end();
  requests.end();
  await Promise.all([once(csv, 'finish'), once(requests, 'finish')]);

  writeFileSync(
    join(outDir, 'feature-spec.json'),
    `${JSON.stringify({ specVersion: FEATURE_SPEC_VERSION, features: FEATURES }, null, 2)}\n`,
  );
  const summary: DatasetSummary = {
    generator: options.generator ?? 'unknown',
    seed: options.seed ?? null,
    cards: cards.size,
    merchants: merchants.size,
    days: Math.ceil((last - first) / 86_400_000),
    start: new Date(first).toISOString(),
    end: new Date(last).toISOString(),
    events: count,
    authorizations,
    labelledFraud: fraud.size,
    featureSpecVersion: FEATURE_SPEC_VERSION,
  };
  writeFileSync(join(outDir, 'dataset.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      'out-dir': { type: 'string' },
      seed: { type: 'string' },
      generator: { type: 'string' },
    },
  });
  if (!values.events || !values['out-dir']) {
    process.stderr.write('usage: export-features --events FILE --out-dir DIR [--seed N] [--generator CMD]\n');
    process.exit(2);
  }
  const started = Date.now();
  const summary = await exportFeatures({
    events: values.events,
    outDir: values['out-dir'],
    seed: values.seed === undefined ? undefined : Number(values.seed),
    generator: values.generator,
  });
  process.stderr.write(
    `exported ${summary.authorizations} rows (${summary.labelledFraud} labelled fraud) from ${summary.events} events in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`export-features: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
