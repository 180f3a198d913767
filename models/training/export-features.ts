/**
 * Turns a labelled event history into the training table, using the same feature module
 * as serving: each authorization's features are computed from the state *before* its own
 * event is applied, in time order, so no feature sees the future.
 *
 * The history is read once by `event-source.ts` (JSONL, `.gz` or a directory; validated,
 * sorted, bad lines reported), fraud labels are collected from it (they arrive days later),
 * then the events are folded in time order with the in-place fold and one row per
 * authorization is written.
 *
 *   npx tsx models/training/export-features.ts --events PATH --out-dir DIR [--seed N]
 *     [--generator CMD] [--max-bad-fraction F]
 *
 * Writes DIR/features.csv, DIR/feature-spec.json, DIR/dataset.json and DIR/requests.jsonl
 * (the contract is described in models/training/README.md).
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CardState,
  emptyCardState,
  emptyMerchantState,
  FEATURE_NAMES,
  FEATURE_SPEC_VERSION,
  FEATURES,
  featureVector,
  foldCardAuthorization,
  foldMerchantAuthorization,
  foldMerchantLabel,
  type MerchantState,
  toEpochMs,
} from '#domain/features';
import {
  type AuthorizationEvent,
  isFraudLabel,
  type ScoreRequest,
  type TransactionEvent,
} from '#domain/types';
import {
  DEFAULT_MAX_BAD_FRACTION,
  EventSourceError,
  formatBadLines,
  OutOfOrderError,
  readEvents,
  requireTimeOrder,
  type ScanSummary,
  scanEvents,
} from './event-source';

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

/**
 * The serving feature code folded over a history in memory, one event at a time in time
 * order: {@link HistoryFold.add} hands each authorization's feature vector, computed before
 * the authorization is applied, to `visit`. The state is mutated in place (the pure
 * `applyCardEvent` / `applyMerchantEvent` run the same code on copies), so a fold costs no
 * per-event copies; it is the offline counterpart of the online feature store. Each event
 * must be given once (dedupe upstream, as `event-source.ts` does).
 */
export class HistoryFold {
  readonly cards = new Map<string, CardState>();
  readonly merchants = new Map<string, MerchantState>();

  constructor(private readonly visit: (event: AuthorizationEvent, vector: number[], ms: number) => void) {}

  /** Applies `event`, dated `ms` (its `timestamp` in epoch ms). */
  add(event: TransactionEvent, ms: number): void {
    let merchant = this.merchants.get(event.merchantId);
    if (event.type === 'label') {
      if (!isFraudLabel(event.label)) return;
      if (merchant === undefined) {
        merchant = emptyMerchantState();
        this.merchants.set(event.merchantId, merchant);
      }
      foldMerchantLabel(merchant, event, toEpochMs(event.transactionTimestamp));
      return;
    }
    let card = this.cards.get(event.cardId);
    this.visit(event, featureVector({ card, merchant }, event, ms), ms);
    if (card === undefined) {
      card = emptyCardState();
      this.cards.set(event.cardId, card);
    }
    if (merchant === undefined) {
      merchant = emptyMerchantState();
      this.merchants.set(event.merchantId, merchant);
    }
    foldCardAuthorization(card, event, ms);
    foldMerchantAuthorization(merchant, event, ms);
  }
}

/** Folds a sorted in-memory history (see {@link HistoryFold}); `times[i]` is `events[i]`'s time in epoch ms. */
export function foldHistory(
  events: readonly TransactionEvent[],
  times: ArrayLike<number>,
  visit: (event: AuthorizationEvent, vector: number[], ms: number) => void,
): HistoryFold {
  const fold = new HistoryFold(visit);
  for (let i = 0; i < events.length; i += 1) fold.add(events[i] as TransactionEvent, times[i] as number);
  return fold;
}

/**
 * `JSON.stringify({ transactionId, request: requestOf(event) })`, byte for byte, without the
 * generic serializer: every string field of a validated event is an id, code or ISO time
 * that needs no escaping (see the contract's patterns), and amounts are integers. Only for
 * events that passed `event-source.ts`.
 */
