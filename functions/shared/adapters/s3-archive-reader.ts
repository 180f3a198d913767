/**
 * Reads the event and answer archive in S3 (Firehose's `score/dt=YYYY-MM-DD/…jsonl.gz` and
 * `event/type=<type>/dt=YYYY-MM-DD/…` objects, KMS-encrypted at rest; `docs/archive.md`).
 *
 * Two layers: {@link S3ArchiveObjects} lists a partition (following ListObjectsV2 pages) and
 * opens or reads one object — `events:export` reads whole objects through it; the calibration
 * monitor's {@link ArchiveRecordReader} (exported as `S3ArchiveReader` too) streams each object
 * through gunzip and a line splitter, so memory holds one chunk and one line at a time, whatever
 * the size of the partition. The same record reader runs over the local layout
 * (`FileArchiveReader`), so both skip exactly the same lines; whether a line's record is valid
 * is decided once, in `#domain/archive-records`.
 *
 * Damage is counted, logged and skipped, never fatal: a line that is not JSON, not the expected
 * record or longer than `maxLineChars`, and an object whose gzip stream is corrupt or truncated
 * (the lines before the damage are kept). Errors of S3 itself (access denied, the KMS key, the
 * connection) are thrown: a run that cannot read the archive must fail, not publish figures of
 * a silently partial window.
 */
import { pipeline, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { archivePrefix, daysBetween } from '#domain/archive';
import { type ArchivedLabelWithTime, answerOf, labelOf } from '#domain/archive-records';
import type {
  AnswerScope,
  ArchivedAnswer,
  ArchiveReader,
  ArchiveReadStats,
} from '#domain/monitoring/calibration';

/** What a record reader needs of a store: list a partition's keys, open one object as bytes. */
export interface ArchiveObjects {
  /** Keys under `prefix` (`event/type=label/dt=2026-11-23/`), relative to the archive's root; none when absent. */
  list(prefix: string): Promise<string[]>;
  /** The object's bytes, streamed. */
  open(key: string): Promise<AsyncIterable<Uint8Array>>;
}

/** The archive bucket's objects, optionally under a root prefix. Keys are relative to the root. */
export class S3ArchiveObjects implements ArchiveObjects {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly root = '',
  ) {}

  /** Keys under `prefix` (`score/dt=2026-11-23/`), every ListObjectsV2 page; none when absent. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: `${this.root}${prefix}`,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.root.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** The whole object. */
  async read(key: string): Promise<Uint8Array> {
    return (await this.body(key)).transformToByteArray();
  }

  /** The object as a stream of bytes (Node's `Readable` in Lambda; a web stream elsewhere). */
  async open(key: string): Promise<AsyncIterable<Uint8Array>> {
    const body = await this.body(key);
    if (Symbol.asyncIterator in body) return body as unknown as AsyncIterable<Uint8Array>;
    return Readable.fromWeb(body.transformToWebStream() as Parameters<typeof Readable.fromWeb>[0]);
  }

  private async body(key: string) {
    const object = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: `${this.root}${key}` }),
    );
    if (!object.Body) throw new Error(`s3://${this.bucket}/${this.root}${key} has no body`);
    return object.Body;
  }
}

/** The gzip stream of an object is corrupt or truncated (zlib's `Z_*` error codes). */
export class CorruptObjectError extends Error {
  override readonly name = 'CorruptObjectError';
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/**
 * The bytes of `body`, gunzipped when they start with gzip's magic bytes (several members, as
 * concatenated gzip files, are read in turn).
 *
 * @throws CorruptObjectError when the gzip stream is damaged; the body's own errors as they are
 */
export async function* decompressed(body: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const iterator = body[Symbol.asyncIterator]();
  // Enough bytes to recognise gzip (a first chunk may be a single byte).
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < 2 && !ended) {
    const next = await iterator.next();
    if (next.done) ended = true;
    else head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      yield Buffer.from(next.value);
  }
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    yield* all();
    return;
  }
  const gunzip = createGunzip();
  // On a body error pipeline destroys gunzip with that error, so the loop below sees it.
  pipeline(Readable.from(all()), gunzip, () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    if (isZlibError(error)) throw new CorruptObjectError((error as Error).message, { cause: error });
    throw error;
  }
}

/**
 * The lines of a byte stream (UTF-8 split safely across chunks; `\n` or `\r\n`; a last line
 * without a newline counts). A line longer than `maxChars` is dropped, reported through
 * `onOverlong`, and never held whole: memory stays within one chunk plus `maxChars`.
 */
