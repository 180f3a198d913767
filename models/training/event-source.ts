/**
 * Reads a labelled history in the `/v1/events` format from a file or a directory, for
 * training, backtests and batch tools. One module so every tool accepts the same inputs and
 * reports bad input the same way.
 *
 * Accepted input:
 * - a JSON-lines file (`.jsonl`, `.ndjson`, `.json`, or any name), optionally gzip-compressed
 *   (`.gz`; detected by the magic bytes, not the name);
 * - a directory: every such file below it (recursively, in path order), e.g. the archive's
 *   `event/dt=YYYY-MM-DD/…` layout;
 * - each line one `/v1/events` body (a single event or `{ "events": [...] }`), or an
 *   archive record `{ "kind": "event", "receivedAt", "event": <body> }`.
 *
 * Every event is validated with the API's own field schemas, so training accepts what the
 * stack accepts (unknown extra keys are dropped, not refused). Invalid lines are collected with their file and line number; when they
 * exceed `maxBadFraction` of the non-empty lines the read fails with the first of them.
 * Events are returned in time order (stable: ties keep input order); with `sort: false`
 * out-of-order input is an error naming the first offending line instead. Redelivered
 * events (same `eventId`) are kept once, as the events function does.
 */
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { z } from 'zod';
import { authorizationEventSchema, labelEventSchema } from '#domain/contract';
import type { TransactionEvent } from '#domain/types';
import { eventFiles, lineChunksOf } from './event-files';
import { plainEventOf } from './event-line';

/**
 * The API's event schemas with unknown keys dropped instead of refused: histories carry
 * annotations (the simulator's ground truth `sim`, an exporter's own fields) that training
 * must ignore, while every field the API defines is checked exactly as the API checks it.
 */
const historyEventSchema = z.discriminatedUnion('type', [
  z.object(authorizationEventSchema.shape),
  z.object(labelEventSchema.shape),
]);
const historyBatchSchema = z.object({ events: z.array(historyEventSchema).min(1) });

/** Default share of bad lines above which reading refuses: 1 %. */
export const DEFAULT_MAX_BAD_FRACTION = 0.01;

/** How many bad lines are kept with their reasons; the count covers all of them. */
const KEPT_BAD_LINES = 1000;

/** Options of {@link readEvents}. */
export interface ReadEventsOptions {
  /**
   * Largest accepted share of bad lines among non-empty lines, in [0, 1].
   * @default DEFAULT_MAX_BAD_FRACTION (0.01)
   */
  readonly maxBadFraction?: number;
  /**
   * Sort the events by time (stable). When false, input out of time order is an error that
   * names the first offending line.
   * @default true
   */
  readonly sort?: boolean;
}

/** One line that could not be used, with where it is and why. */
export interface BadLine {
  /** Path of the file, relative to the input path when that is a directory. */
  readonly file: string;
  /** 1-based line number in the (decompressed) file. */
  readonly line: number;
  readonly reason: string;
}

/** What was read, for the model card and reports. */
export interface EventSourceSummary {
  /** The path given, as given. */
  readonly path: string;
  /** Files read, relative to `path` when it is a directory. */
  readonly files: readonly string[];
  /** Non-empty lines read. */
  readonly lines: number;
  /** Events returned (after dropping duplicates). */
  readonly events: number;
  readonly authorizations: number;
  readonly labels: number;
  /** Total bad lines (only the first {@link KEPT_BAD_LINES} are listed in `badLines`). */
  readonly badLineCount: number;
  /** Events dropped because an event with the same `eventId` came before. */
  readonly duplicates: number;
  /** Events that were out of time order in the input (0 when it was sorted). */
  readonly reordered: number;
  /** Time of the first and last event (ISO). */
  readonly first: string;
  readonly last: string;
}

/** The result of {@link readEvents}. */
export interface EventSource {
  /** Valid events in time order. */
  readonly events: TransactionEvent[];
  /** Epoch milliseconds of each event's `timestamp`, parallel to `events`. */
  readonly times: Float64Array;
  /** The first bad lines (at most 1,000), in input order. */
  readonly badLines: readonly BadLine[];
  readonly source: EventSourceSummary;
}

/** Raised when the input cannot be used as a whole (too many bad lines, not sorted, no events). */
export class EventSourceError extends Error {
  override readonly name = 'EventSourceError';
}

function describeIssue(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid event';
  const field = issue.path.map(String).join('.');
  return field === '' ? issue.message : `${field}: ${issue.message}`;
}

