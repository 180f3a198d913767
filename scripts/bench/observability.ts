/**
 * The bench's production-observability row: a score function built with Powertools metrics,
 * the EMF lines and INFO logs on, and what they write to stdout counted and dropped.
 */

/**
 * Builds a score function as Lambda runs it: Powertools metrics and the EMF lines on (both read
 * `POWERTOOLS_METRICS_DISABLED` at construction), logs at INFO.
 */
export async function withObservability<T>(build: () => Promise<T>): Promise<T> {
  const saved = { metrics: process.env.POWERTOOLS_METRICS_DISABLED, level: process.env.POWERTOOLS_LOG_LEVEL };
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  try {
    return await build();
  } finally {
    process.env.POWERTOOLS_METRICS_DISABLED = saved.metrics;
    process.env.POWERTOOLS_LOG_LEVEL = saved.level;
  }
}

/**
 * Counts and drops what is written to stdout (Powertools and the EMF writer call
 * `process.stdout.write` each time), so the bench's own output stays readable. A write to a
 * pipe in Lambda costs a syscall more than this; `writes` says how many there are.
 */
export function discardStdout() {
  const original = process.stdout.write;
  const counts = { writes: 0, bytes: 0, answers: 0, restore: () => {} };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    counts.writes += 1;
    counts.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return true;
  }) as typeof process.stdout.write;
  counts.restore = () => {
    process.stdout.write = original;
  };
  return counts;
}
