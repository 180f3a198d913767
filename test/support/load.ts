/**
 * A small closed-loop load generator for fault tests: `concurrency` callers, each sending the
 * next request as soon as its previous answer arrives, over keep-alive connections, every
 * request with a distinct transactionId. Every answer is kept with its send time, so a test
 * can split them into phases (before, during and after a fault).
 */
import { Agent, request } from 'node:http';

export interface Sample {
  /** The request's index, as passed to `body(i)`. */
  index: number;
  /** ms since the load started, when the request was sent. */
  sentAt: number;
  latencyMs: number;
  status: number;
  degraded: string[];
  /** The answer's score, decision and model name (200 answers only). */
  answer?: { score: number | null; decision: string; model: string | null };
  /** The `Server-Timing` header, empty when absent. */
  serverTiming: string;
}

export interface LoadRun {
  samples: Sample[];
  /** Stops the callers; resolves once every in-flight request has answered. */
  stop(): Promise<void>;
  /** ms since the load started. */
  elapsed(): number;
}

function post(
  agent: Agent,
  url: string,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string; serverTiming: string }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        const timing = res.headers['server-timing'];
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text,
            serverTiming: typeof timing === 'string' ? timing : '',
          }),
        );
      },
    );
    // A hang is an answer too: status 0, so the test sees it instead of waiting forever.
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', () => resolve({ status: 0, text: '', serverTiming: '' }));
    req.end(body);
  });
}

/** Starts `concurrency` callers of `POST url` with bodies from `body(i)`. */
export function startLoad(options: {
  url: string;
  concurrency: number;
  body: (i: number) => unknown;
  /** Client-side timeout of one request. @default 10000 */
  timeoutMs?: number;
}): LoadRun {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const started = performance.now();
  const samples: Sample[] = [];
  let running = true;
  let next = 0;
  const caller = async () => {
    while (running) {
      const i = next++;
      const sentAt = performance.now() - started;
      const { status, text, serverTiming } = await post(
        agent,
        options.url,
        JSON.stringify(options.body(i)),
        options.timeoutMs ?? 10_000,
      );
      let degraded: string[] = [];
      let answer: Sample['answer'];
      try {
        if (status === 200) {
          const json = JSON.parse(text);
          degraded = json.degraded as string[];
          answer = { score: json.score, decision: json.decision, model: json.model?.name ?? null };
        }
      } catch {
        degraded = ['unparseable'];
      }
      samples.push({
        index: i,
        sentAt,
        latencyMs: performance.now() - started - sentAt,
        status,
        degraded,
        answer,
        serverTiming,
      });
    }
  };
  const callers = Array.from({ length: options.concurrency }, caller);
  return {
    samples,
    elapsed: () => performance.now() - started,
    stop: async () => {
      running = false;
      await Promise.all(callers);
      agent.destroy();
    },
  };
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** One row of a fault table: what the callers saw in a phase. */
export interface PhaseSummary {
  fault: string;
  requests: number;
  ok: number;
  clientErrors: number;
  serverErrors: number;
  /** Requests that got no HTTP answer (timeout or reset). */
  noAnswer: number;
  /** Count per degraded flag. */
  degraded: Record<string, number>;
  p50: number;
  p99: number;
  /** ms from the end of the fault to the first of a run of clean answers; undefined when not measured. */
  recoveryMs?: number;
}

export function summarize(fault: string, samples: readonly Sample[]): PhaseSummary {
  const degraded: Record<string, number> = {};
  for (const s of samples) for (const flag of s.degraded) degraded[flag] = (degraded[flag] ?? 0) + 1;
  const latencies = samples.map((s) => s.latencyMs);
  return {
    fault,
    requests: samples.length,
    ok: samples.filter((s) => s.status === 200).length,
    clientErrors: samples.filter((s) => s.status >= 400 && s.status < 500).length,
    serverErrors: samples.filter((s) => s.status >= 500).length,
    noAnswer: samples.filter((s) => s.status === 0).length,
    degraded,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

/**
 * ms from `faultEnd` until the first request sent after it that starts a run of `run` clean
 * answers (200, nothing degraded); undefined if that never happens.
 */
export function recoveryMs(samples: readonly Sample[], faultEnd: number, run = 20): number | undefined {
  const after = samples.filter((s) => s.sentAt >= faultEnd).sort((a, b) => a.sentAt - b.sentAt);
  for (let i = 0; i + run <= after.length; i += 1) {
    const window = after.slice(i, i + run);
    if (window.every((s) => s.status === 200 && s.degraded.length === 0)) {
      const first = window[0] as Sample;
      return first.sentAt + first.latencyMs - faultEnd;
    }
  }
  return undefined;
}

/** The fault table, as printed by the fault suite. */
export function faultTable(rows: readonly PhaseSummary[]): string {
  const header =
    '| fault | requests | 200 | 4xx | 5xx | no answer | degraded flags | p50 ms | p99 ms | recovery ms |';
  const lines = rows.map((r) =>
    [
      r.fault,
      r.requests,
      r.ok,
      r.clientErrors,
      r.serverErrors,
      r.noAnswer,
      Object.entries(r.degraded)
        .map(([flag, n]) => `${flag} ${n}`)
        .join(', ') || '—',
      r.p50.toFixed(1),
      r.p99.toFixed(1),
      r.recoveryMs === undefined ? '—' : r.recoveryMs.toFixed(0),
    ].join(' | '),
  );
  return [
    header,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...lines.map((l) => `| ${l} |`),
  ].join('\n');
}
