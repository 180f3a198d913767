/**
 * How long the machine's processes waited for a CPU during `npm run simulate`
 * (`scripts/support/cpu-waits.ts`): reading a task's schedstat, the sums between two readings,
 * the reader on a fake `/proc` and on this machine's, and the summary's line.
 */
import fc from 'fast-check';
import { type Sample, simulateReport } from '../../scripts/simulate';
import {
  CpuWaitReader,
  cpuWaitsBetween,
  parseTaskSchedstat,
  type TaskSource,
  type TaskTimes,
} from '../../scripts/support/cpu-waits';

const times = (runMs: number, waitMs: number, slices: number): TaskTimes => ({
  runNs: runMs * 1e6,
  waitNs: waitMs * 1e6,
  slices,
});

describe('reading a task’s schedstat', () => {
  it('reads run time, run-queue wait and time slices', () => {
    // act / assert
    expect(parseTaskSchedstat('2935368000 459000000 2675\n')).toEqual({
      runNs: 2935368000,
      waitNs: 459000000,
      slices: 2675,
    });
    expect(parseTaskSchedstat('0 0 0')).toEqual({ runNs: 0, waitNs: 0, slices: 0 });
  });

  it('refuses a line that is not three counts', () => {
    // act / assert
    expect(parseTaskSchedstat('')).toBeUndefined();
    expect(parseTaskSchedstat('12 34')).toBeUndefined();
    expect(parseTaskSchedstat('12 x 5')).toBeUndefined();
    expect(parseTaskSchedstat('12 -3 5')).toBeUndefined();
    expect(parseTaskSchedstat('12 3 5.5')).toBeUndefined();
  });
});

describe('waits between two readings', () => {
  it('sums what the tasks present at both readings ran and waited, and leaves the others out', () => {
    // arrange: task 1/1 ran 10 ms and waited 4 ms over 20 slices; 1/2 ran 5 ms, waited 1 ms, 5 slices
    const before = {
      at: 1000,
      tasks: new Map([
        ['1/1', times(100, 50, 100)],
        ['1/2', times(10, 2, 10)],
        ['9/9', times(1, 1, 1)], // gone by the end
      ]),
    };
    const after = {
      at: 3000,
      tasks: new Map([
        ['1/1', times(110, 54, 120)],
        ['1/2', times(15, 3, 15)],
        ['7/7', times(500, 500, 500)], // started during the run: its whole life is not the run's
      ]),
    };
    // act
    const waits = cpuWaitsBetween(before, after);
    // assert
    expect(waits).toEqual({ wallMs: 2000, runNs: 15e6, waitNs: 5e6, slices: 25, tasks: 2 });
  });

  it('leaves out a task whose counts went back (its id reused by a new task)', () => {
    // arrange
    const before = { at: 0, tasks: new Map([['5/5', times(100, 10, 100)]]) };
    const after = { at: 1000, tasks: new Map([['5/5', times(2, 1, 3)]]) };
    // act / assert
    expect(cpuWaitsBetween(before, after)).toEqual({
      wallMs: 1000,
      runNs: 0,
      waitNs: 0,
      slices: 0,
      tasks: 0,
    });
  });

  it('never counts more than the tasks ran and waited, whatever the readings', () => {
    const task = fc.record({
      runNs: fc.nat({ max: 1e12 }),
      waitNs: fc.nat({ max: 1e12 }),
      slices: fc.nat({ max: 1e7 }),
    });
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('1/1', '1/2', '2/2', '3/3'), fc.tuple(task, task)),
        (pairs) => {
          // arrange
          const entries = Object.entries(pairs);
          const before = { at: 0, tasks: new Map(entries.map(([id, [a]]) => [id, a])) };
          const after = { at: 10, tasks: new Map(entries.map(([id, [, b]]) => [id, b])) };
          // act
          const waits = cpuWaitsBetween(before, after);
          // assert: the sums are of non-negative deltas only, over at most every task
          expect(waits.tasks).toBeLessThanOrEqual(entries.length);
          expect(waits.runNs).toBeGreaterThanOrEqual(0);
          expect(waits.waitNs).toBeGreaterThanOrEqual(0);
          expect(waits.slices).toBeGreaterThanOrEqual(0);
          const most = (pick: (t: TaskTimes) => number) =>
            entries.reduce((sum, [, [a, b]]) => sum + Math.max(0, pick(b) - pick(a)), 0);
          expect(waits.runNs).toBeLessThanOrEqual(most((t) => t.runNs));
          expect(waits.waitNs).toBeLessThanOrEqual(most((t) => t.waitNs));
          expect(waits.slices).toBeLessThanOrEqual(most((t) => t.slices));
        },
      ),
    );
  });
});

describe('CpuWaitReader', () => {
  it('measures from start to stop on the tasks it reads', () => {
    // arrange
    let now = 5000;
    let reading = new Map([['1/1', times(0, 0, 0)]]);
    const source: TaskSource = { tasks: () => reading };
    const reader = new CpuWaitReader(source, () => now).start();
    now = 15_000;
    reading = new Map([['1/1', times(6000, 1500, 5000)]]);
    // act
    const waits = reader.stop();
    // assert
    expect(waits).toEqual({ wallMs: 10_000, runNs: 6000e6, waitNs: 1500e6, slices: 5000, tasks: 1 });
  });

  it('measures nothing where there is no /proc', () => {
    // arrange
    const reader = new CpuWaitReader({ tasks: () => undefined }).start();
    // act / assert
    expect(reader.stop()).toBeUndefined();
  });

  it("reads this machine's tasks, this process's threads among them, and they ran", () => {
    // arrange
    if (process.platform !== 'linux') return;
    const reader = new CpuWaitReader().start();
    // act: some CPU for this process to use between the readings
    let x = 0;
    for (let i = 0; i < 2e6; i += 1) x += Math.sqrt(i);
    const waits = reader.stop();
    // assert
    expect(x).toBeGreaterThan(0);
    expect(waits?.tasks).toBeGreaterThan(1);
    expect(waits?.runNs).toBeGreaterThan(0);
    expect(waits?.slices).toBeGreaterThan(0);
  });
});

describe("simulate's summary", () => {
  const samples: Sample[] = Array.from({ length: 100 }, (_, i) => ({
    at: 1_000 + i * 10,
    status: 200,
    totalMs: 4,
    stages: { features: 1, inference: 1, total: 3 + (i % 10) / 10 },
    score: 0.1,
    decision: 'approve',
    degraded: [],
    fraud: false,
  }));

  it('prints how much the processes ran and how long they waited for a CPU per time slice', () => {
    // arrange: 2.4 s of run time over 2 s; 0.76 s of waits over 2,000 slices
    const waits = { wallMs: 2000, runNs: 2.4e9, waitNs: 0.76e9, slices: 2000, tasks: 140 };
    // act
    const { summary } = simulateReport(samples, 1, 100, { waits });
    // assert
    expect(summary).toContain(
      "waiting for a CPU: the machine's processes (140 threads) ran 1.20 CPUs on average and waited 0.38 ms for a CPU per time slice (mean of 2000 slices)",
    );
  });

  it('says so when nothing was measured, and prints no line when the reader was not run', () => {
    // act
    const unmeasured = simulateReport(samples, 1, 100, { waits: null }).summary;
    const notGiven = simulateReport(samples, 1, 100).summary;
    // assert
    expect(unmeasured).toContain('waiting for a CPU: not measured (no /proc)');
    expect(notGiven).not.toContain('waiting for a CPU');
  });
});
