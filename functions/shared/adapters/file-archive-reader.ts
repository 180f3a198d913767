/**
 * Reads the archive's local layout (`<root>/<kind>/dt=YYYY-MM-DD/…`, JSON lines, gzip or
 * plain), the same layout the S3 archive has. Malformed lines are counted and skipped, not
 * fatal: one bad record must not stop a day's calibration.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ArchivedAnswer, ArchivedLabel, ArchiveReader } from '#domain/monitoring/calibration';

/** Every `YYYY-MM-DD` from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

export class FileArchiveReader implements ArchiveReader {
  /** Lines that were not JSON objects of the expected kind. */
  skipped = 0;

  constructor(private readonly root: string) {}

  async *answers(fromDay: string, toDay: string): AsyncIterable<ArchivedAnswer> {
    for (const record of this.records('score', fromDay, toDay)) {
      const r = record as Partial<ArchivedAnswer> & { kind?: string };
      if (r.kind === 'score' && typeof r.transactionId === 'string' && typeof r.segment === 'string')
        yield r as ArchivedAnswer;
      else this.skipped += 1;
    }
  }

  async *labels(
    fromDay: string,
    toDay: string,
  ): AsyncIterable<ArchivedLabel & { transactionTimestamp: string }> {
    for (const record of this.records('event', fromDay, toDay)) {
      const event = (record as { event?: Record<string, unknown> }).event;
      if (!event || typeof event.transactionId !== 'string') {
        this.skipped += 1;
        continue;
      }
      if (event.type !== 'label') continue;
      yield {
        transactionId: event.transactionId,
        label: String(event.label),
        transactionTimestamp: String(event.transactionTimestamp),
      };
    }
  }

  private *records(kind: string, fromDay: string, toDay: string): Iterable<unknown> {
    for (const day of daysBetween(fromDay, toDay)) {
      const dir = join(this.root, kind, `dt=${day}`);
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir).sort()) {
        const bytes = readFileSync(join(dir, file));
        const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
        for (const line of text.split('\n')) {
          if (line.trim() === '') continue;
          try {
            yield JSON.parse(line);
          } catch {
            this.skipped += 1;
          }
        }
      }
    }
  }
}
