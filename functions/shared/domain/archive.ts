/**
 * The event and answer archive: what every accepted event and every score answer leaves behind
 * (the next model's training set, the calibration monitor's scores and labels), and the
 * bounded buffer that gets it there without the request waiting.
 *
 * Records carry card tokens only. A raw card number never reaches them: requests and events
 * with one are refused before they are scored or accepted (`pan.ts`), and a record is built
 * only from an accepted request or event.
 *
 * Layout (S3 and the local directory alike): `score/dt=YYYY-MM-DD/…` and
 * `event/type=<event type>/dt=YYYY-MM-DD/…`, gzip JSON lines, where the date is the one the
 * event's own time is written with (`archiveDate`): a query or an export for a day of
 * transactions reads that day's partition, however late a record arrived. Events are split by
 * type so that a reader of labels (the calibration monitor) lists and reads the labels only,
 * about 1 % of the event lines, instead of every authorization (`docs/archive.md#layout`).
 */
import type { ScoreOutcome } from './score';
import type { ShadowResult } from './scorers';
import { segmentKey, segmentOf } from './segment';
import type { Channel, ScoreRequest, TransactionEvent } from './types';

/** The two record kinds; each is a top-level prefix of the archive. */
export const ARCHIVE_KINDS = ['score', 'event'] as const;
export type ArchiveKind = (typeof ARCHIVE_KINDS)[number];

/** An event's `type`: each has a partition of its own under `event/`. */
export type EventType = TransactionEvent['type'];

/**
 * Every event type the contract accepts (a unit test holds it to `eventSchema`), in the order
 * Glue's partition projection lists them.
 */
export const EVENT_TYPES = ['authorization', 'label'] as const satisfies readonly EventType[];

/** A shadow model's opinion on the same request (never returned to the caller). */
export interface ShadowScore {
  readonly model: string;
  readonly version: string;
  readonly score: number | null;
  readonly decision: string;
}

/** One score answer, as the archive keeps it. */
export interface ScoreRecord {
  readonly kind: 'score';
  readonly transactionId: string;
  /** The vault's card token; never a card number. */
  readonly cardId: string;
  readonly merchantId: string;
  /** The request's `timestamp` (ISO, as sent). */
  readonly eventTime: string;
  /** When the answer was given (ISO, UTC). */
  readonly scoredAt: string;
  readonly functionVersion: string;
  readonly modelVersion: string;
  readonly policyVersion?: string;
  /** Null when no model scored (rules-only answer). */
  readonly score: number | null;
  readonly decision: string;
  /** Reason codes, in the answer's order. */
  readonly reasons: readonly string[];
  readonly degraded: readonly string[];
  /** `segmentKey` of the request, e.g. `ecommerce.high.new`. */
  readonly segment: string;
  readonly amount: number;
  readonly currency: string;
  readonly channel: Channel;
  readonly shadow?: ShadowScore;
}

/** One accepted `/v1/events` event, as received. */
export interface EventRecord {
  readonly kind: 'event';
  /** When the events function accepted it (ISO, UTC). */
  readonly receivedAt: string;
  /** The accepted event, exactly as its `/v1/events` body (or batch entry) held it. */
  readonly event: TransactionEvent;
}

export type ArchiveRecord = ScoreRecord | EventRecord;

/** Who gave the answer: the deploy's versions (the metric dimensions). */
export interface AnswerOrigin {
  readonly functionVersion: string;
  readonly modelVersion: string;
}

/** A shadow's result as the archive keeps it. */
export function shadowScoreOf(shadow: ShadowResult): ShadowScore {
  return {
    model: shadow.model.name,
    version: shadow.model.version,
    score: shadow.score,
    decision: shadow.decision,
  };
}

/**
 * The record of one fresh answer. Its `shadow` is `shadow` when given, else the outcome's first
 * shadow (the composition's order: the candidate tree shadow is the stage's one `shadow`), so
 * the archive keeps the pair (live, candidate) that the judge's paired test counted.
 */
