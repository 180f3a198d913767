/**
 * `npm run simulate -- --rps R --seconds S [--url http://127.0.0.1:3000] [--samples FILE]`: replays a
 * simulated stream against a running API as the payment service would: score each
 * authorization, then report it with `POST /v1/events`; label events are sent when their
 * turn comes. Requests are paced at R per second for S seconds (bounded, loopback only).
 *
 * Writes a terminal summary and `reports/simulate-<time>.html` (the shared report module,
 * `scripts/report/`): latency per stage and over time, score distribution by ground truth,
 * decision mix, and ROC / PR curves against the simulator's ground truth.
 */
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { requestOf } from '../models/training/export-features';
import { type SimulatedEvent, simulate } from '../models/training/simulator';
import { ROOT, SEED_DEFAULTS, seededWindowStart } from './local/app';
import { type Bin, barChart, curveChart, histogramChart, type TimePoint, timeChart } from './report/charts';
import { curves, histogram, logEdges, percentile, thin } from './report/curves';
import { type Block, type Report, reportPath, writeReport } from './report/page';
import { CpuWaitReader, type CpuWaits } from './support/cpu-waits';
import { type StealSample, StealSampler, stealIn } from './support/host-steal';
import { busyThreads, duringBurst, KernelBurstSampler, type KernelReport } from './support/kernel-bursts';
import { type PostAnswer, postJson } from './support/post-json';

/** A 10 s window whose mean steal time is above this share is marked in the summary. */
const STEAL_MARK = 0.05;
/** An answer in flight during a kernel thread's burst, or this long after it (the queues it left), counts as in it. */
const BURST_AFTER_MS = 50;

/** One scored request as the client saw it. */
export interface Sample {
  /** Epoch ms when the request was sent. */
  at: number;
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
    `${message}\nusage: npm run simulate -- --rps R --seconds S [--url URL] [--cards N] [--seed N] [--history-days D] [--fraud-rate F] [--samples FILE]\n`,
  );
  process.exit(2);
}

function parseServerTiming(header: string | null): Record<string, number> {
  const stages: Record<string, number> = {};
  for (const part of (header ?? '').split(',')) {
    const match = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
    if (match) stages[match[1] as string] = Number(match[2]);
  }
  return stages;
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
      samples: { type: 'string' },
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
  // The pacing clock starts at the first payment, not before the stream's history is skipped
  // (~0.1–0.3 s): otherwise the first 10–30 payments were all overdue and went out at once, on
  // as many new connections, and their latency opened the neural breaker at the start of a run.
  let started: number | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const post = (path: string, body: unknown) => postJson(agent, new URL(path, url), body);
  const inflight = new Set<Promise<void>>();
  // Answers to `POST /v1/events` by status (0: no answer): an event path that fails under load
  // would otherwise go unnoticed, since the scores do not depend on it right away.
  const eventStatuses = new Map<number, number>();
  const postEvent = (event: unknown) =>
    post('/v1/events', event)
      .then(
        (answer) => answer.status,
        () => 0,
      )
      .then((status) => {
        eventStatuses.set(status, (eventStatuses.get(status) ?? 0) + 1);
      });
  // The run's events are generated before the clock starts. Generating them (and skipping the
  // seeded history) is the client's heaviest work, and it shares the stack's two cores: done
  // during the run, it landed on the stack's first seconds.
  const plan: SimulatedEvent[] = [];
  for (let payments = 0; payments < total; ) {
    const next = stream.next();
    if (next.done) break;
    const event = next.value;
    if (Date.parse(event.timestamp) <= now) continue;
    plan.push(event);
    if (event.type !== 'label') payments += 1;
  }
  const steal = new StealSampler().start();
  const kernel = new KernelBurstSampler().start();
  const waits = new CpuWaitReader().start();
  let sent = 0;
  for (const event of plan) {
    if (event.type === 'label') {
      const label = postEvent(event);
      inflight.add(label);
      void label.finally(() => inflight.delete(label));
      continue;
    }
    started ??= performance.now();
    const due = started + (sent / rps) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sent += 1;
    const { sim, ...authorization } = event;
    const task = (async () => {
      const t0 = performance.now();
      const at = Date.now();
      const request = requestOf(authorization);
      // A failed connection is an answer with status 0, counted with the other non-200s.
      const response = await post('/v1/score', {
        ...request,
        transactionId: `${request.transactionId}-${run}`,
      }).catch((): PostAnswer => ({ status: 0, serverTiming: null, body: '' }));
      const totalMs = performance.now() - t0;
      let json: { score?: number | null; decision?: string; degraded?: string[] } = {};
      try {
        json = JSON.parse(response.body);
      } catch {
        // A non-JSON answer counts by its status; its score and decision stay empty.
      }
      samples.push({
        at,
        status: response.status,
        totalMs,
        stages: parseServerTiming(response.serverTiming),
        score: json.score ?? null,
        decision: json.decision,
        degraded: json.degraded ?? [],
        fraud: sim.fraud,
      });
      await postEvent(authorization);
      bar.update(samples.length);
    })();
    inflight.add(task);
    void task.finally(() => inflight.delete(task));
  }
  await Promise.all(inflight);
  const stolen = steal.stop();
  const kernelSeen = kernel.stop();
  const waited = waits.stop() ?? null;
  agent.destroy();
  bar.stop();
  const elapsed = (performance.now() - (started ?? performance.now())) / 1000;
  // Every answer as the client saw it, one JSON line each, for analysis beyond the report.
  if (values.samples)
    writeFileSync(values.samples, samples.map((sample) => `${JSON.stringify(sample)}\n`).join(''));
  const { summary, report } = simulateReport(samples, elapsed, rps, {
    steal: stolen,
    kernel: kernelSeen,
    waits: waited,
  });
  process.stdout.write(`${summary}\n`);
  const events = [...eventStatuses].sort((a, b) => a[0] - b[0]);
  process.stdout.write(
    `  events posted: ${events.map(([status, n]) => `${status === 0 ? 'no answer' : status} × ${n}`).join(', ')}\n`,
  );
  const file = writeReport(reportPath(ROOT, 'simulate'), report);
  process.stdout.write(`  report: ${file}\n`);
}

