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

interface ModelSeries {
  counters: Record<CounterName, number>;
  pending: () => number;
  batchBuckets: number[];
  batchSum: number;
  batchCount: number;
}

/** The twin's metrics registry, one series per model version. */
export class TwinMetrics {
  private readonly series = new Map<string, ModelSeries>();

  private key(model: string, version: string): string {
    return `model="${model}",version="${version}"`;
  }

  /** Registers a model version; `pending` reports its queued requests. */
  register(model: string, version: string, pending: () => number): void {
    const counters = Object.fromEntries(Object.keys(COUNTERS).map((k) => [k, 0])) as Record<
      CounterName,
      number
    >;
    this.series.set(this.key(model, version), {
      counters,
      pending,
      batchBuckets: BATCH_BUCKETS.map(() => 0),
      batchSum: 0,
      batchCount: 0,
    });
  }

  add(model: string, version: string, name: CounterName, value: number): void {
    const s = this.series.get(this.key(model, version));
    if (s) s.counters[name] += value;
  }

  /** One executed batch of `rows` rows. */
  batch(model: string, version: string, rows: number): void {
    const s = this.series.get(this.key(model, version));
    if (!s) return;
    s.counters.nv_inference_exec_count += 1;
    s.counters.nv_inference_count += rows;
    BATCH_BUCKETS.forEach((le, i) => {
      if (rows <= le) s.batchBuckets[i] = (s.batchBuckets[i] as number) + 1;
    });
    s.batchSum += rows;
    s.batchCount += 1;
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
