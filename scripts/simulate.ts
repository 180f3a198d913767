/**
 * `npm run simulate -- --rps R --seconds S [--url http://127.0.0.1:3000]`: replays a
 * simulated stream against a running API as the payment service would: score each
 * authorization, then report it with `POST /v1/events`; label events are sent when their
 * turn comes. Requests are paced at R per second for S seconds (bounded, loopback only).
 *
 * Writes a terminal summary and `reports/simulate-<time>.html`: latency histograms per stage
 * (from Server-Timing), score distribution, decision mix and detection metrics against the
 * simulator's ground truth.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { requestOf } from '../models/training/export-features';
import { simulate } from '../models/training/simulator';
import { ROOT, SEED_DEFAULTS, seededWindowStart } from './local/app';

interface Sample {
  status: number;
  totalMs: number;
  stages: Record<string, number>;
  score: number | null;
  decision?: string;
  degraded: string[];
  fraud: boolean;
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run simulate -- --rps R --seconds S [--url URL] [--cards N] [--seed N] [--history-days D] [--fraud-rate F]\n`,
  );
  process.exit(2);
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Area under the ROC curve by the rank-sum formula (ties averaged). */
export function rocAuc(scores: number[], labels: boolean[]): number {
  const order = scores.map((s, i) => [s, labels[i] as boolean] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]?.[0] === order[i]?.[0]) j += 1;
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k += 1) {
      if (order[k]?.[1]) {
        rankSum += avgRank;
        positives += 1;
      }
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function parseServerTiming(header: string | null): Record<string, number> {
  const stages: Record<string, number> = {};
  for (const part of (header ?? '').split(',')) {
    const match = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
    if (match) stages[match[1] as string] = Number(match[2]);
  }
  return stages;
}

/** A small inline-SVG bar chart, so the report needs no scripts or network. */
function barChart(title: string, labels: string[], counts: number[], color = '#3b6ea5'): string {
  const width = 640;
  const height = 200;
  const max = Math.max(1, ...counts);
  const barWidth = width / Math.max(1, counts.length);
  const bars = counts
    .map((c, i) => {
      const h = (c / max) * (height - 30);
      return `<rect x="${i * barWidth + 1}" y="${height - 20 - h}" width="${barWidth - 2}" height="${h}" fill="${color}"><title>${labels[i]}: ${c}</title></rect>`;
    })
    .join('');
  const ticks = labels
    .map((l, i) =>
      i % Math.ceil(labels.length / 8) === 0
        ? `<text x="${i * barWidth + 2}" y="${height - 5}" font-size="10">${l}</text>`
        : '',
    )
    .join('');
  return `<h3>${title}</h3><svg width="${width}" height="${height}" role="img" aria-label="${title}">${bars}${ticks}</svg>`;
}

function histogram(values: number[], edges: number[]): number[] {
  const counts = new Array(edges.length - 1).fill(0);
  for (const v of values) {
    const i = edges.findIndex((e, k) => k < edges.length - 1 && v >= e && v < (edges[k + 1] as number));
    counts[i >= 0 ? i : counts.length - 1] += 1;
  }
  return counts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rps: { type: 'string', default: '20' },
      seconds: { type: 'string', default: '30' },
      url: { type: 'string', default: 'http://127.0.0.1:3000' },
      cards: { type: 'string', default: String(SEED_DEFAULTS.cards) },
      seed: { type: 'string', default: String(SEED_DEFAULTS.seed) },
      'history-days': { type: 'string', default: String(SEED_DEFAULTS.days) },
      'fraud-rate': { type: 'string', default: '0.02' },
    },
  });
  const rps = Number(values.rps);
  const seconds = Number(values.seconds);
  if (!(rps > 0 && rps <= 500)) usage(`--rps must be in (0, 500], got ${values.rps}`);
  if (!(seconds > 0 && seconds <= 3600)) usage(`--seconds must be in (0, 3600], got ${values.seconds}`);
  const url = new URL(values.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    usage('--url must point at this machine (loopback)');
  const health = await fetch(new URL('/health', url)).catch(() => undefined);
  if (!health?.ok) usage(`no API answering at ${url.origin}: start it with npm start`);

  const total = Math.round(rps * seconds);
  // The population `npm start` seeded (same cards, seed and window start), continued past now:
  // a card keeps its home country, devices and spending habits, so features compare the stream
  // with the card's real history. Events up to now are what the local stack already holds.
  const historyDays = Number(values['history-days']);
  if (!(Number.isInteger(historyDays) && historyDays >= 1 && historyDays <= 60))
    usage(`--history-days must be 1–60 (what npm start seeded), got ${values['history-days']}`);
  const now = Date.now();
  const start = seededWindowStart(now, historyDays);
  const stream = simulate({
    cards: Number(values.cards),
    days: historyDays + 60,
    seed: Number(values.seed),
    start,
    fraudRate: Number(values['fraud-rate']),
  });
  // Each run scores under its own transaction ids, so a rerun measures scoring, not idempotent
  // replays of stored answers. Event ids are kept: a rerun's events are duplicates, counted once.
  const run = `r${now.toString(36)}`;

  const samples: Sample[] = [];
  const bar = new SingleBar({
    format: 'simulate [{bar}] {percentage}% | {value}/{total} scored | {eta}s left',
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 3000,
  });
  bar.start(total, 0);
  const started = performance.now();
  const post = (path: string, body: unknown) =>
    fetch(new URL(path, url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  for (const event of stream) {
    if (sent >= total) break;
    if (Date.parse(event.timestamp) <= now) continue;
    if (event.type === 'label') {
      inflight.add(post('/v1/events', event).then(() => undefined));
      continue;
    }
    const due = started + (sent / rps) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sent += 1;
    const { sim, ...authorization } = event;
    const task = (async () => {
      const t0 = performance.now();
      const request = requestOf(authorization);
      const response = await post('/v1/score', {
        ...request,
        transactionId: `${request.transactionId}-${run}`,
      });
      const totalMs = performance.now() - t0;
      const json = (await response.json()) as {
        score?: number | null;
        decision?: string;
        degraded?: string[];
      };
      samples.push({
        status: response.status,
        totalMs,
        stages: parseServerTiming(response.headers.get('server-timing')),
        score: json.score ?? null,
        decision: json.decision,
        degraded: json.degraded ?? [],
        fraud: sim.fraud,
      });
      await post('/v1/events', authorization);
      bar.update(samples.length);
    })();
    inflight.add(task);
    void task.finally(() => inflight.delete(task));
  }
  await Promise.all(inflight);
  bar.stop();
  const elapsed = (performance.now() - started) / 1000;
  report(samples, elapsed, rps);
}

function report(samples: Sample[], elapsed: number, rps: number): void {
  const ok = samples.filter((s) => s.status === 200);
  const stages = ['features', 'inference', 'total'];
  const stageStats = stages.map((stage) => {
    const v = ok.map((s) => s.stages[stage]).filter((x): x is number => x !== undefined);
    return { stage, p50: percentile(v, 0.5), p95: percentile(v, 0.95), p99: percentile(v, 0.99), values: v };
  });
  const client = ok.map((s) => s.totalMs);
  const decisions = ['approve', 'review', 'decline'].map((d) => ({
    d,
    n: ok.filter((s) => s.decision === d).length,
  }));
  const scored = ok.filter((s) => s.score !== null);
  const fraud = ok.filter((s) => s.fraud);
  const flagged = (s: Sample) => s.decision !== 'approve';
  const tp = fraud.filter(flagged).length;
  const fp = ok.filter((s) => !s.fraud && flagged(s)).length;
  const legit = ok.length - fraud.length;
  const auc = rocAuc(
    scored.map((s) => s.score as number),
    scored.map((s) => s.fraud),
  );
  const degraded = ok.filter((s) => s.degraded.length > 0).length;
  const lines = [
    '',
    `simulate: ${samples.length} scored in ${elapsed.toFixed(1)} s (target ${rps} rps, achieved ${(samples.length / elapsed).toFixed(1)} rps)`,
    `  HTTP: ${ok.length} × 200, ${samples.length - ok.length} other; degraded answers: ${degraded}`,
    `  client round trip   p50 ${percentile(client, 0.5).toFixed(2)} ms  p95 ${percentile(client, 0.95).toFixed(2)} ms  p99 ${percentile(client, 0.99).toFixed(2)} ms`,
    ...stageStats.map(
      (s) =>
        `  server ${s.stage.padEnd(12)} p50 ${s.p50.toFixed(2)} ms  p95 ${s.p95.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms`,
    ),
    `  decisions: ${decisions.map(({ d, n }) => `${d} ${n} (${((100 * n) / Math.max(1, ok.length)).toFixed(1)} %)`).join(', ')}`,
    fraud.length === 0
      ? `  ground truth: no fraud among ${ok.length} scored (fraud comes in episodes, about 1.5 % of a day's payments): run longer, e.g. --rps 50 --seconds 120, for detection metrics; false-positive rate ${(fp / Math.max(1, legit)).toFixed(4)}`
      : `  ground truth: ${fraud.length} fraud of ${ok.length}; flagged (review/decline): recall ${(tp / fraud.length).toFixed(3)}, false-positive rate ${(fp / Math.max(1, legit)).toFixed(4)}, ROC-AUC ${auc.toFixed(3)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  const dir = join(ROOT, 'reports');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `simulate-${new Date().toISOString().replace(/[:.]/g, '-')}.html`);
  const latencyEdges = [0, 0.5, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 50, 100, 1e9];
  const scoreEdges = [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.000001];
  const charts = [
    ...stageStats.map((s) =>
      barChart(
        `Server latency: ${s.stage} (ms)`,
        latencyEdges.slice(0, -1).map((e) => `${e}`),
        histogram(s.values, latencyEdges),
      ),
    ),
    barChart(
      'Score distribution',
      scoreEdges.slice(0, -1).map((e) => `${e}`),
      histogram(
        scored.map((s) => s.score as number),
        scoreEdges,
      ),
      '#a5563b',
    ),
    barChart(
      'Decision mix',
      decisions.map((d) => d.d),
      decisions.map((d) => d.n),
      '#3ba55c',
    ),
  ];
  writeFileSync(
    file,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fraud scoring simulation</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:720px}pre{background:#f4f4f4;padding:1rem}</style></head>
<body><h1>Fraud scoring simulation</h1><pre>${lines.join('\n')}</pre>${charts.join('\n')}</body></html>\n`,
  );
  process.stdout.write(`  report: ${file}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`simulate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
