/**
 * The card stage of the feature export (see `export-pipeline.ts`): card state and the rows of
 * `features.csv`, inline or in a worker thread, and the batch format the reading thread sends
 * it (tab-separated authorization records plus a `Float64Array` of time, label and merchant
 * features per record). The worker loads this module and runs the stage in the block at the
 * end.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  type CardAuthorization,
  type CardState,
  emptyCardState,
  FEATURE_NAMES,
  FEATURES,
  type FeatureRequest,
  featureVector,
  foldCardAggregates,
} from '#domain/features';
import type { AuthorizationEvent, Channel } from '#domain/types';
import { CsvWriter } from './csv-writer';

/** Positions of the merchant-source features in the vector. */
export const MERCHANT_FEATURE_INDEXES: readonly number[] = FEATURES.flatMap((feature, i) =>
  feature.source === 'merchant' ? [i] : [],
);

/** Numbers sent per row: time (epoch ms), label, then the merchant features. */
export const ROW_NUMBERS = 2 + MERCHANT_FEATURE_INDEXES.length;

/** Rows per batch handed to the card stage: large enough that a message costs nothing per row. */
export const BATCH_ROWS = 4096;

/** Batches the reader may run ahead of the card stage before it waits (bounds memory). */
const MAX_BATCHES_IN_FLIGHT = 8;

/**
 * What the card stage reads of an authorization, as one tab-separated record. Validated
 * fields hold no tab or newline (ids, codes, see the contract), and ids are never empty, so an
 * empty last field means "no device".
 */
export function encodeAuthorization(event: AuthorizationEvent): string {
  return (
    `${event.transactionId}\t${event.cardId}\t${event.merchantId}\t${event.mcc}\t${event.amount}\t` +
    `${event.country}\t${event.channel}\t${event.deviceId ?? ''}`
  );
}

/** An authorization as the card stage sees it: the request fields of the features, and the id of the row. */
type CardRow = FeatureRequest & CardAuthorization & { transactionId: string };

function decodeAuthorization(record: string): CardRow {
  const f = record.split('\t');
  const row: CardRow = {
    transactionId: f[0] as string,
    cardId: f[1] as string,
    merchantId: f[2] as string,
    mcc: f[3] as string,
    amount: Number(f[4]),
    country: f[5] as string,
    channel: f[6] as Channel,
  };
  if (f[7] !== '') row.deviceId = f[7] as string;
  return row;
}

/** What the card stage reports when it is done. */
export interface CardStageSummary {
  /** Distinct cards seen. */
  readonly cards: number;
  /** Rows written. */
  readonly rows: number;
  /** CPU seconds of the worker thread (see {@link threadCpuSeconds}); absent inline. */
  readonly workerCpuSeconds?: number;
}

/**
 * CPU seconds (user + system) the calling thread has used, from `/proc/thread-self/stat`
 * (Node 20 has no per-thread CPU clock); undefined where that does not exist. At 100 ticks a
 * second it is exact to 10 ms, plenty for an export of seconds.
 */
export function threadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the parenthesised name: state is the first, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stage 2: card state and the rows of `features.csv`, for authorizations in time order with
 * their merchant features already computed.
 */
export class CardStage {
  private readonly cards = new Map<string, CardState>();
  private readonly csv: CsvWriter;
  private rows = 0;

  constructor(outDir: string) {
    this.csv = new CsvWriter(join(outDir, 'features.csv'));
    this.csv.text(`transactionId,ts,label,${FEATURE_NAMES.join(',')}\n`);
  }

  /** Takes one batch: newline-separated records and {@link ROW_NUMBERS} numbers per record. */
  batch(records: string, numbers: Float64Array): void {
    const lines = records.split('\n');
    for (let r = 0; r < lines.length; r += 1) {
      const event = decodeAuthorization(lines[r] as string);
      const at = r * ROW_NUMBERS;
      const ms = numbers[at] as number;
      let card = this.cards.get(event.cardId);
      const vector = featureVector({ card }, event, ms);
      for (let k = 0; k < MERCHANT_FEATURE_INDEXES.length; k += 1) {
        vector[MERCHANT_FEATURE_INDEXES[k] as number] = numbers[at + 2 + k] as number;
      }
      const csv = this.csv;
      csv.text(event.transactionId);
      csv.comma();
      csv.number(ms);
      csv.comma();
      csv.number(numbers[at + 1] as number);
      for (let k = 0; k < vector.length; k += 1) {
        csv.comma();
        csv.number(vector[k] as number);
      }
      csv.endRow();
      if (card === undefined) {
        card = emptyCardState();
        this.cards.set(event.cardId, card);
      }
      foldCardAggregates(card, event, ms);
    }
    this.rows += lines.length;
  }