export function scoreRecordOf(
  request: ScoreRequest,
  outcome: Pick<ScoreOutcome, 'response' | 'signals'> & { readonly shadows?: readonly ShadowResult[] },
  origin: AnswerOrigin,
  scoredAt: number,
  shadow: ShadowScore | undefined = outcome.shadows?.[0] && shadowScoreOf(outcome.shadows[0]),
): ScoreRecord {
  const { response } = outcome;
  return {
    kind: 'score',
    transactionId: request.transactionId,
    cardId: request.cardId,
    merchantId: request.merchantId,
    eventTime: request.timestamp,
    scoredAt: new Date(scoredAt).toISOString(),
    functionVersion: origin.functionVersion,
    modelVersion: response.model?.version ?? origin.modelVersion,
    policyVersion: response.policyVersion,
    score: response.score,
    decision: response.decision,
    reasons: response.reasons.map((reason) => reason.code),
    degraded: [...response.degraded],
    segment: segmentKey(segmentOf(request, outcome.signals.cardFound)),
    amount: request.amount,
    currency: request.currency,
    channel: request.channel,
    ...(shadow ? { shadow } : {}),
  };
}

/** The record of one accepted event. */
export function eventRecordOf(event: TransactionEvent, receivedAt: number): EventRecord {
  return { kind: 'event', receivedAt: new Date(receivedAt).toISOString(), event };
}

/** The time a record is about: the request's time for answers, the event's own time for events. */
export function archiveEventTime(record: ArchiveRecord): string {
  return record.kind === 'score' ? record.eventTime : record.event.timestamp;
}

/**
 * The record's date partition, `YYYY-MM-DD`: the first ten characters of its event time, as the
 * sender wrote it. Firehose's dynamic partitioning computes the same with a JQ slice, so the
 * local and the AWS layout agree; a time written with an offset (`…+02:00`) lands in its local
 * date, which readers cover by reading one partition either side of a range.
 */
export function archiveDate(record: ArchiveRecord): string {
  const time = archiveEventTime(record);
  const date = time.slice(0, 10);
  // Contract-validated times always start with a date; anything else must not become a path.
  return /^\d{4}-\d\d-\d\d$/.test(date) ? date : new Date(Date.parse(time) || 0).toISOString().slice(0, 10);
}

/**
 * Whether `prefix` can stand before the archive's keys in a bucket: empty, or a folder ending
 * in `/`. Every key starts `<prefix>score/` or `<prefix>event/`, so a prefix without its slash
 * matches no key and a reader would silently find nothing.
 */
export function isArchiveBucketPrefix(prefix: string): boolean {
  return prefix === '' || prefix.endsWith('/');
}

/**
 * The prefix (S3) or directory (local) of a partition: `score/dt=YYYY-MM-DD/`, or
 * `event/type=<type>/dt=YYYY-MM-DD/` — an event partition always names its type.
 * `date` may be `*` to name every date in an IAM resource or condition.
 */
export function archivePrefix(kind: 'score', date: string): string;
export function archivePrefix(kind: 'event', date: string, type: EventType): string;
export function archivePrefix(kind: ArchiveKind, date: string, type?: EventType): string;
export function archivePrefix(kind: ArchiveKind, date: string, type?: EventType): string {
  if (kind === 'score') return `score/dt=${date}/`;
  if (type === undefined) throw new TypeError('an event partition names its type');
  return `event/type=${type}/dt=${date}/`;
}

/**
 * The event layout before events were split by type (`event/dt=YYYY-MM-DD/`, every type in
 * one partition). Nothing writes it any more; `events:export` still reads it, and
 * `npm run archive:split-events` moves its objects into the typed layout.
 */
export function legacyEventPrefix(date: string): string {
  return `event/dt=${date}/`;
}

/**
 * The partition of a record, as Firehose's dynamic partitioning computes it
 * (`infra/constructs/archive.ts`, `PARTITION_QUERY`). An event type outside the contract's
 * (only a record that bypassed the contract could have one) is written under `type=unknown`
 * rather than becoming part of a path.
 */
export function recordPrefix(record: ArchiveRecord): string {
  if (record.kind === 'score') return archivePrefix('score', archiveDate(record));
  const type = record.event.type;
  const known = (EVENT_TYPES as readonly unknown[]).includes(type) ? type : ('unknown' as EventType);
  return archivePrefix('event', archiveDate(record), known);
}

/** Every `YYYY-MM-DD` from `from` to `to`, inclusive (the partitions of a range of days). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * Where records go. Implementations are asynchronous and bounded: `offer` never waits and never
 * throws; a record that cannot be kept is counted as dropped.
 */
