/**
 * Prometheus counters with Triton's metric names (`nv_inference_*`, labels `model` and
 * `version`), so the dashboards and the CloudWatch agent configuration written for Triton
 * read the twin too. Durations are cumulative microseconds, as Triton exports them; average
 * batch size is `nv_inference_count / nv_inference_exec_count`, as with Triton. One
 * histogram Triton does not have (`neural_twin_batch_size`) shows the batch size spread.
 */

const COUNTERS = {
  nv_inference_request_success: 'Number of successful inference requests, all batch sizes',
  nv_inference_request_failure: 'Number of failed inference requests, all batch sizes',
  nv_inference_count: 'Number of inferences performed (does not include cached requests)',
  nv_inference_exec_count: 'Number of model executions performed (does not include cached requests)',
  nv_inference_request_duration_us: 'Cumulative inference request duration in microseconds',
  nv_inference_queue_duration_us: 'Cumulative inference queuing duration in microseconds',
  nv_inference_compute_infer_duration_us: 'Cumulative compute inference duration in microseconds',
} as const;
export type CounterName = keyof typeof COUNTERS;

const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

/**
 * One model version's series. The server holds this handle per loaded model and updates plain
 * fields on the request path (no label-string building or map lookup per request).
 */
export class ModelSeries {
  readonly counters = Object.fromEntries(Object.keys(COUNTERS).map((k) => [k, 0])) as Record<
    CounterName,
    number
  >;
  readonly batchBuckets = BATCH_BUCKETS.map(() => 0);
  batchSum = 0;
  batchCount = 0;

  constructor(readonly pending: () => number) {}

  /** One successful request: its whole duration and its queue wait, in microseconds. */
  success(durationMicroseconds: number, queueMicroseconds: number): void {
    this.counters.nv_inference_request_success += 1;
    this.counters.nv_inference_request_duration_us += durationMicroseconds;
    this.counters.nv_inference_queue_duration_us += queueMicroseconds;
  }

  /** One failed request. */
  failure(): void {
    this.counters.nv_inference_request_failure += 1;
  }

  /** One executed batch of `rows` rows that computed for `computeMicroseconds`. */
  batch(rows: number, computeMicroseconds: number): void {
    this.counters.nv_inference_exec_count += 1;
    this.counters.nv_inference_count += rows;
    this.counters.nv_inference_compute_infer_duration_us += computeMicroseconds;
    for (let i = 0; i < BATCH_BUCKETS.length; i++) {
      if (rows <= (BATCH_BUCKETS[i] as number)) this.batchBuckets[i] = (this.batchBuckets[i] as number) + 1;
    }
    this.batchSum += rows;
    this.batchCount += 1;
  }
}

/** The twin's metrics registry, one series per model version. */
export class TwinMetrics {
  private readonly series = new Map<string, ModelSeries>();

  /** Registers a model version; `pending` reports its queued requests. Returns its series. */
  register(model: string, version: string, pending: () => number): ModelSeries {
    const series = new ModelSeries(pending);
    this.series.set(`model="${model}",version="${version}"`, series);
    return series;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const [name, help] of Object.entries(COUNTERS)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, s] of this.series)
        lines.push(`${name}{${labels}} ${s.counters[name as CounterName]}`);
    }
    lines.push(
      '# HELP nv_inference_pending_request_count Instantaneous number of pending requests awaiting execution per-model.',
      '# TYPE nv_inference_pending_request_count gauge',
    );
    for (const [labels, s] of this.series)
      lines.push(`nv_inference_pending_request_count{${labels}} ${s.pending()}`);
    lines.push(
      '# HELP neural_twin_batch_size Rows per executed batch (twin only; Triton: nv_inference_count / nv_inference_exec_count).',
      '# TYPE neural_twin_batch_size histogram',
    );
    for (const [labels, s] of this.series) {
      BATCH_BUCKETS.forEach((le, i) => {
        lines.push(`neural_twin_batch_size_bucket{${labels},le="${le}"} ${s.batchBuckets[i]}`);
      });
      lines.push(`neural_twin_batch_size_bucket{${labels},le="+Inf"} ${s.batchCount}`);
      lines.push(
        `neural_twin_batch_size_sum{${labels}} ${s.batchSum}`,
        `neural_twin_batch_size_count{${labels}} ${s.batchCount}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}
