/**
 * How `npm run bench` measures: rows of work timed interleaved, iteration by iteration, in
 * wall time and in this process's CPU time.
 */

export interface Stats {
  p50: number;
  p99: number;
  mean: number;
  /**
   * This process's CPU time (user + system) per sample, p50: what the row's own code costs,
   * whatever else runs on the machine (the other rows' wall times count the waits for a core).
   * The servers' CPU (dynalite's process) is not in it.
   */
  cpuP50: number;
}

/** The sample at quantile `q` of sorted samples. */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Wall-time percentiles and mean of `samples`, and the p50 of their CPU times. */
function stats(samples: number[], cpu: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    cpuP50: percentile(
      [...cpu].sort((a, b) => a - b),
      0.5,
    ),
  };
}

/** CPU milliseconds (user + system) of this process since `since`. */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/** What a row's work resolves to when only part of it is timed (see {@link timedPart}). */
export interface TimedPart {
  readonly partMs: number;
  readonly partCpuMs: number;
}

/** One row of the bench: what one iteration does. */
export interface Row {
  label: string;
  /** The iteration's work; timed whole unless it resolves to a {@link TimedPart}. */
  work: (i: number) => Promise<unknown>;
}

/** Runs `setUp` untimed, then times `part` alone: a row whose sample is the second step only. */
export async function timedPart(
  setUp: () => Promise<unknown>,
  part: () => Promise<unknown>,
): Promise<TimedPart> {
  await setUp();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await part();
  const partMs = performance.now() - started;
  return { partMs, partCpuMs: cpuMsSince(cpu) };
}

/**
 * Times every row `iterations` times, interleaved: each iteration runs each row once, in
 * forward then reverse order, so every row sees the same machine load. Run one row after
 * the other (as this bench did until 2026-12-01), a ratio of two rows compared two different
 * minutes of a shared machine: at a load average of 10–15, the same commit's handler ratio
 * came out anywhere between 0.86 and 2.97.
 */
export async function measureInterleaved(rows: readonly Row[], iterations: number): Promise<Stats[]> {
  const warmUp = Math.min(200, iterations / 10);
  const samples = rows.map(() => [] as number[]);
  const cpuSamples = rows.map(() => [] as number[]);
  for (let i = -warmUp; i < iterations; i += 1) {
    for (let k = 0; k < rows.length; k += 1) {
      const index = i % 2 === 0 ? k : rows.length - 1 - k;
      const row = rows[index] as Row;
      // CPU read outside the wall-clock pair, so the wall times are what they always were.
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result = (await row.work(i)) as Partial<TimedPart> | undefined;
      const elapsed = result?.partMs ?? performance.now() - started;
      const cpuMs = result?.partCpuMs ?? cpuMsSince(cpu);
      if (i >= 0) {
        samples[index]?.push(elapsed);
        cpuSamples[index]?.push(cpuMs);
      }
    }
  }
  return samples.map((wall, index) => stats(wall, cpuSamples[index] as number[]));
}
