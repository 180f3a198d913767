/**
 * Turns a simulated event stream into the neural model's training set, using the same
 * sequence module as serving (`#domain/sequence`): each authorization's input is built from
 * the card's ring *before* its own event is applied, in time order, so no input sees the
 * future. The tree model's score for the same row (`fraud-gbdt`, run with onnxruntime-node
 * on the same feature module) goes alongside, for the stacked combination and the
 * comparison.
 *
 *   npx tsx models/training/export-sequences.ts --events FILE --out-dir DIR \
 *       [--tree-model models/fraud-gbdt/1.0.0] [--legit-sample 0.2] [--replay-sample 0.01]
 *
 * The time split is the trainer's (`train.py split_days`: the first 75 % of UTC days train,
 * the last 15 % of those are the calibration slice, the rest is the holdout). To keep the
 * tensors small, legitimate rows of the fit period are sampled (`--legit-sample`, by a hash
 * of the transaction id, weight 1/rate); every calibration and holdout row is kept.
 *
 * Writes into DIR:
 * - `sequences.f32`: float32 little-endian, `[rows, SEQUENCE_STEPS, SEQUENCE_WIDTH]`;
 * - `rows.csv`: `transactionId,ts,label,pattern,weight,length,treeScore` per row, same order;
 * - `replay-candidates.jsonl`: request and ring of the holdout's fraud rows and a hashed
 *   sample of its legitimate rows, from which the trainer picks the replay set;
 * - `sequence-spec.json`, `dataset.json`.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, type WriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import {
  applyCardEvent,
  applyMerchantEvent,
  type CardState,
  featureVector,
  type MerchantState,
} from '#domain/features';
import {
  applyToRing,
  fnv1a,
  RING_SIZE,
  type RingStep,
  ringItemBytes,
  SEQUENCE_FEATURES,
  SEQUENCE_SPEC_VERSION,
  SEQUENCE_STEPS,
  SEQUENCE_WIDTH,
  type SequenceRing,
  sequenceTensor,
} from '#domain/sequence';
import { type AuthorizationEvent, isFraudLabel, type TransactionEvent } from '#domain/types';
import { requestOf } from './export-features';

const DAY_MS = 86_400_000;

/** The trainer's split (train.py `split_days`), in UTC day numbers; `end` is exclusive. */
export function splitDays(
  firstDay: number,
  lastDay: number,
  trainFraction = 0.75,
  calibrationFraction = 0.15,
) {
  const days = lastDay - firstDay + 1;
  if (days < 3) throw new Error(`need at least 3 calendar days of data for a time split, got ${days}`);
  const trainDays = Math.min(days - 1, Math.max(2, pyRound(trainFraction * days)));
  const calibrationDays = Math.min(trainDays - 1, Math.max(1, pyRound(calibrationFraction * trainDays)));
  return {
    first: firstDay,
    fitEnd: firstDay + trainDays - calibrationDays,
    trainEnd: firstDay + trainDays,
    end: lastDay + 1,
  };
}

/** Python's round(): halves go to the even neighbour. */
function pyRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** A uniform number in [0, 1) from a transaction id, so sampling is reproducible. */
function unitHash(id: string, salt: string): number {
  return fnv1a(`${salt}:${id}`) / 2 ** 32;
}

