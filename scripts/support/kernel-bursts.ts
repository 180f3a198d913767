/**
 * Kernel threads that take a CPU in bursts during a load run. On the 2-core VM of 2026-12-02,
 * the kernel's DAMON thread (`kdamond.0`, proactive reclaim over physical memory, sampling every
 * 0.5 s) took one CPU for ~32 ms every ~0.54 s while the stack was under load (~4 % of a CPU,
 * 0.05 % on an idle machine): the slowest 1 % of `npm run simulate`'s answers fell in those
 * bursts, and outside them the tail was 2.8–3.0 × the median (docs/performance.md, session 13).
 * Like steal time, it is the machine, not the stack; `npm run simulate` measures it beside the
 * tail so a run's reader can tell.
 *
 * How: kernel threads are the children of `kthreadd` (pid 2). Every {@link SCAN_MS} the sampler
 * reads each one's run time (`/proc/<pid>/schedstat`, nanoseconds); the ones that used more
 * than {@link HOT_SHARE} of a CPU since the last scan are then read every {@link FAST_MS}, and
 * the intervals in which a thread ran for at least {@link BURST_SHARE} of the time make its
 * bursts. Linux only; elsewhere nothing is measured.
 */
import { readFileSync } from 'node:fs';
import { percentile } from '../report/curves';
import { readProcesses } from './proc';

/** Run time of all kernel threads is read this often, to find the busy ones. */
export const SCAN_MS = 1000;
/** A busy thread's run time is read this often, to time its bursts. */
export const FAST_MS = 10;
/** A thread that used more than this share of a CPU in a scan interval is read every {@link FAST_MS}. */
export const HOT_SHARE = 0.01;
/** An interval in which a thread ran at least this share of the time is part of a burst. */
export const BURST_SHARE = 0.5;

/** A kernel thread: pid and name (`comm`). */
export interface KernelThread {
  readonly pid: number;
  readonly name: string;
}

/** What the sampler reads of `/proc`; a fake in tests. */
export interface ProcSource {
  /** The kernel threads now (children of pid 2), or undefined where there is no `/proc`. */
  kernelThreads(): KernelThread[] | undefined;
  /** A thread's cumulative run time in ns, or undefined once it is gone. */
  runNs(pid: number): number | undefined;
}

/** One burst: a thread ran at least {@link BURST_SHARE} of the time from `from` to `to` (epoch ms). */
export interface Burst {
  readonly thread: string;
  readonly from: number;
  readonly to: number;
  /** CPU time the thread used in it, ms. */
  readonly cpuMs: number;
}

/** What a run saw: each thread's CPU over the run (the ones that used any), and the bursts. */
export interface KernelReport {
  readonly wallMs: number;
  readonly threads: readonly { readonly name: string; readonly cpuMs: number }[];
  readonly bursts: readonly Burst[];
}

/** `/proc/<pid>/schedstat`'s first field: run time in ns; undefined when malformed. */
export function parseSchedstat(text: string): number | undefined {
  const runNs = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(runNs) && runNs >= 0 ? runNs : undefined;
}

/**
 * The bursts in one thread's readings (epoch ms, cumulative run ns, in time order): runs of
 * consecutive intervals in which it ran at least `minShare` of the time.
 */
export function burstsOf(
  thread: string,
  readings: readonly { readonly at: number; readonly runNs: number }[],
  minShare = BURST_SHARE,
): Burst[] {
  const bursts: Burst[] = [];
  let open: { from: number; to: number; cpuMs: number } | undefined;
  for (let i = 1; i < readings.length; i += 1) {
    const before = readings[i - 1] as { at: number; runNs: number };
    const after = readings[i] as { at: number; runNs: number };
    const wall = after.at - before.at;
    const cpuMs = (after.runNs - before.runNs) / 1e6;
    const busy = wall > 0 && cpuMs >= minShare * wall;
    if (busy && open && open.to === before.at) {
      open.to = after.at;
      open.cpuMs += cpuMs;
    } else if (busy) {
      if (open) bursts.push({ thread, ...open });
      open = { from: before.at, to: after.at, cpuMs };
    }
  }
  if (open) bursts.push({ thread, ...open });
  return bursts;
}

/** Whether `[from, to]` overlaps a burst or the `afterMs` following it (the queues it left take that long to drain). */
export function duringBurst(bursts: readonly Burst[], from: number, to: number, afterMs: number): boolean {
  return bursts.some((b) => from <= b.to + afterMs && to >= b.from);
}

/** Samples kernel threads' run time until stopped: see the file's comment. */
export class KernelBurstSampler {
  /** The kernel threads at the start: pid → name. */
  private threads = new Map<number, string>();
  private readonly lastScan = new Map<number, number>();
  private readonly firstScan = new Map<number, number>();
  /** Each busy thread's fast readings, one segment per stretch it stayed busy. */
  private readonly fast = new Map<number, { at: number; runNs: number }[][]>();
  private hot = new Set<number>();
  private scanTimer: NodeJS.Timeout | undefined;
  private fastTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private lastScanAt = 0;
  private measuring = false;