/**
 * Parses one line into events, or returns why it cannot be used. Accepts a single event, a
 * batch body and an archive event record. A value holding one valid event takes the fast
 * check of `event-line.ts`, which gives exactly what the schemas give
 * ({@link parseEventLineWithSchemas}); everything else, and everything it would refuse, goes
 * through the schemas.
 */
export function parseEventLine(line: string): { events: TransactionEvent[] } | { reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { reason: 'not valid JSON' };
  }
  const plain = plainEventOf(json);
  return plain === undefined ? eventsOf(json) : { events: [plain] };
}

/** {@link parseEventLine} without the fast check: `JSON.parse`, then the contract's schemas. */
export function parseEventLineWithSchemas(line: string): { events: TransactionEvent[] } | { reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { reason: 'not valid JSON' };
  }
  return eventsOf(json);
}

/** The events of a parsed line by the contract's schemas, or why there are none. */
function eventsOf(parsed: unknown): { events: TransactionEvent[] } | { reason: string } {
  let json = parsed;
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && 'kind' in json) {
    const record = json as { kind: unknown; event?: unknown };
    if (record.kind !== 'event')
      return { reason: `archive record of kind ${JSON.stringify(record.kind)}, not event` };
    json = record.event;
  }
  if (json !== null && typeof json === 'object' && 'events' in json) {
    const batch = historyBatchSchema.safeParse(json);
    return batch.success
      ? { events: batch.data.events as TransactionEvent[] }
      : { reason: describeIssue(batch.error) };
  }
  const event = historyEventSchema.safeParse(json);
  return event.success
    ? { events: [event.data as TransactionEvent] }
    : { reason: describeIssue(event.error) };
}

/** Where an event was read: file (relative to a directory input) and 1-based line. */
export interface EventPosition {
  readonly file: string;
  readonly line: number;
}

/** Options of {@link scanEvents}. */
export interface ScanEventsOptions {
  /**
   * Largest accepted share of bad lines among non-empty lines, in [0, 1], checked when the
   * scan ends.
   * @default DEFAULT_MAX_BAD_FRACTION (0.01)
   */
  readonly maxBadFraction?: number;
  /**
   * Only lines for which this returns true are parsed (the others are not counted); a cheap
   * pre-filter, e.g. `(line) => line.includes('"label"')` to collect labels first.
   * @default every line
   */
  readonly lineFilter?: (line: string) => boolean;
  /**
   * Awaited after each chunk of lines (about a megabyte), e.g. to let a consumer on another
   * thread catch up before more is read.
   * @default nothing
   */
  readonly afterChunk?: () => Promise<void>;
}

/** What a scan saw, apart from the events it handed over. */
export interface ScanSummary {
  readonly files: readonly string[];
  readonly lines: number;
  readonly badLineCount: number;
  readonly badLines: readonly BadLine[];
  readonly duplicates: number;
}

/**
 * Streams the valid events under `path` in input order to `onEvent`, with their epoch-ms
 * time and position, in bounded memory (apart from the set of seen event ids, used to drop
 * redeliveries). `onEvent` may throw to stop the scan (e.g. on out-of-order input).
 *
 * @throws EventSourceError when bad lines exceed `maxBadFraction` at the end of the scan.
 */
export async function scanEvents(
  path: string,
  onEvent: (event: TransactionEvent, ms: number, at: EventPosition) => void,
  options: ScanEventsOptions = {},
): Promise<ScanSummary> {
  const maxBadFraction = options.maxBadFraction ?? DEFAULT_MAX_BAD_FRACTION;
  if (!(maxBadFraction >= 0 && maxBadFraction <= 1)) {
    throw new RangeError(`maxBadFraction must be in [0, 1], got ${maxBadFraction}`);
  }
  const filter = options.lineFilter;
  const isDirectory = statSync(path).isDirectory();
  const files = eventFiles(path);
  const names = files.map((file) => (isDirectory ? relative(path, file) : file));
  const badLines: BadLine[] = [];
  const seen = new Set<string>();
  let badLineCount = 0;
  let lines = 0;
  let duplicates = 0;

  for (const [index, file] of files.entries()) {
    const name = names[index] as string;
    let lineNo = 0;
    for await (const chunk of lineChunksOf(file)) {
      for (const line of chunk) {
        lineNo += 1;
        if (line.trim() === '' || (filter !== undefined && !filter(line))) continue;
        lines += 1;
        const parsed = parseEventLine(line);
        if ('reason' in parsed) {
          badLineCount += 1;
          if (badLines.length < KEPT_BAD_LINES)
            badLines.push({ file: name, line: lineNo, reason: parsed.reason });
          continue;
        }
        for (const event of parsed.events) {
          if (seen.has(event.eventId)) {
            duplicates += 1;
            continue;
          }
          seen.add(event.eventId);
          onEvent(event, Date.parse(event.timestamp), { file: name, line: lineNo });
        }
      }
      if (options.afterChunk !== undefined) await options.afterChunk();
    }
  }

  if (lines > 0 && badLineCount / lines > maxBadFraction) {
    const first = badLines[0] as BadLine;
    throw new EventSourceError(
      `${badLineCount} of ${lines} lines are bad (${((100 * badLineCount) / lines).toFixed(2)} %, ` +
        `limit ${(100 * maxBadFraction).toFixed(2)} %); first: ${first.file}:${first.line}: ${first.reason}`,
    );
  }
  return { files: names, lines, badLineCount, badLines, duplicates };
}