export function requestLine(event: AuthorizationEvent): string {
  const device = event.deviceId === undefined ? '' : `,"deviceId":"${event.deviceId}"`;
  return (
    `{"transactionId":"${event.transactionId}","request":{"transactionId":"${event.transactionId}",` +
    `"cardId":"${event.cardId}","merchantId":"${event.merchantId}","mcc":"${event.mcc}","amount":${event.amount},` +
    `"currency":"${event.currency}","country":"${event.country}","channel":"${event.channel}",` +
    `"timestamp":"${event.timestamp}"${device}}}`
  );
}

/** Appends text to a file descriptor in large writes: one syscall per ~1 MB, not per row. */
class BufferedFile {
  private readonly fd: number;
  private parts: string[] = [];
  private size = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Summary written to dataset.json. */
export interface DatasetSummary {
  /** How the history was made or where it came from (a command line, or `file <path>`). */
  generator: string;
  seed: number | null;
  cards: number;
  merchants: number;
  days: number;
  /** First and last authorization (ISO). */
  start: string;
  end: string;
  events: number;
  authorizations: number;
  labelledFraud: number;
  /** labelledFraud ÷ authorizations. */
  fraudRate: number;
  featureSpecVersion: string;
  /** What was read: path, files, lines, bad lines, duplicates, reordering. */
  source: {
    path: string;
    files: readonly string[];
    lines: number;
    events: number;
    authorizations: number;
    labels: number;
    badLineCount: number;
    duplicates: number;
    /** Events that were out of time order in the input (sorted before the fold). */
    reordered: number;
    badLinesShown: { file: string; line: number; reason: string }[];
  };
}

/** Timings of one export, for the training report. */
export interface ExportTimings {
  /** The label pass. */
  labelSeconds: number;
  /** Reading, validating, folding and writing. */
  foldSeconds: number;
  totalSeconds: number;
  eventsPerSecond: number;
  /**
   * CPU time of this process over the export (user + system; GC threads included). On a
   * shared machine wall time depends on the neighbours; events per CPU-second does not.
   */
  cpuSeconds: number;
  eventsPerCpuSecond: number;
}

/** Writes the training table's rows as the fold produces them. */
class RowWriter {
  private readonly csv: BufferedFile;
  private readonly requests: BufferedFile;
  authorizations = 0;
  labelledFraud = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;

  constructor(
    outDir: string,
    private readonly fraud: ReadonlySet<string>,
  ) {
    this.csv = new BufferedFile(join(outDir, 'features.csv'));
    this.requests = new BufferedFile(join(outDir, 'requests.jsonl'));
    this.csv.write(`transactionId,ts,label,${FEATURE_NAMES.join(',')}\n`);
  }

  readonly row = (event: AuthorizationEvent, vector: number[], ms: number): void => {
    this.authorizations += 1;
    if (ms < this.first) this.first = ms;
    if (ms > this.last) this.last = ms;
    const label = this.fraud.has(event.transactionId) ? 1 : 0;
    this.labelledFraud += label;
    this.csv.write(`${event.transactionId},${ms},${label},${vector.join(',')}\n`);
    this.requests.write(`${requestLine(event)}\n`);
  };