  constructor(
    private readonly proc: ProcSource = linuxProc,
    private readonly now: () => number = Date.now,
  ) {}

  start(scanMs = SCAN_MS, fastMs = FAST_MS): this {
    const threads = this.proc.kernelThreads();
    if (threads === undefined) return this;
    this.measuring = true;
    this.threads = new Map(threads.map(({ pid, name }) => [pid, name]));
    this.startedAt = this.now();
    this.scan();
    this.scanTimer = setInterval(() => this.scan(), scanMs);
    this.fastTimer = setInterval(() => this.sampleHot(), fastMs);
    this.scanTimer.unref();
    this.fastTimer.unref();
    return this;
  }

  /** Reads every kernel thread's run time and picks the busy ones (the scan timer's step; exposed for tests). */
  scan(): void {
    const at = this.now();
    const wall = at - this.lastScanAt;
    const hot = new Set<number>();
    for (const pid of this.threads.keys()) {
      const runNs = this.proc.runNs(pid);
      if (runNs === undefined) continue;
      if (!this.firstScan.has(pid)) this.firstScan.set(pid, runNs);
      const before = this.lastScan.get(pid);
      this.lastScan.set(pid, runNs);
      if (before !== undefined && wall > 0 && (runNs - before) / 1e6 > HOT_SHARE * wall) hot.add(pid);
    }
    // A thread that turns busy again starts a new segment: the gap splits its bursts, never bridges them.
    for (const pid of hot) if (!this.hot.has(pid)) this.fast.set(pid, [...(this.fast.get(pid) ?? []), []]);
    this.hot = hot;
    this.lastScanAt = at;
  }

  /** Reads the busy threads' run time (the fast timer's step; exposed for tests). */
  sampleHot(): void {
    const at = this.now();
    for (const pid of this.hot) {
      const runNs = this.proc.runNs(pid);
      if (runNs === undefined) continue;
      this.fast.get(pid)?.at(-1)?.push({ at, runNs });
    }
  }

  /** Stops sampling; undefined when nothing was measured (no `/proc`). */
  stop(): KernelReport | undefined {
    if (this.scanTimer) clearInterval(this.scanTimer);
    if (this.fastTimer) clearInterval(this.fastTimer);
    this.scanTimer = this.fastTimer = undefined;
    if (!this.measuring) return undefined;
    this.scan();
    const threads = [...this.firstScan]
      .map(([pid, first]) => ({
        name: this.threads.get(pid) ?? String(pid),
        cpuMs: ((this.lastScan.get(pid) ?? first) - first) / 1e6,
      }))
      .filter((t) => t.cpuMs > 0)
      .sort((a, b) => b.cpuMs - a.cpuMs);
    const bursts = [...this.fast]
      .flatMap(([pid, segments]) =>
        segments.flatMap((readings) => burstsOf(this.threads.get(pid) ?? String(pid), readings)),
      )
      .sort((a, b) => a.from - b.from);
    return { wallMs: this.now() - this.startedAt, threads, bursts };
  }
}

const linuxProc: ProcSource = {
  kernelThreads() {
    // kthreadd's children; kthreadd itself (pid 2, ppid 0) was never sampled.
    return readProcesses()
      ?.filter((p) => p.ppid === 2)
      .map(({ pid, name }) => ({ pid, name }));
  },
  runNs(pid) {
    try {
      return parseSchedstat(readFileSync(`/proc/${pid}/schedstat`, 'utf8'));
    } catch {
      return undefined;
    }
  },
};

/** One kernel thread that used a share of a CPU over a run, and the shape of its bursts. */
export interface BusyThread {
  readonly name: string;
  /** Its CPU time ÷ the run's wall time (share of one CPU). */
  readonly share: number;
  readonly bursts: number;
  /** Median burst length and median time between the starts of consecutive bursts, ms (NaN without bursts). */
  readonly burstMs: number;
  readonly everyMs: number;
}

/** The threads of a run that used at least `minShare` of a CPU, busiest first. */
export function busyThreads(report: KernelReport, minShare = 0.005): BusyThread[] {
  if (report.wallMs <= 0) return [];
  return report.threads
    .filter((t) => t.cpuMs / report.wallMs >= minShare)
    .map((t) => {
      const own = report.bursts.filter((b) => b.thread === t.name);
      return {
        name: t.name,
        share: t.cpuMs / report.wallMs,
        bursts: own.length,
        burstMs: percentile(
          own.map((b) => b.to - b.from),
          0.5,
        ),
        everyMs: percentile(
          own.slice(1).map((b, i) => b.from - (own[i] as Burst).from),
          0.5,
        ),
      };
    });
}