/** Raised by {@link requireTimeOrder} at the first event older than the one before it. */
export class OutOfOrderError extends EventSourceError {
  constructor(
    readonly at: EventPosition,
    readonly eventId: string,
    timestamp: string,
    previousMs: number,
  ) {
    super(
      `${at.file}:${at.line}: event ${eventId} at ${timestamp} is before the previous event ` +
        `(${new Date(previousMs).toISOString()}); input must be in time order (or let it be sorted)`,
    );
  }
}

/** Wraps an {@link scanEvents} callback so that out-of-order input throws {@link OutOfOrderError}. */
export function requireTimeOrder(
  onEvent: (event: TransactionEvent, ms: number, at: EventPosition) => void,
): (event: TransactionEvent, ms: number, at: EventPosition) => void {
  let latest = Number.NEGATIVE_INFINITY;
  return (event, ms, at) => {
    if (ms < latest) throw new OutOfOrderError(at, event.eventId, event.timestamp, latest);
    latest = ms;
    onEvent(event, ms, at);
  };
}

/**
 * Reads, validates and orders the events under `path` in memory (see {@link scanEvents} for
 * a bounded-memory pass over input already in time order).
 *
 * @throws EventSourceError when bad lines exceed `maxBadFraction`, when `sort` is false and
 *   the input is out of time order, or when no valid event was found.
 */
export async function readEvents(path: string, options: ReadEventsOptions = {}): Promise<EventSource> {
  const sort = options.sort ?? true;
  const events: TransactionEvent[] = [];
  const times: number[] = [];
  let reordered = 0;
  let latest = Number.NEGATIVE_INFINITY;
  const collect = (event: TransactionEvent, ms: number): void => {
    if (ms < latest) reordered += 1;
    else latest = ms;
    events.push(event);
    times.push(ms);
  };
  const scan = await scanEvents(path, sort ? collect : requireTimeOrder(collect), {
    maxBadFraction: options.maxBadFraction,
  });
  if (events.length === 0) {
    throw new EventSourceError(
      `no valid events in ${path} (${scan.files.length} files, ${scan.lines} lines)`,
    );
  }

  let ordered = events;
  let orderedTimes = Float64Array.from(times);
  if (reordered > 0) {
    const order = Array.from(events.keys()).sort(
      (a, b) => (times[a] as number) - (times[b] as number) || a - b,
    );
    ordered = order.map((i) => events[i] as TransactionEvent);
    orderedTimes = Float64Array.from(order, (i) => times[i] as number);
  }
  const authorizations = ordered.reduce((n, event) => n + (event.type === 'authorization' ? 1 : 0), 0);
  return {
    events: ordered,
    times: orderedTimes,
    badLines: scan.badLines,
    source: {
      path,
      files: scan.files,
      lines: scan.lines,
      events: ordered.length,
      authorizations,
      labels: ordered.length - authorizations,
      badLineCount: scan.badLineCount,
      duplicates: scan.duplicates,
      reordered,
      first: new Date(orderedTimes[0] as number).toISOString(),
      last: new Date(orderedTimes[orderedTimes.length - 1] as number).toISOString(),
    },
  };
}

/** Formats the bad-line report for a terminal: the count and the first `limit` lines. */
export function formatBadLines(
  scan: Pick<ScanSummary, 'badLineCount' | 'lines' | 'badLines'>,
  limit = 10,
): string {
  const { badLineCount, lines } = scan;
  if (badLineCount === 0) return `no bad lines in ${lines} lines`;
  const shown = scan.badLines.slice(0, limit).map((bad) => `  ${bad.file}:${bad.line}: ${bad.reason}`);
  const more = badLineCount > shown.length ? [`  … and ${badLineCount - shown.length} more`] : [];
  return [`${badLineCount} bad lines of ${lines} (skipped):`, ...shown, ...more].join('\n');
}