/**
 * The kernel threads that took a CPU during the run (`scripts/support/kernel-bursts.ts`), and
 * how many answers, of all and of the slowest 1 %, were in flight during one of their bursts.
 */
function kernelLines(kernel: KernelReport, ok: readonly Sample[], totalP99: number): string[] {
  const busy = busyThreads(kernel);
  if (busy.length === 0) return ['  kernel threads: none used 0.5 % of a CPU or more over the run'];
  const threads = busy
    .slice(0, 3)
    .map(
      (t) =>
        `${t.name} ${(100 * t.share).toFixed(1)} % of a CPU` +
        (t.bursts === 1 ? `, 1 burst at half a CPU or more (${t.burstMs.toFixed(0)} ms long)` : '') +
        (t.bursts > 1
          ? `, ${t.bursts} bursts at half a CPU or more (p50 ${t.burstMs.toFixed(0)} ms long, ${(t.everyMs / 1000).toFixed(2)} s apart)`
          : ''),
    )
    .join('; ');
  const timed = ok.filter((s) => s.stages.total !== undefined);
  if (kernel.bursts.length === 0 || timed.length === 0) return [`  kernel threads: ${threads}`];
  const inBurst = new Set(
    timed.filter((s) => duringBurst(kernel.bursts, s.at, s.at + s.totalMs, BURST_AFTER_MS)),
  );
  const slowest = timed.filter((s) => (s.stages.total as number) >= totalP99);
  const hit = inBurst.size;
  const slowHit = slowest.filter((s) => inBurst.has(s)).length;
  const rest = timed.filter((s) => !inBurst.has(s)).map((s) => s.stages.total as number);
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(0)} %`;
  return [
    `  kernel threads: ${threads}`,
    `    answers in flight during a burst or up to ${BURST_AFTER_MS} ms after: ${hit} of ${timed.length} (${pct(hit, timed.length)}), ${slowHit} of the slowest 1 % (${pct(slowHit, slowest.length)}); server total p99 ÷ p50 of the others: ${rest.length > 0 ? (percentile(rest, 0.99) / percentile(rest, 0.5)).toFixed(2) : '–'} (a diagnosis: the goal's measure is the whole run's)`,
  ];
}

/**
 * How much the machine's processes ran and how long they waited for a CPU per time slice
 * (`scripts/support/cpu-waits.ts`); null when nothing was measured.
 */
function waitLine(waits: CpuWaits | null): string {
  if (waits === null) return '  waiting for a CPU: not measured (no /proc)';
  const cpus = waits.wallMs > 0 ? waits.runNs / 1e6 / waits.wallMs : Number.NaN;
  const perSlice = waits.slices > 0 ? waits.waitNs / 1e6 / waits.slices : Number.NaN;
  return `  waiting for a CPU: the machine's processes (${waits.tasks} threads) ran ${cpus.toFixed(2)} CPUs on average and waited ${perSlice.toFixed(2)} ms for a CPU per time slice (mean of ${waits.slices} slices)`;
}

