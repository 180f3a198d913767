/**
 * Triton's dynamic batching, for one model, on any executor.
 *
 * Semantics (Triton's "Dynamic Batcher" and "Scheduling" docs):
 * - requests queue in arrival order; a batch is whole requests, at most `maxBatchSize` rows;
 * - when an instance is free, the batcher dispatches at once if the queue holds a full batch
 *   (max batch size) or a batch of a preferred size (the largest one it can form, in order);
 *   otherwise it waits until the oldest request has waited `maxQueueDelayMicroseconds`, then
 *   dispatches the largest batch it can form;
 * - with no preferred sizes the max batch size is the only preferred size;
 * - without `dynamic_batching`, every request runs alone (Triton's default scheduler);
 * - each instance runs one batch at a time; requests wait while every instance is busy.
 */

import { PreciseTimer } from './precise-timer';

/** Runs one batch: inputs by name (rows concatenated), outputs by name. */
export type BatchExecutor = (
  inputs: Readonly<Record<string, Float32Array>>,
  rows: number,
) => Promise<Record<string, Float32Array>>;

/** How the batcher forms batches (from config.pbtxt). */
export interface BatcherOptions {
  /** Rows per batch at most; 0 or 1 means no batching across requests. */
  maxBatchSize: number;
  /** Undefined: no dynamic batching (each request alone). */
  dynamic?: { preferredBatchSizes: readonly number[]; maxQueueDelayMicroseconds: number };
  /** Batches that may run at the same time. */
  instances: number;
  /** Values per row of each input, by name. */
  inputWidths: Readonly<Record<string, number>>;
  /** Values per row of each output, by name. */
  outputWidths: Readonly<Record<string, number>>;
}

/** What one request gets back, with the durations Triton reports per request. */
export interface BatchResult {
  outputs: Record<string, Float32Array>;
  queueMicroseconds: number;
  computeMicroseconds: number;
  batchRows: number;
}

/** Observes each executed batch (for metrics). */
export type BatchListener = (batch: { rows: number; requests: number; computeMicroseconds: number }) => void;

interface Pending {
  rows: number;
  inputs: Readonly<Record<string, Float32Array>>;
  enqueuedAt: number;
  resolve: (result: BatchResult) => void;
  reject: (error: unknown) => void;
}

/** Monotonic microseconds (a float: no BigInt allocation and division per request, as hrtime.bigint had). */
function nowMicroseconds(): number {
  return performance.now() * 1000;
}

