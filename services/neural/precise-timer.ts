/**
 * Sub-millisecond timers that do not spin.
 *
 * Why: Node's timers wait at least 1 ms, and Triton's queue delays are often below that (500 µs
 * in the shipped config.pbtxt). The batcher used to re-check once per event-loop turn
 * (`setImmediate`) until the delay passed, which is a busy poll: bench:neural measured the twin
 * burning ~0.7 ms of CPU per request at concurrency 1 against ~0.2 ms with batching off, CPU
 * that the score function and DynamoDB compete for on the same cores. Here a helper thread
 * sleeps on a futex (`Atomics.wait`, which takes fractional milliseconds) and posts a message
 * when the time is up; the event loop stays idle and still polls I/O while it waits.
 */
import { Worker } from 'node:worker_threads';

// Plain JavaScript, evaluated: no loader needed in the thread (tsx, jest and node alike).
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const cell = new Int32Array(workerData);
parentPort.on('message', ({ seq, ms }) => {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
  parentPort.postMessage(seq);
});
`;

/** One helper thread; timers fire in the order they were set (one sleep at a time). */
export class PreciseTimer {
  private readonly worker: Worker;
  private readonly callbacks = new Map<number, () => void>();
  private seq = 0;
  /** False until the thread runs; callers may wait another way meanwhile (a start must not wait on it). */
  online = false;

  constructor() {
    // No inherited execArgv: under `--import tsx` the loader would boot in the thread too (0.5–1 s
    // of CPU at start on the loaded box) for eight lines of plain JavaScript.
    this.worker = new Worker(SOURCE, { eval: true, execArgv: [], workerData: new SharedArrayBuffer(4) });
    this.worker.once('online', () => {
      this.online = true;
    });
    this.worker.on('message', (seq: number) => {
      const callback = this.callbacks.get(seq);
      this.forget(seq);
      callback?.();
    });
    // Like a Node timer: the thread keeps the process alive only while a timer is pending.
    this.worker.unref();
  }

  private forget(seq: number): void {
    this.callbacks.delete(seq);
    if (this.callbacks.size === 0) this.worker.unref();
  }

  /** Calls `callback` after `ms` milliseconds (fractions count); returns a cancel function. */
  set(callback: () => void, ms: number): () => void {
    const seq = ++this.seq;
    if (this.callbacks.size === 0) this.worker.ref();
    this.callbacks.set(seq, callback);
    this.worker.postMessage({ seq, ms: Math.max(0, ms) });
    return () => this.forget(seq);
  }

  /** Stops the thread; pending timers never fire. */
  close(): Promise<number> {
    this.callbacks.clear();
    return this.worker.terminate();
  }
}