/** What was read of the machine beside the answers; each absent when not read. */
export interface MachineReadings {
  /** The host's steal time (`host-steal.ts`); empty when there is no `/proc/stat`. */
  readonly steal?: readonly StealSample[];
  /** Kernel threads' CPU and bursts (`kernel-bursts.ts`). */
  readonly kernel?: KernelReport;
  /** Run-queue waits over the run (`cpu-waits.ts`); null when there is no `/proc`. */
  readonly waits?: CpuWaits | null;
}

/**
 * The terminal summary and the HTML report of a simulation run: latency per stage (from
 * Server-Timing) and over time, the score distribution by ground truth on log axes, the
 * decision mix and, when the run saw fraud, ROC / PR curves with the policy's operating points.
 */
export function simulateReport(
  samples: readonly Sample[],
  elapsed: number,
  rps: number,
  { steal, kernel, waits }: MachineReadings = {},
): { summary: string; report: Report } {
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
  const sweep = curves(
    scored.map((s) => s.score as number),
    scored.map((s) => s.fraud),
  );
  const degraded = ok.filter((s) => s.degraded.length > 0).length;
  const otherStatuses = new Map<number, number>();
  for (const s of samples)
    if (s.status !== 200) otherStatuses.set(s.status, (otherStatuses.get(s.status) ?? 0) + 1);
  const others = [...otherStatuses]
    .sort((a, b) => a[0] - b[0])
    .map(([status, n]) => `${status === 0 ? 'no answer' : status} × ${n}`)
    .join(', ');
  const byReason = new Map<string, number>();
  for (const s of ok) for (const reason of s.degraded) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  const reasons = [...byReason].map(([reason, n]) => `${reason} ${n}`).join(', ');
  // When in the run they came: a cold stack degrades its first seconds, an overloaded one throughout.
  // The tail against the median too, per 10 s, with the host's steal time beside it.
  // From the first request sent: samples are kept in the order their answers came back, and
  // a slow first answer comes back after others (its window was printed as "-10–0 s").
  let firstAt = Number.POSITIVE_INFINITY;
  for (const s of samples) firstAt = Math.min(firstAt, s.at);
  if (!Number.isFinite(firstAt)) firstAt = 0;
  const degradedBy10s = new Map<number, number>();
  const totalsBy10s = new Map<number, number[]>();
  for (const s of ok) {
    const window = Math.floor((s.at - firstAt) / 10_000) * 10;
    if (s.degraded.length > 0) degradedBy10s.set(window, (degradedBy10s.get(window) ?? 0) + 1);
    if (s.stages.total === undefined) continue;
    const values = totalsBy10s.get(window) ?? [];
    values.push(s.stages.total);
    totalsBy10s.set(window, values);
  }
  const totalStats = stageStats.find((s) => s.stage === 'total');
  const totals = totalStats?.values ?? [];
  const tailRatio = (values: readonly number[]) => percentile(values, 0.99) / percentile(values, 0.5);
  const windowSteal = (from: number) =>
    steal ? stealIn(steal, firstAt + from * 1000, firstAt + (from + 10) * 1000) : undefined;
  const tailLines =
    totals.length === 0
      ? []
      : [
          `  server total p99 ÷ p50: ${tailRatio(totals).toFixed(2)} over the run; by 10 s: ${[...totalsBy10s]
            .sort((a, b) => a[0] - b[0])
            .map(([from, values]) => {
              const stolen = windowSteal(from);
              const mark =
                stolen !== undefined && stolen > STEAL_MARK ? ` (steal ${(100 * stolen).toFixed(0)} %)` : '';
              return `${from}–${from + 10} s ${tailRatio(values).toFixed(1)}${mark}`;
            })
            .join(', ')}`,
          ...(steal === undefined
            ? []
            : [
                steal.length > 0
                  ? `  host steal time: ${(100 * (stealIn(steal, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY) ?? 0)).toFixed(1)} % of CPU time over the run (given to other guests of the hypervisor; windows above ${100 * STEAL_MARK} % are marked)`
                  : '  host steal time: not measured (no /proc/stat)',
              ]),
          ...(kernel === undefined ? [] : kernelLines(kernel, ok, totalStats?.p99 ?? Number.NaN)),
          ...(waits === undefined ? [] : [waitLine(waits)]),
        ];
  const lines = [
    '',
    `simulate: ${samples.length} scored in ${elapsed.toFixed(1)} s (target ${rps} rps, achieved ${(samples.length / elapsed).toFixed(1)} rps)`,
    `  HTTP: ${ok.length} × 200, ${samples.length - ok.length} other${others ? ` (${others})` : ''}; degraded answers: ${degraded}${reasons ? ` (${reasons})` : ''}`,
    ...(degraded > 0
      ? [
          `  degraded by 10 s of the run: ${[...degradedBy10s]
            .sort((a, b) => a[0] - b[0])
            .map(([from, n]) => `${from}–${from + 10} s ${n}`)
            .join(', ')}`,
        ]
      : []),
    `  client round trip   p50 ${percentile(client, 0.5).toFixed(2)} ms  p95 ${percentile(client, 0.95).toFixed(2)} ms  p99 ${percentile(client, 0.99).toFixed(2)} ms`,
    ...stageStats.map(
      (s) =>
        `  server ${s.stage.padEnd(12)} p50 ${s.p50.toFixed(2)} ms  p95 ${s.p95.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms`,
    ),
    ...tailLines,
    `  decisions: ${decisions.map(({ d, n }) => `${d} ${n} (${((100 * n) / Math.max(1, ok.length)).toFixed(1)} %)`).join(', ')}`,
    fraud.length === 0
      ? `  ground truth: no fraud among ${ok.length} scored (fraud comes in episodes, about 1.5 % of a day's payments): run longer, e.g. --rps 50 --seconds 120, for detection metrics; false-positive rate ${(fp / Math.max(1, legit)).toFixed(4)}`
      : `  ground truth: ${fraud.length} fraud of ${ok.length}; flagged (review/decline): recall ${(tp / fraud.length).toFixed(3)}, false-positive rate ${(fp / Math.max(1, legit)).toFixed(4)}, ROC-AUC ${sweep.rocAuc.toFixed(3)}`,
  ];
  const summary = lines.join('\n');

  // Latency histogram: log-spaced bins, since a tail 50× the median is what matters.
  const latencyEdges = logEdges(0.05, 2000, 48);
  const latencyBins: Bin[] = [
    { name: 'client round trip', values: client },
    ...stageStats.map((s) => ({ name: `server ${s.stage}`, values: s.values })),
  ].flatMap(({ name, values }) =>
    histogram(values, latencyEdges).map((count, i) => ({
      series: name,
      lo: latencyEdges[i] as number,
      hi: latencyEdges[i + 1] as number,
      count,
    })),
  );
  // Latency over time: p50 and p99 of the client round trip per second of the run.
  const bySecond = new Map<number, number[]>();
  for (const s of ok) {
    const second = Math.floor(s.at / 1000) * 1000;
    const list = bySecond.get(second) ?? [];
    list.push(s.totalMs);
    bySecond.set(second, list);
  }
  const overTime: TimePoint[] = [...bySecond.entries()]
    .sort((a, b) => a[0] - b[0])
    .flatMap(([t, values]) => [
      { series: 'p50', t, value: percentile(values, 0.5) },
      { series: 'p99', t, value: percentile(values, 0.99) },
    ]);
  const scoreEdges = logEdges(1e-6, 1, 48);
  const scoreBins: Bin[] = [false, true].flatMap((isFraud) =>
    histogram(
      scored.filter((s) => s.fraud === isFraud).map((s) => Math.max(s.score as number, 1e-6)),
      scoreEdges,
    ).map((count, i) => ({
      series: isFraud ? 'fraud' : 'legitimate',
      lo: scoreEdges[i] as number,
      hi: scoreEdges[i + 1] as number,
      count,
    })),
  );
  const blocks: Block[] = [
    { kind: 'pre', text: summary.trim() },
    {
      kind: 'chart',
      // Step lines, not bars: four overlapping stage histograms stay readable as outlines.
      spec: curveChart({
        title: 'Latency per stage',
        subtitle: `${ok.length} answers; server stages from Server-Timing; log-spaced bins`,
        xTitle: 'latency (ms, log scale)',
        yTitle: 'requests per bin',
        points: latencyBins.map((b) => ({ series: b.series, x: b.lo, y: b.count })),
        logX: true,
        step: true,
      }),
    },
    {
      kind: 'chart',
      spec: timeChart({
        title: 'Client round trip over time',
        subtitle: 'per second of the run',
        yTitle: 'latency (ms, log scale)',
        points: overTime,
        logY: true,
      }),
    },
    {
      kind: 'chart',
      spec: histogramChart({
        title: 'Score distribution by ground truth',
        xTitle: 'model score (log scale)',
        yTitle: 'answers (log scale)',
        bins: scoreBins,
        logX: true,
        logY: true,
      }),
      caption: 'Both axes are logarithmic: fraud is a small share of the stream.',
    },
    {
      kind: 'chart',
      spec: barChart({
        title: 'Decision mix',
        categoryTitle: 'decision',
        valueTitle: 'answers',
        values: decisions.map(({ d, n }) => ({ category: d, series: d, value: n })),
        stacked: true,
      }),
    },
  ];
  if (fraud.length > 0 && legit > 0) {
    const operating = {
      series: 'policy',
      x: Math.max(fp / legit, 1 / legit),
      y: tp / fraud.length,
      label: 'review or decline',
    };
    blocks.push(
      {
        kind: 'chart',
        spec: curveChart({
          title: 'ROC curve (score alone)',
          subtitle: `AUC ${sweep.rocAuc.toFixed(4)} · ${fraud.length} fraud, ${legit} legitimate`,
          xTitle: 'false-positive rate (log scale)',
          yTitle: 'recall',
          points: thin(
            sweep.points.filter((p) => p.fpr > 0),
            300,
            (p) => [Math.log10(p.fpr), p.tpr],
          ).map((p) => ({ series: 'model', x: p.fpr, y: p.tpr })),
          markers: [operating],
          logX: true,
          yDomain: [0, 1],
          step: true,
        }),
        caption: 'Diamond: where the policy (rules and thresholds) actually operated in this run.',
      },
      {
        kind: 'chart',
        spec: curveChart({
          title: 'Precision–recall curve (score alone)',
          subtitle: `average precision ${sweep.prAuc.toFixed(4)}`,
          xTitle: 'recall',
          yTitle: 'precision',
          points: thin(sweep.points.slice(1), 300, (p) => [p.tpr, p.precision]).map((p) => ({
            series: 'model',
            x: p.tpr,
            y: p.precision,
          })),
          markers: [{ ...operating, x: tp / fraud.length, y: tp / Math.max(1, tp + fp) }],
          xDomain: [0, 1],
          yDomain: [0, 1],
        }),
      },
    );
  }
  return {
    summary,
    report: {
      title: 'Fraud scoring simulation',
      subtitle: `${samples.length} requests at ${rps} rps target, ${new Date(samples.length > 0 ? firstAt : Date.now()).toISOString()}`,
      sections: [{ title: 'Run', blocks }],
    },
  };
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`simulate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
