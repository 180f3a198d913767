/**
 * Triton's dynamic batching, for one model, on any executor.
 *
 * Semantics (Triton's "Dynamic Batcher" doc and `GetDynamicBatch` in
 * triton-inference-server/core `src/dynamic_batch_scheduler.cc`):
 * - requests queue in arrival order; a batch is whole requests, at most `maxBatchSize` rows;
 * - when an instance is free, the batcher dispatches at once the largest batch of a preferred
 *   size it can form (while the oldest request is inside `maxQueueDelayMicroseconds`), or the
 *   whole pending batch when the next request would not fit or it reached the largest preferred
 *   size; otherwise it waits until the oldest request has waited `maxQueueDelayMicroseconds`,
 *   then dispatches everything pending (up to the max batch size);
 * - a delay of 0 never waits: a free instance takes whatever is queued (Triton's default);
 * - with no preferred sizes the max batch size is the only preferred size (Triton's config
 *   normalisation);
 * - without `dynamic_batching`, every request runs alone (Triton's default scheduler);
 * - each instance runs one batch at a time; requests wait while every instance is busy.
 *
 * When the batch is formed: Triton's batcher is its own thread, woken by each enqueue; requests
 * that arrive while it wakes join the batch it forms. The twin's equivalent of "arrived while
 * the batcher woke" is "parsed in the same turn of the event loop": the batch is formed in the
 * loop's check phase (`setImmediate`), after every request read in that turn is queued, not in
 * the first request's `submit`. Dispatching inside `submit` sent the first request of each turn
 * alone and the rest after it: at concurrency 64, 462 of 1,007 batches had one row.
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
  /** When its batch started, on the batcher's clock (`performance.now()` in microseconds). */
  startedMicroseconds: number;
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
  private readonly preferred: ReadonlySet<number>;
  /** The largest preferred size (the max batch size without preferred sizes). */
  private readonly maxPreferred: number;
  /** A dispatch is queued for the loop's check phase. */
  private dispatchQueued = false;

  constructor(
    private readonly options: BatcherOptions,
    private readonly execute: BatchExecutor,
    private readonly onBatch: BatchListener = () => {},
  ) {
    this.free = Math.max(1, options.instances);
    const max = Math.max(1, options.maxBatchSize);
    const sizes = (options.dynamic?.preferredBatchSizes ?? []).filter((s) => s >= 1 && s <= max);
    this.preferred = new Set(sizes.length > 0 ? sizes : [max]);
    this.maxPreferred = Math.max(...this.preferred);
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

  /** Queues one dispatch for the end of this loop turn, when an instance is free. */
  private schedule(): void {
    if (this.dispatchQueued || this.free === 0 || this.queue.length === 0) return;
    this.dispatchQueued = true;
    setImmediate(() => {
      this.dispatchQueued = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.free > 0 && this.queue.length > 0) {
      const take = this.pick(nowMicroseconds());
      if (take === 0) {
        this.arm();
        return;
      }
      this.cancelTimer?.();
      this.cancelTimer = undefined;
      const batch = this.queue.splice(0, take);
      this.free -= 1;
      void this.run(batch).finally(() => {
        this.free += 1;
        this.schedule();
      });
    }
  }

  /**
   * How many queued requests to dispatch now (0 = keep waiting), as Triton's `GetDynamicBatch`
   * decides: the largest preferred-size prefix while the delay is not exceeded; everything
   * pending when the next request would overflow the max batch size, when the pending rows
   * reach the largest preferred size, when the delay is exceeded, or when the delay is 0.
   */
  private pick(now: number): number {
    const dynamic = this.options.dynamic;
    if (!dynamic || this.options.maxBatchSize <= 1) return 1;
    const max = this.options.maxBatchSize;
    let rows = 0;
    let count = 0;
    /** Requests in the best batch of a preferred size (or the largest under the largest preferred size). */
    let best = 0;
    let overflow = false;
    for (const item of this.queue) {
      if (count > 0) {
        if (best === 0 && rows + item.rows > this.maxPreferred) best = count;
        if (rows + item.rows > max) {
          overflow = true;
          break;
        }
      }
      rows += item.rows;
      count += 1;
      if (this.preferred.has(rows)) best = count;
    }
    const delay = dynamic.maxQueueDelayMicroseconds;
    const oldest = this.queue[0] as Pending;
    const exceeded = delay !== 0 && now - oldest.enqueuedAt >= delay;
    if (best > 0 && !exceeded) return best;
    if (overflow || rows >= this.maxPreferred || exceeded || delay === 0) return count;
    return 0;
  }

  private arm(): void {
    if (this.cancelTimer || this.queue.length === 0) return;
    const delay = this.options.dynamic?.maxQueueDelayMicroseconds ?? 0;
    const waited = nowMicroseconds() - (this.queue[0] as Pending).enqueuedAt;
    const remainingMs = Math.max(0, (delay - waited) / 1000);
    const fire = () => {
      this.cancelTimer = undefined;
      this.dispatch();
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
          startedMicroseconds: started,
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
