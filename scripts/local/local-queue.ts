/**
 * The local stand-in for SQS and its Lambda event source, in the queue process (`queue-process.ts`):
 * messages are accepted at once (as SQS acknowledges a send), delivered to the real
 * feature-updater handler in batches of up to `batchSize`, gathered for up to `batchWindowMs`
 * (the event source's `MaximumBatchingWindowInSeconds`), failed records (partial batch response)
 * redelivered up to `maxReceives` times, then dead-lettered with a log line. At least once,
 * like SQS; the updater's exactly-once rules make that safe.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { TransactionEvent } from '#domain/types';

interface Message {
  id: string;
  body: string;
  receiveCount: number;
  /** When it was accepted (epoch ms). */
  sentAt: number;
}

export interface LocalQueueStats {
  pending: number;
  inFlight: number;
  applied: number;
  redelivered: number;
  deadLettered: number;
}

export class LocalQueue {
  private readonly pending: Message[] = [];
  private inFlight = 0;
  private nextId = 0;
  private running = false;
  private readonly idle: (() => void)[] = [];
  private readonly counts = { applied: 0, redelivered: 0, deadLettered: 0 };
  /** Ends the current batching window early once a full batch is pending. */
  private batchFull?: () => void;

  constructor(
    private readonly deliver: (event: SQSEvent) => Promise<SQSBatchResponse>,
    private readonly options: {
      /**
       * Most messages per delivery; a delivery takes whatever is pending up to this, so batches
       * are small while the updater keeps up and grow only with a backlog.
       * @default 10 (SQS's batch size without a batching window)
       */
      batchSize?: number;
      /**
       * How long a delivery waits for a full batch, from its oldest message, as the event source's
       * batching window does: fewer, larger batches (the writer folds a batch's events on one item
       * into one write) for events applied up to this much later.
       * @default 0 (deliver at once)
       */
      batchWindowMs?: number;
      maxReceives?: number;
      onDeadLetter?: (id: string) => void;
    } = {},
  ) {}

  /** Accepts events (one message each) and returns at once; delivery is asynchronous. */
  send(events: readonly TransactionEvent[]): void {
    const sentAt = Date.now();
    for (const event of events) {
      this.nextId += 1;
      this.pending.push({ id: String(this.nextId), body: JSON.stringify(event), receiveCount: 0, sentAt });
    }
    if (this.pending.length >= this.batchSize) this.batchFull?.();
    void this.run();
  }

  private get batchSize(): number {
    return this.options.batchSize ?? 10;
  }

  /** How long the next delivery still waits for a fuller batch (0: deliver now). */
  private gatherMs(): number {
    const windowMs = this.options.batchWindowMs ?? 0;
    const oldest = this.pending[0];
    if (windowMs <= 0 || !oldest || this.pending.length >= this.batchSize) return 0;
    return Math.max(0, oldest.sentAt + windowMs - Date.now());
  }

  /** Waits `waitMs`, or less if a full batch is pending first. */
  private async gather(waitMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.batchFull = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.batchFull = undefined;
  }

  get stats(): LocalQueueStats {
    return { pending: this.pending.length, inFlight: this.inFlight, ...this.counts };
  }

  /** Resolves once every accepted message has been applied or dead-lettered. */
  drained(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.length > 0) {
        // Awaited only when there is a wait: without a window, a delivery starts in the same tick.
        const waitMs = this.gatherMs();
        if (waitMs > 0) await this.gather(waitMs);
        const batch = this.pending.splice(0, this.batchSize);
        this.inFlight = batch.length;
        for (const message of batch) message.receiveCount += 1;
        const failedIds = await this.deliverBatch(batch);
        this.inFlight = 0;
        for (const message of batch) {
          if (!failedIds.has(message.id)) this.counts.applied += 1;
          else if (message.receiveCount >= (this.options.maxReceives ?? 5)) {
            this.counts.deadLettered += 1;
            this.options.onDeadLetter?.(message.id);
          } else {
            this.counts.redelivered += 1;
            this.pending.push(message);
          }
        }
      }
    } finally {
      this.running = false;
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private async deliverBatch(batch: Message[]): Promise<Set<string>> {
    const records = batch.map((message) => sqsRecord(message));
    try {
      const response = await this.deliver({ Records: records });
      return new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      // A thrown handler fails the whole batch, as with Lambda.
      return new Set(batch.map((m) => m.id));
    }
  }
}

function sqsRecord(message: Message): SQSRecord {
  return {
    messageId: message.id,
    receiptHandle: message.id,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:events',
    awsRegion: 'local',
  };
}