export async function* splitLines(
  chunks: AsyncIterable<Buffer>,
  maxChars: number,
  onOverlong: () => void,
): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let discarding = false;
  const emit = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);
  for await (const chunk of chunks) {
    pending += decoder.write(chunk);
    let start = 0;
    for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n', start)) {
      if (discarding) discarding = false;
      else if (nl - start > maxChars) onOverlong();
      else yield emit(pending.slice(start, nl));
      start = nl + 1;
    }
    pending = pending.slice(start);
    if (pending.length > maxChars) {
      if (!discarding) onOverlong();
      discarding = true;
      pending = '';
    }
  }
  pending += decoder.end();
  if (discarding || pending === '') return;
  if (pending.length > maxChars) onOverlong();
  else yield emit(pending);
}

const EVENT_TIME_KEY = '"eventTime":"';

/**
 * Whether a score line's `eventTime` is written in UTC (`…Z`), read without parsing the line:
 * the first `"eventTime":"` of a JSON line is a key (a quote inside a string value is escaped),
 * and the value ends at the next quote (a time holds no escapes). The archive's writer puts the
 * key once; a forged line with two is judged by the first.
 */
export function writtenInUtc(line: string): boolean {
  const start = line.indexOf(EVENT_TIME_KEY);
  if (start === -1) return false;
  const end = line.indexOf('"', start + EVENT_TIME_KEY.length);
  return end > 0 && line.charCodeAt(end - 1) === 0x5a; // 'Z'
}

/** How {@link ArchiveRecordReader} reports what it skipped (the function's logger in AWS). */
export type ArchiveLog = (message: string, details: Record<string, unknown>) => void;

export interface S3ArchiveReaderOptions {
  /**
   * Where skipped lines and unreadable objects are reported, each with its key (and line).
   * @default - not reported, only counted
   */
  readonly log?: ArchiveLog;
  /**
   * Longest line kept, characters (a record is a few hundred).
   * @default 1 MiB
   */
  readonly maxLineChars?: number;
  /**
   * Reports logged per run: beyond it the counters still count, the log stays readable.
   * @default 50
   */
  readonly maxLoggedIssues?: number;
  /**
   * Label objects read at once by the label scan (weeks of partitions; labels are unordered).
   * Answers are always read one object after another, in key order.
   * @default 4
   */
  readonly labelScanConcurrency?: number;
}

type ParsedLine = { record: unknown; where: { key: string; line: number } };

/**
 * The items of several async sources, at most `concurrency` of them read at a time, in the
 * order they arrive. Bounded: a source waits while `highWater` items are waiting to be taken
 * (each running source may add one more before it waits).
 * The first source error stops the others and is thrown; so is stopping early.
 */
