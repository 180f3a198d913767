/**
 * Steal time during a load run: the share of this machine's CPU time that the hypervisor gave
 * to other guests. On a shared virtual machine it comes in bursts (up to half of both cores
 * for tens of seconds, docs/performance.md), and a run's tail latency in such a burst says
 * nothing about the stack. `npm run simulate` samples it once a second from `/proc/stat`
 * (Linux) and marks the windows it touched; elsewhere it is not measured.
 */
import { readFileSync } from 'node:fs';

/** Cumulative CPU time of all cores, in clock ticks. */
export interface CpuTimes {
  readonly steal: number;
  /** user + nice + system + idle + iowait + irq + softirq + steal (guest time is inside user). */
  readonly total: number;
}

/** One sampling interval: when it ended (epoch ms) and the share of CPU time stolen in it (0–1). */
export interface StealSample {
  readonly at: number;
  readonly fraction: number;
}

/** The `cpu` line of `/proc/stat`; undefined when the text has none or it is malformed. */
export function parseCpuTimes(stat: string): CpuTimes | undefined {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 8 || fields.some((n) => !Number.isFinite(n) || n < 0)) return undefined;
  return { steal: fields[7] as number, total: fields.reduce((sum, n) => sum + n, 0) };
}

/** The stolen share between two readings; undefined when no time passed (or the counters went back). */
export function stolenBetween(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  const steal = after.steal - before.steal;
  if (total <= 0 || steal < 0) return undefined;
  return Math.min(1, steal / total);
}

/** Mean stolen share of the samples that ended in `[from, to)` (epoch ms); undefined if none did. */
export function stealIn(samples: readonly StealSample[], from: number, to: number): number | undefined {
  const inside = samples.filter((s) => s.at >= from && s.at < to);
  if (inside.length === 0) return undefined;
  return inside.reduce((sum, s) => sum + s.fraction, 0) / inside.length;
}

/**
 * Samples steal time every `intervalMs` until stopped. `read` returns `/proc/stat`'s text, or
 * undefined where there is none; then {@link stop} returns no samples.
 */
export class StealSampler {
  private readonly samples: StealSample[] = [];
  private last: CpuTimes | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly read: () => string | undefined = readProcStat,
    private readonly now: () => number = Date.now,
  ) {}

  start(intervalMs = 1000): this {
    this.last = this.reading();
    if (this.last === undefined) return this;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  /** Takes one sample now (the timer's step; exposed for tests). */
  sample(): void {
    const current = this.reading();
    if (current === undefined || this.last === undefined) return;
    const fraction = stolenBetween(this.last, current);
    this.last = current;
    if (fraction !== undefined) this.samples.push({ at: this.now(), fraction });
  }

  stop(): StealSample[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.last !== undefined) this.sample();
    return [...this.samples];
  }

  private reading(): CpuTimes | undefined {
    const text = this.read();
    return text === undefined ? undefined : parseCpuTimes(text);
  }
}

function readProcStat(): string | undefined {
  try {
    return readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
}
