/**
 * The archive's AWS sink: Amazon Data Firehose `PutRecordBatch`, one JSON line per record. The
 * delivery stream partitions by date and writes gzip objects to S3 (`infra/constructs/archive.ts`).
 *
 * PutRecordBatch can succeed as a call while refusing some records (`FailedPutCount`, an
 * `ErrorCode` per refused entry, typically throttling): those records, or the whole batch when
 * the call fails, are sent once more after a short pause, and what still fails is reported as
 * not delivered. One retry keeps the buffer bounded when Firehose is down for long.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { ArchiveRecord, ArchiveSink } from '#domain/archive';

/** PutRecordBatch limits: 500 records, 4 MiB per call, 1000 KiB per record. */
export const FIREHOSE_LIMITS = {
  records: 500,
  callBytes: 4 * 1024 * 1024,
  recordBytes: 1000 * 1024,
} as const;

export interface FirehoseArchiveOptions {
  /** Pause before the one retry, ms. @default 100 */
  readonly retryDelayMs?: number;
  /** Told about each failed call (the records are retried or reported, never thrown). */
  readonly onError?: (error: unknown) => void;
}

const encoder = new TextEncoder();

/** Splits encoded records into calls within Firehose's count and size limits. */
export function firehoseBatches(records: readonly Uint8Array[]): Uint8Array[][] {
  const batches: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let bytes = 0;
  for (const record of records) {
    if (current.length === FIREHOSE_LIMITS.records || bytes + record.byteLength > FIREHOSE_LIMITS.callBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += record.byteLength;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export class FirehoseArchiveSink implements ArchiveSink {
  private readonly retryDelayMs: number;

  constructor(
    private readonly client: FirehoseClient,
    private readonly streamName: string,
    private readonly options: FirehoseArchiveOptions = {},
  ) {
    this.retryDelayMs = options.retryDelayMs ?? 100;
  }

  /** A client for Lambda: the SDK's own retries are kept to one, this sink does the other. */
  static create(
    streamName: string,
    options: FirehoseArchiveOptions & { readonly region: string; readonly endpoint?: string },
  ): FirehoseArchiveSink {
    const client = new FirehoseClient({ region: options.region, endpoint: options.endpoint, maxAttempts: 2 });
    return new FirehoseArchiveSink(client, streamName, options);
  }

  async deliver(records: readonly ArchiveRecord[]): Promise<number> {
    let oversized = 0;
    const encoded: Uint8Array[] = [];
    for (const record of records) {
      const data = encoder.encode(`${JSON.stringify(record)}\n`);
      if (data.byteLength > FIREHOSE_LIMITS.recordBytes) oversized++;
      else encoded.push(data);
    }
    let failed = 0;
    for (const batch of firehoseBatches(encoded)) failed += await this.putWithRetry(batch);
    return oversized + failed;
  }

  /** Sends a batch, then its refused records once more; returns how many were never accepted. */
  private async putWithRetry(batch: Uint8Array[]): Promise<number> {
    let pending = batch;
    for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
      pending = await this.put(pending);
    }
    return pending.length;
  }

  /** One call; returns the records it did not accept (all of them if the call failed). */
  private async put(batch: Uint8Array[]): Promise<Uint8Array[]> {
    try {
      const result = await this.client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: this.streamName,
          Records: batch.map((Data) => ({ Data })),
        }),
      );
      if (!result.FailedPutCount) return [];
      const responses = result.RequestResponses ?? [];
      // Without a per-entry answer there is no telling which failed: resend the batch.
      if (responses.length !== batch.length) return batch;
      return batch.filter((_, i) => responses[i]?.ErrorCode !== undefined);
    } catch (error) {
      this.options.onError?.(error);
      return batch;
    }
  }
}
