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
 *     [--generator CMD] [--max-bad-fraction F] [--workers 0|1]
 *
 * Writes DIR/features.csv, DIR/feature-spec.json, DIR/dataset.json and DIR/requests.jsonl
 * (the contract is described in models/training/README.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_SPEC_VERSION, FEATURES } from '#domain/features';
import {
  type AuthorizationEvent,
  isFraudLabel,
  type ScoreRequest,
  type TransactionEvent,
} from '#domain/types';
import { linesContaining } from './event-files';
import {
  DEFAULT_MAX_BAD_FRACTION,
  EventSourceError,
  formatBadLines,
  OutOfOrderError,
  parseEventLine,
  readEvents,
  requireTimeOrder,
  type ScanSummary,
  scanEvents,
} from './event-source';
import { type CardSink, InlineCardSink, threadCpuSeconds, WorkerCardSink } from './export-card-stage';
import { MerchantStage } from './export-pipeline';

export { requestLine } from './export-pipeline';

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
  /**
   * CPU seconds of the reading thread and of the card stage's worker thread (Linux only; the
   * worker's is absent when the card stage runs inline). The busier of the two bounds the wall
   * time two otherwise idle cores would take.
   */
  readerCpuSeconds?: number;
  cardStageCpuSeconds?: number;
  /**
   * Events per second of the critical path: the reader's label pass, then the busier of the
   * reader's fold and the card stage. The wall rate two idle cores would give if the two
   * threads overlapped perfectly (an upper bound; absent without both figures).
   */
  eventsPerBusiestThreadSecond?: number;
}

/**
 * A key every label event has and the schema gives no authorization (an authorization line
 * carrying it as an extra key is parsed and skipped): the label pass reads only lines holding
 * it. Long and ending in a rare letter, it is found in the raw bytes three times faster than
 * `"label"` (0.04 s against 0.12 s for the bench history's 65 MB).
 */
const LABEL_KEY = '"transactionTimestamp"';

/**
 * Exports the training table from the history at `options.events`.
 *
 * Input already in time order (the simulator's, an archive export) is streamed in two
 * passes in bounded memory: labels first (only lines that can be labels are parsed), then the
 * fold. Input out of order is detected on the way and read again in memory, sorted. The fold
 * runs as two stages (`export-pipeline.ts`): this thread reads, validates and keeps the
 * merchants, a worker thread keeps the cards and writes the rows (`workers: 0` runs both here).
 */
export async function exportFeatures(options: {
  events: string;
  outDir: string;
  seed?: number;
  generator?: string;
  maxBadFraction?: number;
  /**
   * Worker threads for the card stage: 1, or 0 to run it on this thread.
   * @default 1
   */
  workers?: 0 | 1;
  log?: (line: string) => void;
}): Promise<DatasetSummary & { timings: ExportTimings }> {
  const { outDir, maxBadFraction } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const newStage = (fraud: ReadonlySet<string>): MerchantStage => {
    const sink: CardSink =
      (options.workers ?? 1) === 0 ? new InlineCardSink(outDir) : new WorkerCardSink(outDir);
    try {
      return new MerchantStage(outDir, fraud, sink);
    } catch (error) {
      void sink.abort();
      throw error;
    }
  };
  mkdirSync(outDir, { recursive: true });
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const readerCpuStarted = threadCpuSeconds();

  // Labels arrive after the authorization: collect them all before the fold.
  const fraud = new Set<string>();
  for await (const line of linesContaining(options.events, LABEL_KEY)) {
    const parsed = parseEventLine(line);
    if (!('events' in parsed)) continue; // reported by the fold's pass
    for (const event of parsed.events) {
      if (event.type === 'label' && isFraudLabel(event.label)) fraud.add(event.transactionId);
    }
  }
  const labelled = performance.now();
  const readerCpuLabelled = threadCpuSeconds();

  let stage = newStage(fraud);
  let scan: ScanSummary;
  let reordered = 0;
  try {
    scan = await scanEvents(
      options.events,
      requireTimeOrder((event, ms) => stage.add(event, ms)),
      { maxBadFraction, afterChunk: () => stage.drain() },
    );
  } catch (error) {
    await stage.abort();
    if (!(error instanceof OutOfOrderError)) throw error;
    log(`input is not in time order (${error.message}); sorting it in memory`);
    const history = await readEvents(options.events, { maxBadFraction });
    stage = newStage(fraud);
    try {
      for (let i = 0; i < history.events.length; i += 1) {
        stage.add(history.events[i] as TransactionEvent, history.times[i] as number);
        if (i % 65_536 === 65_535) await stage.drain();
      }
    } catch (inner) {
      await stage.abort();
      throw inner;
    }
    scan = { ...history.source, badLines: history.badLines };
    reordered = history.source.reordered;
  }
  const counts = await stage.finish();
  const folded = performance.now();
  const cpu = process.cpuUsage(cpuStarted);
  const readerCpu = threadCpuSeconds();
  if (scan.badLineCount > 0) log(formatBadLines(scan));
  if (scan.duplicates > 0) log(`dropped ${scan.duplicates} redelivered events (same eventId)`);
  const { events, authorizations, labelledFraud } = counts;
  if (authorizations === 0) throw new EventSourceError(`${options.events}: no authorizations to train on`);
  const eventTimes = { first: counts.first, last: counts.last };

  writeFileSync(
    join(outDir, 'feature-spec.json'),
    `${JSON.stringify({ specVersion: FEATURE_SPEC_VERSION, features: FEATURES }, null, 2)}\n`,
  );
  const summary: DatasetSummary = {
    generator: options.generator ?? `file ${resolve(options.events)}`,
    seed: options.seed ?? null,
    cards: counts.cards,
    merchants: counts.merchants,
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
  if (readerCpu !== undefined && readerCpuStarted !== undefined && readerCpuLabelled !== undefined) {
    timings.readerCpuSeconds = readerCpu - readerCpuStarted;
    if (counts.workerCpuSeconds !== undefined) {
      timings.cardStageCpuSeconds = counts.workerCpuSeconds;
      // The label pass runs before the card stage has anything to do; the fold overlaps.
      const labelCpu = readerCpuLabelled - readerCpuStarted;
      const busiest = labelCpu + Math.max(readerCpu - readerCpuLabelled, counts.workerCpuSeconds);
      timings.eventsPerBusiestThreadSecond = events / busiest;
    }
  }
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
      workers: { type: 'string' },
    },
  });
  if (!values.events || !values['out-dir']) {
    process.stderr.write(
      'usage: export-features --events PATH --out-dir DIR [--seed N] [--generator CMD] [--max-bad-fraction F] [--workers 0|1]\n',
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
    workers: values.workers === '0' ? 0 : 1,
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