async function* readEvents(file: string): AsyncGenerator<TransactionEvent & { sim?: { pattern?: string } }> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${lineNo}: not valid JSON`, { cause: error });
    }
  }
}

async function write(stream: WriteStream, chunk: string | Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

interface PendingRow {
  line: string;
  tensor: Float32Array;
  features: number[];
}

/** Options of {@link exportSequences}. */
export interface ExportSequencesOptions {
  events: string;
  outDir: string;
  treeModel: string;
  legitSample: number;
  replaySample: number;
  generator?: string;
}

export async function exportSequences(options: ExportSequencesOptions) {
  const { events, outDir } = options;
  mkdirSync(outDir, { recursive: true });
  const tree = await OnnxModelRunner.load(options.treeModel);

  // Pass 1: fraud labels and the day range of the authorizations (for the split).
  const fraud = new Set<string>();
  let firstMs = Number.POSITIVE_INFINITY;
  let lastMs = Number.NEGATIVE_INFINITY;
  for await (const event of readEvents(events)) {
    if (event.type === 'label' && isFraudLabel(event.label)) fraud.add(event.transactionId);
    if (event.type === 'authorization') {
      const ms = Date.parse(event.timestamp);
      firstMs = Math.min(firstMs, ms);
      lastMs = Math.max(lastMs, ms);
    }
  }
  const split = splitDays(Math.floor(firstMs / DAY_MS), Math.floor(lastMs / DAY_MS));

  // Pass 2: replay in time order; inputs before each event is applied.
  const tensors = createWriteStream(join(outDir, 'sequences.f32'));
  const rows = createWriteStream(join(outDir, 'rows.csv'));
  const candidates = createWriteStream(join(outDir, 'replay-candidates.jsonl'));
  await write(rows, 'transactionId,ts,label,pattern,weight,length,treeScore\n');
  const cards = new Map<string, CardState>();
  const merchants = new Map<string, MerchantState>();
  const rings = new Map<string, SequenceRing>();
  let pending: PendingRow[] = [];
  let written = 0;
  let authorizations = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const scores = await tree.score(pending.map((p) => p.features));
    for (const [i, p] of pending.entries()) {
      await write(tensors, new Uint8Array(p.tensor.buffer, p.tensor.byteOffset, p.tensor.byteLength));
      await write(rows, `${p.line},${scores[i]}\n`);
    }
    written += pending.length;
    pending = [];
  };
  let previous = Number.NEGATIVE_INFINITY;
  const ringSizes: number[] = [];
  for await (const event of readEvents(events)) {
    const ms = Date.parse(event.timestamp);
    if (ms < previous) throw new Error(`events are not in time order at ${event.eventId}`);
    previous = ms;
    if (event.type === 'authorization') {
      authorizations += 1;
      const day = Math.floor(ms / DAY_MS);
      const label = fraud.has(event.transactionId) ? 1 : 0;
      const inFit = day < split.fitEnd;
      const keep = label === 1 || !inFit || unitHash(event.transactionId, 'legit') < options.legitSample;
      if (keep) {
        const ring = rings.get(event.cardId);
        const input = sequenceTensor(ring, event, ms);
        const features = featureVector(
          { card: cards.get(event.cardId), merchant: merchants.get(event.merchantId) },
          event,
          ms,
        );
        const weight = label === 0 && inFit ? 1 / options.legitSample : 1;
        const pattern = label === 1 ? (event.sim?.pattern ?? 'unknown') : 'legit';
        pending.push({
          line: `${event.transactionId},${ms},${label},${pattern},${weight},${input.length}`,
          tensor: input.data,
          features,
        });
        if (
          day >= split.trainEnd &&
          (label === 1 || unitHash(event.transactionId, 'replay') < options.replaySample)
        ) {
          await write(
            candidates,
            `${JSON.stringify({
              transactionId: event.transactionId,
              request: requestOf(event as AuthorizationEvent),
              ring: ring ?? [],
              features,
            })}\n`,
          );
        }
        if (pending.length >= 1024) await flush();
      }
    }
    if (event.type === 'authorization') {
      const next = applyToRing(rings.get(event.cardId), event).ring;
      rings.set(event.cardId, next);
      cards.set(event.cardId, applyCardEvent(cards.get(event.cardId), event).state);
    }
    merchants.set(event.merchantId, applyMerchantEvent(merchants.get(event.merchantId), event).state);
  }
  await flush();
  for (const stream of [tensors, rows, candidates]) stream.end();
  await Promise.all([once(tensors, 'finish'), once(rows, 'finish'), once(candidates, 'finish')]);
  for (const ring of rings.values()) ringSizes.push(ring.length);

  writeFileSync(
    join(outDir, 'sequence-spec.json'),
    `${JSON.stringify(
      {
        specVersion: SEQUENCE_SPEC_VERSION,
        ringSize: RING_SIZE,
        steps: SEQUENCE_STEPS,
        width: SEQUENCE_WIDTH,
        features: SEQUENCE_FEATURES,
      },
      null,
      2,
    )}\n`,
  );
  const summary = {
    generator: options.generator ?? 'unknown',
    events,
    treeModel: { ...tree.model, dir: options.treeModel },
    authorizations,
    rows: written,
    labelledFraud: fraud.size,
    legitSample: options.legitSample,
    split: {
      firstDay: new Date(split.first * DAY_MS).toISOString(),
      fitEnd: new Date(split.fitEnd * DAY_MS).toISOString(),
      trainEnd: new Date(split.trainEnd * DAY_MS).toISOString(),
      end: new Date(split.end * DAY_MS).toISOString(),
    },
    cards: rings.size,
    fullRings: ringSizes.filter((n) => n === RING_SIZE).length,
    sequenceSpecVersion: SEQUENCE_SPEC_VERSION,
  };
  writeFileSync(join(outDir, 'dataset.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return { summary, rings };
}

/** Ring sizes in bytes over all cards at the end of the stream (for the report). */
export function ringStats(
  rings: ReadonlyMap<string, readonly RingStep[]>,
  sizeOf: (r: readonly RingStep[]) => number,
) {
  const sizes = [...rings.values()].map(sizeOf).sort((a, b) => a - b);
  const at = (q: number) => sizes[Math.min(sizes.length - 1, Math.floor(q * sizes.length))] ?? 0;
  return { cards: sizes.length, p50: at(0.5), p99: at(0.99), max: sizes.at(-1) ?? 0 };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      'out-dir': { type: 'string' },
      'tree-model': { type: 'string', default: 'models/fraud-gbdt/1.0.0' },
      'legit-sample': { type: 'string', default: '0.2' },
      'replay-sample': { type: 'string', default: '0.01' },
      generator: { type: 'string' },
    },
  });
  if (!values.events || !values['out-dir']) {
    process.stderr.write(
      'usage: export-sequences --events FILE --out-dir DIR [--tree-model DIR] [--legit-sample R]\n',
    );
    process.exit(2);
  }
  const started = Date.now();
  const { summary, rings } = await exportSequences({
    events: values.events,
    outDir: values['out-dir'],
    treeModel: values['tree-model'] as string,
    legitSample: Number(values['legit-sample']),
    replaySample: Number(values['replay-sample']),
    generator: values.generator,
  });
  const stats = ringStats(rings, (r) => ringItemBytes(r));
  writeFileSync(join(values['out-dir'], 'ring-bytes.json'), `${JSON.stringify(stats, null, 2)}\n`);
  process.stderr.write(
    `exported ${summary.rows} of ${summary.authorizations} authorizations (${summary.labelledFraud} labelled fraud) in ${((Date.now() - started) / 1000).toFixed(1)} s; ring bytes p50 ${stats.p50}, p99 ${stats.p99}, max ${stats.max} over ${stats.cards} cards\n`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`export-sequences: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