  close(): void {
    this.csv.close();
    this.requests.close();
  }
}

/** Contains `"label"` as a JSON string: every label event does, no authorization field value can (ids exclude quotes). */
const mayBeLabel = (line: string): boolean => line.includes('"label"');

/**
 * Exports the training table from the history at `options.events`.
 *
 * Input already in time order (the simulator's, an archive export) is streamed in two
 * passes in bounded memory: labels first (only lines that can be labels are parsed), then the
 * fold. Input out of order is detected on the way and read again in memory, sorted.
 */
export async function exportFeatures(options: {
  events: string;
  outDir: string;
  seed?: number;
  generator?: string;
  maxBadFraction?: number;
  log?: (line: string) => void;
}): Promise<DatasetSummary & { timings: ExportTimings }> {
  const { outDir, maxBadFraction } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(outDir, { recursive: true });
  const started = performance.now();
  const cpuStarted = process.cpuUsage();

  // Labels arrive after the authorization: collect them all before the fold.
  const fraud = new Set<string>();
  await scanEvents(
    options.events,
    (event) => {
      if (event.type === 'label' && isFraudLabel(event.label)) fraud.add(event.transactionId);
    },
    { maxBadFraction: 1, lineFilter: mayBeLabel },
  );
  const labelled = performance.now();

  let writer = new RowWriter(outDir, fraud);
  let fold = new HistoryFold(writer.row);
  let scan: ScanSummary;
  let events = 0;
  let reordered = 0;
  try {
    scan = await scanEvents(
      options.events,
      requireTimeOrder((event, ms) => {
        events += 1;
        fold.add(event, ms);
      }),
      { maxBadFraction },
    );
  } catch (error) {
    if (!(error instanceof OutOfOrderError)) throw error;
    log(`input is not in time order (${error.message}); sorting it in memory`);
    writer.close();
    writer = new RowWriter(outDir, fraud);
    const history = await readEvents(options.events, { maxBadFraction });
    fold = foldHistory(history.events, history.times, writer.row);
    scan = { ...history.source, badLines: history.badLines };
    events = history.events.length;
    reordered = history.source.reordered;
  }
  writer.close();
  const folded = performance.now();
  const cpu = process.cpuUsage(cpuStarted);
  if (scan.badLineCount > 0) log(formatBadLines(scan));
  if (scan.duplicates > 0) log(`dropped ${scan.duplicates} redelivered events (same eventId)`);
  if (writer.authorizations === 0)
    throw new EventSourceError(`${options.events}: no authorizations to train on`);
  const eventTimes = { first: writer.first, last: writer.last };

  writeFileSync(
    join(outDir, 'feature-spec.json'),
    `${JSON.stringify({ specVersion: FEATURE_SPEC_VERSION, features: FEATURES }, null, 2)}\n`,
  );
  const { authorizations, labelledFraud } = writer;
  const summary: DatasetSummary = {
    generator: options.generator ?? `file ${resolve(options.events)}`,
    seed: options.seed ?? null,
    cards: fold.cards.size,
    merchants: fold.merchants.size,
    days: Math.ceil((eventTimes.last - eventTimes.first) / 86_400_000),
    start: new Date(eventTimes.first).toISOString(),
    end: new Date(eventTimes.last).toISOString(),
    events,
    authorizations,
    labelledFraud,
    fraudRate: labelledFraud / authorizations,
    featureSpecVersion: FEATURE_SPEC_VERSION,
    source: {
      path: options.events,
      files: scan.files,
      lines: scan.lines,
      events,
      authorizations,
      labels: events - authorizations,
      badLineCount: scan.badLineCount,
      duplicates: scan.duplicates,
      reordered,
      badLinesShown: scan.badLines.slice(0, 20).map((bad) => ({ ...bad })),
    },
  };
  writeFileSync(join(outDir, 'dataset.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const totalSeconds = (folded - started) / 1000;
  const timings: ExportTimings = {
    labelSeconds: (labelled - started) / 1000,
    foldSeconds: (folded - labelled) / 1000,
    totalSeconds,
    eventsPerSecond: events / totalSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    eventsPerCpuSecond: events / ((cpu.user + cpu.system) / 1e6),
  };
  writeFileSync(join(outDir, 'export-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  return { ...summary, timings };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      'out-dir': { type: 'string' },
      seed: { type: 'string' },
      generator: { type: 'string' },
      'max-bad-fraction': { type: 'string' },
    },
  });
  if (!values.events || !values['out-dir']) {
    process.stderr.write(
      'usage: export-features --events PATH --out-dir DIR [--seed N] [--generator CMD] [--max-bad-fraction F]\n',
    );
    process.exit(2);
  }
  const maxBadFraction =
    values['max-bad-fraction'] === undefined ? DEFAULT_MAX_BAD_FRACTION : Number(values['max-bad-fraction']);
  const summary = await exportFeatures({
    events: values.events,
    outDir: values['out-dir'],
    seed: values.seed === undefined ? undefined : Number(values.seed),
    generator: values.generator,
    maxBadFraction,
  });
  const { timings } = summary;
  process.stderr.write(
    `exported ${summary.authorizations} rows (${summary.labelledFraud} labelled fraud, ` +
      `${(100 * summary.fraudRate).toFixed(2)} %) from ${summary.events} events in ${timings.totalSeconds.toFixed(1)} s ` +
      `(labels ${timings.labelSeconds.toFixed(1)} s, read+fold+write ${timings.foldSeconds.toFixed(1)} s): ` +
      `${Math.round(timings.eventsPerSecond)} events/s wall, ${Math.round(timings.eventsPerCpuSecond)} events per CPU-second\n`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`export-features: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
