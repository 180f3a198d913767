/**
 * Coalesces the `score` calls of many concurrent scoring calls into one inference call per
 * turn of the event loop. Offline replays (backtests, batch scoring) start thousands of
 * `scoreTransaction` calls at once; each asks for its row and its reason-code rows, and one
 * large ONNX run costs far less than thousands of small ones (per-call overhead dominates
 * for trees this small). Online, one request per environment, it would only add a turn.
 */
import type { ModelRunner } from '#domain/ports';

interface Pending {
  rows: readonly (readonly number[])[];
  resolve: (scores: number[]) => void;
  reject: (error: unknown) => void;
}

/** Options of {@link BatchingModelRunner}. */
export interface BatchingModelRunnerOptions {
  /**
   * Rows above which a batch is sent at once instead of waiting for the turn to end, so
   * memory stays bounded however many calls are started.
   * @default 65536
   */
  readonly maxRows?: number;
}

export class BatchingModelRunner implements ModelRunner {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private scheduled = false;
  private readonly maxRows: number;
  /** Inference calls made and rows sent, for the throughput report. */
  readonly stats = { calls: 0, rows: 0 };

  constructor(
    private readonly inner: ModelRunner,
    options: BatchingModelRunnerOptions = {},
  ) {
    this.maxRows = options.maxRows ?? 65_536;
  }

  get model() {
    return this.inner.model;
  }

  score(rows: readonly (readonly number[])[]): Promise<number[]> {
    return new Promise<number[]>((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.queuedRows += rows.length;
      if (this.queuedRows >= this.maxRows) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what is queued as one call and hands each caller its slice; a failure fails every caller of the batch. */
  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.queuedRows = 0;
    const rows = batch.flatMap((p) => p.rows);
    this.stats.calls += 1;
    this.stats.rows += rows.length;
    this.inner.score(rows).then(
      (scores) => {
        if (scores.length !== rows.length) {
          const error = new Error(`model returned ${scores.length} scores for ${rows.length} rows`);
          for (const p of batch) p.reject(error);
          return;
        }
        let offset = 0;
        for (const p of batch) {
          p.resolve(scores.slice(offset, offset + p.rows.length));
          offset += p.rows.length;
        }
      },
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  }
}