export async function* inParallel<T>(
  sources: readonly (() => AsyncIterable<T>)[],
  concurrency: number,
  highWater = 1024,
): AsyncGenerator<T> {
  const buffer: T[] = [];
  const waitingForSpace: (() => void)[] = [];
  let wake: (() => void) | undefined;
  let next = 0;
  let running = 0;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  async function worker(): Promise<void> {
    while (!stopped && next < sources.length) {
      const source = sources[next++] as () => AsyncIterable<T>;
      for await (const item of source()) {
        if (stopped) return;
        buffer.push(item);
        notify();
        while (buffer.length >= highWater && !stopped)
          await new Promise<void>((r) => waitingForSpace.push(r));
      }
    }
  }
  for (let i = 0; i < Math.min(concurrency, sources.length); i++) {
    running += 1;
    worker()
      .catch((error: unknown) => {
        failure ??= { error };
        stopped = true;
      })
      .finally(() => {
        running -= 1;
        notify();
      });
  }
  try {
    for (;;) {
      if (failure) throw failure.error;
      if (buffer.length > 0) {
        const item = buffer.shift() as T;
        if (buffer.length < highWater) for (const resume of waitingForSpace.splice(0)) resume();
        yield item;
        continue;
      }
      if (running === 0) return;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  } finally {
    stopped = true;
    for (const resume of waitingForSpace.splice(0)) resume();
  }
}

/**
 * One shared copy of each of a few short, much repeated strings (segments, model versions):
 * JSON.parse makes a new string per record, and a run holds millions of answers. Bounded, so
 * hostile input cannot grow it: past `max` distinct values, strings pass through unshared.
 */
export function interner(max = 1000): (value: string) => string {
  const seen = new Map<string, string>();
  return (value) => {
    const known = seen.get(value);
    if (known !== undefined) return known;
    if (seen.size < max) seen.set(value, value);
    return value;
  };
}

/**
 * The calibration monitor's port over the archive: the answers (`score/dt=…/`) and the label
 * events (`event/type=label/dt=…/`, never the authorizations) of a range of date partitions,
 * streamed object by object from any {@link ArchiveObjects} (S3, or the local directory).
 */
export class ArchiveRecordReader implements ArchiveReader {
  /** What this reader has read and skipped since it was created. */
  readonly stats: ArchiveReadStats = { objects: 0, lines: 0, skippedLines: 0, unreadableObjects: 0 };
  private logged = 0;
  private readonly maxLineChars: number;
  private readonly maxLoggedIssues: number;

  constructor(
    private readonly objects: ArchiveObjects,
    private readonly options: S3ArchiveReaderOptions = {},
  ) {
    this.maxLineChars = options.maxLineChars ?? 1024 * 1024;
    this.maxLoggedIssues = options.maxLoggedIssues ?? 50;
  }

  async *answers(fromDay: string, toDay: string, scope: AnswerScope = {}): AsyncIterable<ArchivedAnswer> {
    const intern = interner();
    const partition = (day: string) => archivePrefix('score', day);
    const wanted = scope.offsetTimesOnly ? (line: string) => !writtenInUtc(line) : undefined;
    for await (const { record, where } of this.records(partition, fromDay, toDay, 1, wanted)) {
      const answer = answerOf(record, intern);
      if (answer) yield answer;
      else this.skip(where, 'not a score record');
    }
  }

  async *labels(fromDay: string, toDay: string): AsyncIterable<ArchivedLabelWithTime> {
    // Only the label partitions: the authorizations (~99 % of the events) are never listed.
    const partition = (day: string) => archivePrefix('event', day, 'label');
    const concurrency = this.options.labelScanConcurrency ?? 4;
    for await (const { record, where } of this.records(partition, fromDay, toDay, concurrency)) {
      const label = labelOf(record);
      if (label) yield label;
      // A valid event of another type cannot be under `type=label/` unless written by hand:
      // damage like any other.
      else this.skip(where, label === null ? 'not a label event' : 'not a label record');
    }
  }

  /**
   * The parsed lines of every object of the day range's partitions: one object after another,
   * or with `concurrency` > 1 several at once (gunzip runs on libuv's threads, so a wide scan
   * uses more than one core) in no particular order.
   */
  private async *records(
    partition: (day: string) => string,
    fromDay: string,
    toDay: string,
    concurrency = 1,
    wanted?: (line: string) => boolean,
  ): AsyncGenerator<ParsedLine> {
    const keys: string[] = [];
    for (const day of daysBetween(fromDay, toDay))
      keys.push(...(await this.objects.list(partition(day))).sort());
    const perObject = keys.map((key) => () => this.objectRecords(key, wanted));
    if (concurrency <= 1) for (const open of perObject) yield* open();
    else yield* inParallel(perObject, concurrency);
  }

  /** The parsed lines of one object; a line `wanted` refuses is read (counted) but not parsed. */
  private async *objectRecords(key: string, wanted?: (line: string) => boolean): AsyncGenerator<ParsedLine> {
    this.stats.objects += 1;
    let line = 0;
    const overlong = () => {
      line += 1;
      this.skip({ key, line }, `line longer than ${this.maxLineChars} characters`);
    };
    try {
      for await (const text of splitLines(
        decompressed(await this.objects.open(key)),
        this.maxLineChars,
        overlong,
      )) {
        line += 1;
        this.stats.lines += 1;
        if (text.trim() === '' || (wanted && !wanted(text))) continue;
        let record: unknown;
        try {
          record = JSON.parse(text);
        } catch {
          this.skip({ key, line }, 'not JSON');
          continue;
        }
        yield { record, where: { key, line } };
      }
    } catch (error) {
      if (!(error instanceof CorruptObjectError)) throw error;
      this.stats.unreadableObjects += 1;
      this.report('archive object unreadable after this line; the rest of it is skipped', {
        key,
        line,
        error: error.message,
      });
    }
  }

  private skip(where: { key: string; line: number }, reason: string): void {
    this.stats.skippedLines += 1;
    this.report('archive line skipped', { ...where, reason });
  }

  private report(message: string, details: Record<string, unknown>): void {
    if (!this.options.log || this.logged >= this.maxLoggedIssues) return;
    this.logged += 1;
    this.options.log(message, details);
  }
}

/** The record reader as the S3 wiring names it (`new S3ArchiveReader(new S3ArchiveObjects(…))`). */
export { ArchiveRecordReader as S3ArchiveReader };