export interface Archive {
  /** Hands a record over; returns at once. */
  offer(record: ArchiveRecord): void;
  /** Counts since the previous call (and resets them), for the caller's metrics. */
  takeCounts(): ArchiveCounts;
  /** Delivers everything buffered; resolves when it is delivered or dropped. */
  flush(): Promise<void>;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
}

export interface ArchiveCounts {
  /** Records the sink accepted. */
  readonly delivered: number;
  /** Records lost: buffer full, or delivery failed after the sink's retry. */
  readonly dropped: number;
}

/**
 * The outside world of a {@link BufferedArchive}: Firehose in AWS, files locally. It retries
 * as it sees fit (bounded) and reports the records it could not deliver.
 */
export interface ArchiveSink {
  /** Delivers one batch; resolves with the number of its records that were not delivered. */
  deliver(records: readonly ArchiveRecord[]): Promise<number>;
}

export interface BufferedArchiveOptions {
  /** Most records held (buffered and in flight); past it, offers are dropped. @default 2000 */
  readonly capacity?: number;
  /** Most records per delivery; a full batch is sent at once. @default 500 (Firehose's PutRecordBatch limit) */
  readonly batchSize?: number;
  /**
   * Longest a record waits in the buffer before a delivery starts, ms. 0 delivers on the next
   * turn of the event loop, after the current request has answered: in Lambda, this sends each
   * invocation's records right after its response, before the environment freezes.
   * @default 1000
   */
  readonly intervalMs?: number;
  /** Called when a delivery throws (the records are counted as dropped). */
  readonly onError?: (error: unknown) => void;
}

/**
 * An {@link Archive} over a sink: a fixed-size buffer, flushed by size and by interval, one
 * delivery at a time. Records are never retried here (the sink does its bounded retry), so
 * memory stays bounded however long the sink is down.
 */
export class BufferedArchive implements Archive {
  private buffer: ArchiveRecord[] = [];
  private inFlight = 0;
  private delivered = 0;
  private dropped = 0;
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  private draining: Promise<void> | undefined;
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly intervalMs: number;

  constructor(
    private readonly sink: ArchiveSink,
    private readonly options: BufferedArchiveOptions = {},
  ) {
    this.capacity = options.capacity ?? 2000;
    this.batchSize = options.batchSize ?? 500;
    this.intervalMs = options.intervalMs ?? 1000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('capacity must be ≥ 1');
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1)
      throw new RangeError('batchSize must be ≥ 1');
    if (!(this.intervalMs >= 0)) throw new RangeError('intervalMs must be ≥ 0');
  }

  /** Records held now (buffered and in flight). */
  get size(): number {
    return this.buffer.length + this.inFlight;
  }

  offer(record: ArchiveRecord): void {
    if (this.size >= this.capacity) {
      this.dropped++;
      return;
    }
    this.buffer.push(record);
    if (this.buffer.length >= this.batchSize) void this.flush();
    else this.arm();
  }

  takeCounts(): ArchiveCounts {
    const counts = { delivered: this.delivered, dropped: this.dropped };
    this.delivered = 0;
    this.dropped = 0;
    return counts;
  }

  flush(): Promise<void> {
    this.disarm();
    // One drain at a time; a flush during a drain waits for it, and the drain takes what was
    // buffered meanwhile too.
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      // Offered after the drain's last look but before it settled: not stranded.
      if (this.buffer.length > 0) this.arm();
    });
    return this.draining;
  }

  async close(): Promise<void> {
    await this.flush();
    this.disarm();
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      this.inFlight += batch.length;
      let failed: number;
      try {
        failed = Math.min(batch.length, Math.max(0, await this.sink.deliver(batch)));
      } catch (error) {
        failed = batch.length;
        this.options.onError?.(error);
      }
      this.inFlight -= batch.length;
      this.delivered += batch.length - failed;
      this.dropped += failed;
    }
  }

  private arm(): void {
    if (this.timer !== undefined || this.draining) return;
    const fire = () => {
      this.timer = undefined;
      void this.flush();
    };
    // Unref'd: a pending delivery must not keep a finished process alive (close() flushes).
    this.timer = this.intervalMs === 0 ? setImmediate(fire) : setTimeout(fire, this.intervalMs);
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    if (this.intervalMs === 0) clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    else clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    this.timer = undefined;
  }
}