export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private free: number;
  /** Cancels the armed delay timer, if one is armed. */
  private cancelTimer?: () => void;
  /** Sub-millisecond waits (Node timers cannot wait less than 1 ms); created with the batcher when needed. */
  private readonly precise?: PreciseTimer;
  private readonly preferred: readonly number[];

  constructor(
    private readonly options: BatcherOptions,
    private readonly execute: BatchExecutor,
    private readonly onBatch: BatchListener = () => {},
  ) {
    this.free = Math.max(1, options.instances);
    const max = Math.max(1, options.maxBatchSize);
    const sizes = (options.dynamic?.preferredBatchSizes ?? []).filter((s) => s >= 1 && s <= max);
    this.preferred = sizes.length > 0 ? [...sizes].sort((a, b) => a - b) : [max];
    const delay = options.dynamic?.maxQueueDelayMicroseconds ?? 0;
    if (max > 1 && delay > 0 && delay % 1000 !== 0) this.precise = new PreciseTimer();
  }

  /** Requests waiting for an instance. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues one request of `rows` rows; resolves with its own slice of the batch outputs. */
  submit(inputs: Readonly<Record<string, Float32Array>>, rows: number): Promise<BatchResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, inputs, enqueuedAt: nowMicroseconds(), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    while (this.free > 0 && this.queue.length > 0) {
      const take = this.pick(nowMicroseconds());
      if (take === 0) {
        this.arm();
        return;
      }
      const batch = this.queue.splice(0, take);
      this.free -= 1;
      void this.run(batch).finally(() => {
        this.free += 1;
        this.schedule();
      });
    }
  }

  /** How many queued requests to dispatch now (0 = keep waiting). */
  private pick(now: number): number {
    const dynamic = this.options.dynamic;
    if (!dynamic || this.options.maxBatchSize <= 1) return 1;
    const max = this.options.maxBatchSize;
    let rows = 0;
    let count = 0;
    let preferredCount = 0;
    let full = false;
    for (const item of this.queue) {
      if (rows + item.rows > max) {
        full = count > 0;
        break;
      }
      rows += item.rows;
      count += 1;
      if (this.preferred.includes(rows)) preferredCount = count;
      if (rows === max) {
        full = true;
        break;
      }
    }
    if (count === 0) return 1; // a single request larger than max never reaches here (validated earlier)
    if (full) return count;
    if (preferredCount > 0) return preferredCount;
    const oldest = this.queue[0] as Pending;
    return now - oldest.enqueuedAt >= dynamic.maxQueueDelayMicroseconds ? count : 0;
  }

  private arm(): void {
    if (this.cancelTimer || this.queue.length === 0) return;
    const delay = this.options.dynamic?.maxQueueDelayMicroseconds ?? 0;
    const waited = nowMicroseconds() - (this.queue[0] as Pending).enqueuedAt;
    const remainingMs = Math.max(0, (delay - waited) / 1000);
    const fire = () => {
      this.cancelTimer = undefined;
      this.schedule();
    };
    // Node's timers cannot wait less than 1 ms, so Triton's sub-millisecond delays (500 µs in the
    // shipped config) would double or worse: the remainder below a whole millisecond goes to the
    // precise timer's thread, which sleeps instead of polling (see precise-timer.ts).
    if (this.precise?.online && remainingMs < 1) {
      this.cancelTimer = this.precise.set(fire, remainingMs);
      return;
    }
    if (remainingMs < 1) {
      // Until the thread is up (the first few ms after start): re-check once per loop turn.
      const immediate = setImmediate(fire);
      this.cancelTimer = () => clearImmediate(immediate);
      return;
    }
    const timer = setTimeout(fire, remainingMs);
    this.cancelTimer = () => clearTimeout(timer);
  }

  private async run(batch: Pending[]): Promise<void> {
    const started = nowMicroseconds();
    const rows = batch.reduce((sum, p) => sum + p.rows, 0);
    try {
      const inputs: Record<string, Float32Array> = {};
      for (const [name, width] of Object.entries(this.options.inputWidths)) {
        if (batch.length === 1) {
          inputs[name] = (batch[0] as Pending).inputs[name] as Float32Array;
          continue;
        }
        const data = new Float32Array(rows * width);
        let offset = 0;
        for (const item of batch) {
          data.set(item.inputs[name] as Float32Array, offset);
          offset += item.rows * width;
        }
        inputs[name] = data;
      }
      const outputs = await this.execute(inputs, rows);
      const computeMicroseconds = Math.round(nowMicroseconds() - started);
      this.onBatch({ rows, requests: batch.length, computeMicroseconds });
      let row = 0;
      for (const item of batch) {
        const slice: Record<string, Float32Array> = {};
        for (const [name, width] of Object.entries(this.options.outputWidths)) {
          const data = outputs[name];
          if (!data || data.length !== rows * width) throw new Error(`output ${name} has the wrong size`);
          slice[name] = data.slice(row * width, (row + item.rows) * width);
        }
        row += item.rows;
        item.resolve({
          outputs: slice,
          queueMicroseconds: Math.round(started - item.enqueuedAt),
          computeMicroseconds,
          batchRows: rows,
        });
      }
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }

  /** Stops the delay timer and its thread (queued requests are left to their callers' timeouts). */
  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    void this.precise?.close();
  }
}
