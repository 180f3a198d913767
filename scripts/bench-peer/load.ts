/**
 * The one load generator for both targets: closed loop, `concurrency` clients that each send
 * the next request as soon as the previous answer is in, over a keep-alive `http.Agent`, for a
 * fixed duration. Every request carries a distinct transaction id. A target that closes the
 * connection after each answer (gunicorn's sync workers do) costs a new connection per
 * request; that is part of what is measured.
 */
import { Agent } from 'node:http';
import { postText } from '../support/post-json';

/** What one cell (one target at one concurrency) measured. */
export interface CellResult {
  readonly target: string;
  readonly concurrency: number;
  readonly seconds: number;
  /** 200 answers with `degraded: []`. */
  readonly good: number;
  readonly non200: number;
  /** 200 answers whose `degraded` list is not empty (or missing). */
  readonly degraded: number;
  /** Requests that got no answer at all (connection refused or reset). */
  readonly failed: number;
  /** Latency in ms of every answered request. */
  readonly latencies: readonly number[];
}

export interface CellSummary {
  rps: number;
  p50: number;
  p99: number;
}

/** Nearest-rank percentile (q in [0, 1]) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** Good answers per second and latency percentiles of every answer. */
export function summarize(cell: CellResult): CellSummary {
  return {
    rps: cell.good / cell.seconds,
    p50: percentile(cell.latencies, 0.5),
    p99: percentile(cell.latencies, 0.99),
  };
}

function isDegraded(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { degraded?: unknown };
    return !Array.isArray(parsed.degraded) || parsed.degraded.length > 0;
  } catch {
    return true;
  }
}

/**
 * Runs one cell. `body(i)` gives the i-th request body of the cell (both targets get the same
 * sequence); the caller makes transaction ids distinct.
 */
export async function runCell(options: {
  target: string;
  url: string;
  concurrency: number;
  durationMs: number;
  body: (i: number) => string;
}): Promise<CellResult> {
  const url = new URL('/v1/score', options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let good = 0;
  let non200 = 0;
  let degraded = 0;
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const body = options.body(next);
      next += 1;
      const t0 = performance.now();
      try {
        const answer = await postText(agent, url, body);
        latencies.push(performance.now() - t0);
        if (answer.status !== 200) non200 += 1;
        else if (isDegraded(answer.body)) degraded += 1;
        else good += 1;
      } catch {
        failed += 1;
        // Do not spin on a dead target.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    target: options.target,
    concurrency: options.concurrency,
    seconds,
    good,
    non200,
    degraded,
    failed,
    latencies,
  };
}
