/**
 * Pulls a time range of accepted events back out of the archive as training input: the
 * `/v1/events` bodies whose own `timestamp` falls in `[from, to)`, each once (Firehose and the
 * events function's retries deliver at least once), sorted by time then event id. The same code
 * reads the S3 bucket (`S3ArchiveReader`) and the local stack's directory (`LocalArchiveReader`).
 *
 * Partitions are named after the date the event time is written with, so an offset such as
 * `+14:00` can put an event one day either side of its UTC date: the reader lists one
 * partition more on each side and filters on the parsed time. Each date is read under every
 * event type (`event/type=<type>/dt=…/`) and under the untyped layout written before events
 * were split by type (`event/dt=…/`), so history from before that change, moved or not, is
 * exported once (by `eventId`).
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { archivePrefix, EVENT_TYPES, legacyEventPrefix } from '#domain/archive';
import { exportableEventOf } from '#domain/archive-records';
import type { TransactionEvent } from '#domain/types';

/** Where archived objects are read from. Keys are relative to the archive root. */
export interface ArchiveReader {
  /** Keys under a prefix (`event/type=label/dt=2026-11-23/`), any order; none when the prefix is absent. */
  list(prefix: string): Promise<string[]>;
  read(key: string): Promise<Uint8Array>;
}

/** The local stack's archive directory (`.local-data/archive`). */
export class LocalArchiveReader implements ArchiveReader {
  constructor(private readonly dir: string) {}

  async list(prefix: string): Promise<string[]> {
    try {
      const names = await readdir(join(this.dir, prefix));
      return names.map((name) => `${prefix}${name}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  read(key: string): Promise<Uint8Array> {
    return readFile(join(this.dir, key));
  }
}

/**
 * The archive bucket, optionally under a root prefix (it implements {@link ArchiveReader}): the
 * S3 adapter the calibration monitor reads through too, so listing and paging live once.
 */
export { S3ArchiveObjects as S3ArchiveReader } from '#adapters/s3-archive-reader';

const DAY_MS = 86_400_000;
/** Longest range one export reads, days (a typo in a year should not list ten thousand partitions). */
export const MAX_EXPORT_DAYS = 3 * 366;

/** The partition dates to read for `[from, to)`: one more on each side for offset-written times. */
export function partitionDates(from: number, to: number): string[] {
  if (!(to > from)) throw new RangeError('--to must be after --from');
  const first = Math.floor(from / DAY_MS) - 1;
  const last = Math.floor((to - 1) / DAY_MS) + 1;
  if (last - first + 1 > MAX_EXPORT_DAYS + 2)
    throw new RangeError(`a range of at most ${MAX_EXPORT_DAYS} days, please`);
  const dates: string[] = [];
  for (let day = first; day <= last; day++) dates.push(new Date(day * DAY_MS).toISOString().slice(0, 10));
  return dates;
}

/** Object bytes as text: gzip (one or more members) or plain. */
function text(bytes: Uint8Array): string {
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return Buffer.from(gzipped ? gunzipSync(bytes) : bytes).toString('utf8');
}

export interface ExportResult {
  /** The events of the range, once each, sorted by time then event id. */
  readonly events: TransactionEvent[];
  readonly objects: number;
  /** Lines that were not JSON or not an event record (skipped). */
  readonly malformed: number;
  /** Repeated event ids (kept once). */
  readonly duplicates: number;
}

/** The prefixes of one date: each event type's partition, then the untyped layout's. */
export function eventPartitions(date: string): string[] {
  return [...EVENT_TYPES.map((type) => archivePrefix('event', date, type)), legacyEventPrefix(date)];
}

/** Reads the events of `[from, to)` (epoch ms) from an archive. */
export async function exportEvents(reader: ArchiveReader, from: number, to: number): Promise<ExportResult> {
  const byId = new Map<string, { time: number; event: TransactionEvent }>();
  let objects = 0;
  let malformed = 0;
  let duplicates = 0;
  const prefixes = partitionDates(from, to).flatMap(eventPartitions);
  for (const prefix of prefixes) {
    for (const key of (await reader.list(prefix)).sort()) {
      objects++;
      for (const line of text(await reader.read(key)).split('\n')) {
        if (line.trim() === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          malformed++;
          continue;
        }
        const record = exportableEventOf(parsed);
        if (!record) {
          malformed++;
          continue;
        }
        const time = Date.parse(record.event.timestamp);
        if (!(time >= from && time < to)) continue;
        if (byId.has(record.event.eventId)) duplicates++;
        else byId.set(record.event.eventId, { time, event: record.event });
      }
    }
  }
  const events = [...byId.values()]
    .sort(
      (a, b) =>
        a.time - b.time ||
        (a.event.eventId < b.event.eventId ? -1 : a.event.eventId > b.event.eventId ? 1 : 0),
    )
    .map((entry) => entry.event);
  return { events, objects, malformed, duplicates };
}

/** Writes events as JSON lines (`/v1/events` bodies), creating the folder. */
export async function writeJsonLines(path: string, events: readonly TransactionEvent[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  for (const event of events) {
    if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