  /** Flushes and closes the file. */
  close(): CardStageSummary {
    this.csv.close();
    return { cards: this.cards.size, rows: this.rows };
  }
}

/** Where the reading thread sends its batches: the card stage inline, or in a worker. */
export interface CardSink {
  /** Hands over a batch; the sink owns `numbers` afterwards. */
  send(records: string, numbers: Float64Array): void;
  /** Resolves when at most `batches` batches are still being worked on (backpressure). */
  drain(batches?: number): Promise<void>;
  /** Waits for every batch, closes the files, and reports. */
  finish(): Promise<CardStageSummary>;
  /** Stops without waiting (after an error, or to start over). */
  abort(): Promise<void>;
}

/** The card stage on the reading thread: one core, no messages (tests, tiny inputs). */
export class InlineCardSink implements CardSink {
  private readonly stage: CardStage;

  constructor(outDir: string) {
    this.stage = new CardStage(outDir);
  }

  send(records: string, numbers: Float64Array): void {
    this.stage.batch(records, numbers);
  }

  async drain(): Promise<void> {}

  async finish(): Promise<CardStageSummary> {
    return this.stage.close();
  }

  async abort(): Promise<void> {
    this.stage.close();
  }
}

/** Marks a worker started by {@link WorkerCardSink}, so loading this module elsewhere starts nothing. */
const WORKER_MARK = 'fraud-scoring-export-card-stage';

type FromWorker = { kind: 'ack' } | { kind: 'done'; summary: CardStageSummary };
type ToWorker = { kind: 'batch'; records: string; numbers: Float64Array } | { kind: 'finish' };

/**
 * The card stage in a worker thread, so reading and validating (this thread) and the card
 * fold and formatting (the worker) use a core each. The worker loads this TypeScript module
 * through tsx, as the training scripts run. A failure in the worker rejects the next call.
 */
export class WorkerCardSink implements CardSink {
  private readonly worker: Worker;
  private inFlight = 0;
  private closing = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private done: ((summary: CardStageSummary) => void) | undefined;

  constructor(outDir: string) {
    const boot =
      `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();` +
      `require(${JSON.stringify(__filename)});`;
    this.worker = new Worker(boot, {
      eval: true,
      workerData: { mark: WORKER_MARK, outDir },
      // A larger young generation (64 MB semi-spaces, as --max-semi-space-size=64 gives the
      // reading thread): most of what a row allocates dies young, and with the default size
      // garbage collection was a third of the export's CPU time; this halves it.
      resourceLimits: { maxYoungGenerationSizeMb: 192 },
    });
    this.worker.on('message', (message: FromWorker) => {
      if (message.kind === 'ack') this.inFlight -= 1;
      else this.done?.(message.summary);
      this.notify();
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`export worker exited with code ${code}`));
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  send(records: string, numbers: Float64Array): void {
    this.check();
    const message: ToWorker = { kind: 'batch', records, numbers };
    this.worker.postMessage(message, [numbers.buffer as ArrayBuffer]);
    this.inFlight += 1;
  }

  async drain(batches = MAX_BATCHES_IN_FLIGHT): Promise<void> {
    while (this.inFlight > batches) {
      this.check();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    this.check();
  }

  async finish(): Promise<CardStageSummary> {
    this.check();
    const summary = new Promise<CardStageSummary>((resolve) => {
      this.done = resolve;
    });
    const message: ToWorker = { kind: 'finish' };
    this.worker.postMessage(message);
    while (this.failure === undefined) {
      const result = await Promise.race([
        summary,
        new Promise<undefined>((resolve) => {
          this.wake = () => resolve(undefined);
        }),
      ]);
      if (result !== undefined) {
        this.closing = true;
        await this.worker.terminate();
        return result;
      }
    }
    throw this.failure;
  }

  async abort(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}

if (!isMainThread && (workerData as { mark?: string } | null)?.mark === WORKER_MARK) {
  const port = parentPort;
  if (port === null) throw new Error('export worker without a parent port');
  const stage = new CardStage((workerData as { outDir: string }).outDir);
  port.on('message', (message: ToWorker) => {
    if (message.kind === 'batch') {
      stage.batch(message.records, message.numbers);
      port.postMessage({ kind: 'ack' } satisfies FromWorker);
    } else {
      const summary: CardStageSummary = { ...stage.close(), workerCpuSeconds: threadCpuSeconds() };
      port.postMessage({ kind: 'done', summary } satisfies FromWorker);
    }
  });
}
