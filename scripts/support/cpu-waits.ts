/**
 * How long the machine's processes waited for a CPU during a load run. At 100 answers/s with
 * fresh events, the local stack and `npm run simulate` keep ~60 % of two CPUs busy, and each
 * hand-off of an answer (client → front worker → dynalite → front worker → neural twin → ...)
 * wakes a process that first waits for a CPU: on session 14's VM, 0.17–0.50 ms on average per
 * wakeup and up to 10–34 ms (`perf sched latency`), what a two-server queue at that load gives
 * (docs/performance.md, session 14). Like steal time and kernel bursts, that is the machine
 * under the stack's load, and a run's reader should see it beside the tail.
 *
 * How: the kernel keeps three sums per task (`/proc/<pid>/task/<tid>/schedstat`): time on a CPU,
 * time waiting on a run queue, and time slices. They are read at the start and the end of the
 * run; the tasks present at both make the figures. Kernel threads are left out (the busy ones
 * are `kernel-bursts.ts`'s). Linux only; elsewhere nothing is measured.
 */
import { readFileSync } from 'node:fs';
import { isKernelThread, numberedEntries, readProcesses } from './proc';

/** A task's sums since it started (`/proc/<pid>/task/<tid>/schedstat`). */
export interface TaskTimes {
  /** On a CPU, ns. */
  readonly runNs: number;
  /** Runnable but waiting on a run queue, ns. */
  readonly waitNs: number;
  /** Time slices it ran. */
  readonly slices: number;
}

/** Every task's sums at one moment: `pid/tid` → sums. */
export interface TaskReading {
  /** Epoch ms. */
  readonly at: number;
  readonly tasks: ReadonlyMap<string, TaskTimes>;
}

/** What the tasks present at both readings ran and waited between them. */
export interface CpuWaits {
  readonly wallMs: number;
  readonly runNs: number;
  readonly waitNs: number;
  readonly slices: number;
  /** Tasks counted. */
  readonly tasks: number;
}

/** What the reader reads of `/proc`; a fake in tests. */
export interface TaskSource {
  /** Every task of the machine's processes (not kernel threads), or undefined where there is no `/proc`. */
  tasks(): Map<string, TaskTimes> | undefined;
}

/** A task's schedstat line (three counts); undefined when malformed. */
export function parseTaskSchedstat(text: string): TaskTimes | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 3) return undefined;
  const [runNs, waitNs, slices] = fields.map(Number) as [number, number, number];
  const count = (n: number) => Number.isSafeInteger(n) && n >= 0;
  return count(runNs) && count(waitNs) && count(slices) ? { runNs, waitNs, slices } : undefined;
}

/**
 * The sums over the tasks present at both readings. A task whose counts went back is a new task
 * that reuses an id, and is left out, as are the tasks that started or ended between them.
 */
export function cpuWaitsBetween(before: TaskReading, after: TaskReading): CpuWaits {
  let runNs = 0;
  let waitNs = 0;
  let slices = 0;
  let tasks = 0;
  for (const [id, end] of after.tasks) {
    const start = before.tasks.get(id);
    if (
      start === undefined ||
      end.runNs < start.runNs ||
      end.waitNs < start.waitNs ||
      end.slices < start.slices
    )
      continue;
    runNs += end.runNs - start.runNs;
    waitNs += end.waitNs - start.waitNs;
    slices += end.slices - start.slices;
    tasks += 1;
  }
  return { wallMs: after.at - before.at, runNs, waitNs, slices, tasks };
}

/** Reads every task's sums at {@link start} and {@link stop}: two passes over `/proc`, nothing in between. */
export class CpuWaitReader {
  private first: TaskReading | undefined;

  constructor(
    private readonly source: TaskSource = linuxTasks,
    private readonly now: () => number = Date.now,
  ) {}

  start(): this {
    const tasks = this.source.tasks();
    this.first = tasks === undefined ? undefined : { at: this.now(), tasks };
    return this;
  }

  /** The waits since {@link start}; undefined when nothing was measured (no `/proc`). */
  stop(): CpuWaits | undefined {
    if (this.first === undefined) return undefined;
    const tasks = this.source.tasks();
    return tasks === undefined ? undefined : cpuWaitsBetween(this.first, { at: this.now(), tasks });
  }
}

const linuxTasks: TaskSource = {
  tasks() {
    const processes = readProcesses();
    if (processes === undefined) return undefined;
    const tasks = new Map<string, TaskTimes>();
    for (const process of processes) {
      if (isKernelThread(process)) continue;
      for (const tid of numberedEntries(`/proc/${process.pid}/task`) ?? []) {
        try {
          const times = parseTaskSchedstat(
            readFileSync(`/proc/${process.pid}/task/${tid}/schedstat`, 'utf8'),
          );
          if (times !== undefined) tasks.set(`${process.pid}/${tid}`, times);
        } catch {
          // gone meanwhile
        }
      }
    }
    return tasks;
  },
};
