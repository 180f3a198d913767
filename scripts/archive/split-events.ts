/**
 * The one-time move of the archive's events from the untyped layout (`event/dt=D/<object>`,
 * written before events were partitioned by type) into the typed one
 * (`event/type=<type>/dt=D/split-<object>`), so that the calibration monitor, whose role reads
 * only `event/type=label/`, and Athena's `events` table (projected on `type`) see the history.
 *
 * Per old object: its lines are streamed (gunzip, line splitting) and sorted by the event's
 * type into one gzip object per type, written under a key derived from the old one, so a
 * second run rewrites the same objects instead of adding copies. A line that is not an event
 * record of a known type goes to `type=unknown/`: nothing is dropped. The old object is
 * deleted only with `remove`, and only after every line of it was written elsewhere.
 */
import { once } from 'node:events';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createGzip } from 'node:zlib';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LocalArchiveObjects } from '#adapters/file-archive-reader';
import { type ArchiveObjects, decompressed, S3ArchiveObjects, splitLines } from '#adapters/s3-archive-reader';
import { archivePrefix, daysBetween, EVENT_TYPES, type EventType, legacyEventPrefix } from '#domain/archive';

/** A store the split can write to and delete from (S3, or the local directory). */
export interface SplitStore extends ArchiveObjects {
  put(key: string, bytes: Uint8Array): Promise<void>;
  remove(key: string): Promise<void>;
}

export interface SplitOptions {
  /** First and last partition date, `YYYY-MM-DD`, inclusive. */
  readonly from: string;
  readonly to: string;
  /** Delete each old object once its lines are written under the typed layout. @default false */
  readonly remove?: boolean;
  /** Count only; write and delete nothing. @default false */
  readonly dryRun?: boolean;
  /** Told about each object as it is done. */
  readonly onObject?: (key: string, lines: Record<string, number>) => void;
}

export interface SplitResult {
  readonly objects: number;
  /** Lines per type written (or, dry, that would be), `unknown` for the rest. */
  readonly lines: Record<string, number>;
  readonly removed: number;
}

/** The type a line is filed under: the event's type when the contract knows it, else `unknown`. */
export function lineType(line: string): EventType | 'unknown' {
  try {
    const type = (JSON.parse(line) as { kind?: unknown; event?: { type?: unknown } } | null)?.event?.type;
    return (EVENT_TYPES as readonly unknown[]).includes(type) ? (type as EventType) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The typed key of one old object's lines of `type`. */
export function splitKey(oldKey: string, date: string, type: EventType | 'unknown'): string {
  const name = oldKey.slice(legacyEventPrefix(date).length).replace(/(\.jsonl)?(\.gz)?$/, '');
  return `${archivePrefix('event', date, type as EventType)}split-${name}.jsonl.gz`;
}

/** Gzip of the lines written to it, held in memory (one old object's share of a type). */
class GzipBuffer {
  private readonly gzip = createGzip();
  private readonly chunks: Buffer[] = [];
  lines = 0;
  constructor() {
    this.gzip.on('data', (chunk: Buffer) => this.chunks.push(chunk));
  }
  write(line: string): void {
    this.lines += 1;
    this.gzip.write(`${line}\n`);
  }
  /** The whole gzip stream: after its readable side ended (`finish` alone may leave data unread). */
  async end(): Promise<Buffer> {
    const ended = once(this.gzip, 'end');
    this.gzip.end();
    await ended;
    return Buffer.concat(this.chunks);
  }
}

/** Moves the old layout's events of `[from, to]` into the typed layout. */
export async function splitEvents(store: SplitStore, options: SplitOptions): Promise<SplitResult> {
  const lines: Record<string, number> = {};
  let objects = 0;
  let removed = 0;
  for (const date of daysBetween(options.from, options.to)) {
    for (const key of (await store.list(legacyEventPrefix(date))).sort()) {
      // Only objects directly in the old partition (a typed prefix never sits under it).
      if (key.slice(legacyEventPrefix(date).length).includes('/')) continue;
      objects += 1;
      const byType = new Map<EventType | 'unknown', GzipBuffer>();
      // Damage is kept as it is (a corrupt gzip stream throws: the object is left in place).
      for await (const line of splitLines(
        decompressed(await store.open(key)),
        Number.MAX_SAFE_INTEGER,
        () => {},
      )) {
        if (line.trim() === '') continue;
        const type = lineType(line);
        const buffer = byType.get(type) ?? new GzipBuffer();
        byType.set(type, buffer);
        buffer.write(line);
      }
      const counts: Record<string, number> = {};
      for (const [type, buffer] of byType) {
        const bytes = await buffer.end();
        counts[type] = buffer.lines;
        lines[type] = (lines[type] ?? 0) + buffer.lines;
        if (!options.dryRun) await store.put(splitKey(key, date, type), bytes);
      }
      if (options.remove && !options.dryRun) {
        await store.remove(key);
        removed += 1;
      }
      options.onObject?.(key, counts);
    }
  }
  return { objects, lines, removed };
}

/** The archive bucket as a {@link SplitStore} (objects are encrypted by the bucket's default key). */
export class S3SplitStore implements SplitStore {
  private readonly objects: S3ArchiveObjects;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly root = '',
  ) {
    this.objects = new S3ArchiveObjects(client, bucket, root);
  }

  list(prefix: string): Promise<string[]> {
    return this.objects.list(prefix);
  }

  open(key: string): Promise<AsyncIterable<Uint8Array>> {
    return this.objects.open(key);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: `${this.root}${key}`, Body: bytes }),
    );
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${this.root}${key}` }));
  }
}

/** The local archive directory as a {@link SplitStore}. */
export class LocalSplitStore extends LocalArchiveObjects implements SplitStore {
  constructor(private readonly dir: string) {
    super(dir);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await mkdir(dirname(join(this.dir, key)), { recursive: true });
    await writeFile(join(this.dir, key), bytes);
  }

  async remove(key: string): Promise<void> {
    await rm(join(this.dir, key));
  }
}
