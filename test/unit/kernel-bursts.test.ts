/**
 * Kernel threads' CPU bursts beside `npm run simulate`'s tail (`scripts/support/kernel-bursts.ts`):
 * reading `/proc`, finding the bursts in a thread's run time, the sampler's scans and fast
 * readings, and the summary's count of answers in flight during a burst.
 */
import fc from 'fast-check';
import { type Sample, simulateReport } from '../../scripts/simulate';
import {
  BURST_SHARE,
  type Burst,
  burstsOf,
  busyThreads,
  duringBurst,
  KernelBurstSampler,
  type ProcSource,
  parseSchedstat,
} from '../../scripts/support/kernel-bursts';
import { parseStat } from '../../scripts/support/proc';

describe('reading /proc', () => {
  it("reads a thread's name and parent, whatever its name holds", () => {
    // act / assert
    expect(parseStat('79 (kdamond.0) S 2 0 0 0 -1 2129984 0 0')).toEqual({ name: 'kdamond.0', ppid: 2 });
    expect(parseStat('4242 (a (b) c) R 17 4242 4242 0')).toEqual({ name: 'a (b) c', ppid: 17 });
    expect(parseStat('79 kdamond S 2')).toBeUndefined();
    expect(parseStat('79 (kdamond.0) S x')).toBeUndefined();
  });

  it('reads the run time of a schedstat line', () => {
    // act / assert
    expect(parseSchedstat('1234567890 55 66\n')).toBe(1234567890);
    expect(parseSchedstat('none 1 2')).toBeUndefined();
    expect(parseSchedstat('-5 1 2')).toBeUndefined();
  });
});

/** Readings every 10 ms from 0, the thread running `cpuMs[i]` in interval i. */
function readings(cpuMs: readonly number[], from = 0): { at: number; runNs: number }[] {
  const out = [{ at: from, runNs: 0 }];
  cpuMs.forEach((ms, i) => {
    out.push({ at: from + (i + 1) * 10, runNs: (out[i]?.runNs ?? 0) + ms * 1e6 });
  });
  return out;
}

describe('bursts in a thread’s run time', () => {
  it('joins consecutive busy intervals and keeps the others out', () => {
    // act: busy (≥ 5 of 10 ms) in intervals 3–5 and 9
    const bursts = burstsOf('kdamond.0', readings([0, 1, 4, 8, 10, 6, 2, 0, 4.9, 5]));
    // assert
    expect(bursts).toEqual([
      { thread: 'kdamond.0', from: 30, to: 60, cpuMs: 24 },
      { thread: 'kdamond.0', from: 90, to: 100, cpuMs: 5 },
    ]);
  });

  it('covers exactly the busy intervals, in order, without overlaps, whatever the trace', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { maxLength: 200 }), (cpuMs) => {
        // act
        const bursts = burstsOf('t', readings(cpuMs));
        // assert: every interval is inside a burst exactly when it was busy
        cpuMs.forEach((ms, i) => {
          const inside = bursts.filter((b) => b.from <= i * 10 && (i + 1) * 10 <= b.to);
          expect(inside.length).toBe(ms >= BURST_SHARE * 10 - 1e-9 ? 1 : 0);
        });
        bursts.forEach((b, i) => {
          expect(b.cpuMs).toBeGreaterThanOrEqual(BURST_SHARE * (b.to - b.from) - 1e-6);
          if (i > 0) expect(b.from).toBeGreaterThan((bursts[i - 1] as Burst).to);
        });
      }),
    );
  });

  it('tells whether an answer was in flight during a burst or the time after it', () => {
    // prepare
    const bursts: Burst[] = [{ thread: 't', from: 1000, to: 1030, cpuMs: 30 }];
    // act / assert
    expect(duringBurst(bursts, 990, 1000, 50)).toBe(true);
    expect(duringBurst(bursts, 1070, 1080, 50)).toBe(true);
    expect(duringBurst(bursts, 1081, 1090, 50)).toBe(false);
    expect(duringBurst(bursts, 900, 999, 50)).toBe(false);
    expect(duringBurst([], 0, 1e12, 50)).toBe(false);
  });
});

describe('the sampler', () => {
  /** Two kernel threads whose run time the test moves; a third that is gone. */
  function fakeProc(): ProcSource & { run: Map<number, number> } {
    const run = new Map([
      [79, 0],
      [80, 0],
    ]);
    return {
      run,
      kernelThreads: () => [
        { pid: 79, name: 'kdamond.0' },
        { pid: 80, name: 'kcompactd0' },
        { pid: 81, name: 'gone' },
      ],
      runNs: (pid) => run.get(pid),
    };
  }

  it('reads the busy threads often and times their bursts; a thread that cools and heats again is not bridged', () => {
    // prepare
    const proc = fakeProc();
    let clock = 0;
    const sampler = new KernelBurstSampler(proc, () => clock);
    const step = (ms: number, kdamondMs: number) => {
      clock += ms;
      proc.run.set(79, (proc.run.get(79) ?? 0) + kdamondMs * 1e6);
    };
    // act: a first scan; kdamond busy for a second (hot at the next scan), then a 30 ms burst
    sampler.start(60_000, 60_000);
    step(1000, 50);
    proc.run.set(80, 1e6); // kcompactd: 1 ms in that second, 0.1 %: not read often
    sampler.scan();
    sampler.sampleHot();
    for (const ms of [1, 8, 9, 10, 2]) {
      step(10, ms);
      sampler.sampleHot();
    }
    // it cools (a scan that saw it idle), then runs a whole second: read often again from then
    sampler.scan();
    step(10, 0);
    sampler.scan();
    step(1000, 1000);
    sampler.scan();
    sampler.sampleHot();
    step(10, 9);
    sampler.sampleHot();
    const report = sampler.stop();
    // assert: the second it was not read often is no burst (it would bridge 1050–2060 if it were)
    expect(report?.bursts).toEqual([
      { thread: 'kdamond.0', from: 1010, to: 1040, cpuMs: 27 },
      { thread: 'kdamond.0', from: 2060, to: 2070, cpuMs: 9 },
    ]);
    expect(report?.threads).toEqual([
      { name: 'kdamond.0', cpuMs: 1089 },
      { name: 'kcompactd0', cpuMs: 1 },
    ]);
    expect(report?.wallMs).toBe(2070);
    expect(busyThreads(report as NonNullable<typeof report>)).toEqual([
      { name: 'kdamond.0', share: 1089 / 2070, bursts: 2, burstMs: 10, everyMs: 1050 },
    ]);
  });

  it('measures nothing where there is no /proc', () => {
    // act
    const report = new KernelBurstSampler({ kernelThreads: () => undefined, runNs: () => undefined })
      .start(10, 10)
      .stop();
    // assert
    expect(report).toBeUndefined();
  });
});

describe("simulate's summary of kernel bursts", () => {
  const t0 = Date.parse('2026-12-02T00:00:00Z');
  /** 100 answers, 10 ms apart, 4 ms each; the ones sent in 200–300 ms take 40 ms. */
  const samples: Sample[] = Array.from({ length: 100 }, (_, i) => {
    const total = i >= 20 && i < 30 ? 40 : 4;
    return {
      at: t0 + i * 10,
      status: 200,
      totalMs: total + 0.5,
      stages: { features: 1, inference: 1, total },
      score: 0.001,
      decision: 'approve',
      degraded: [],
      fraud: false,
    };
  });

  it('names the busy threads and counts the answers in flight during their bursts', () => {
    // prepare: one 60 ms burst from 190 ms; with the 50 ms after it, answers in flight 190–300 ms are in it
    const kernel = {
      wallMs: 1000,
      threads: [
        { name: 'kdamond.0', cpuMs: 40 },
        { name: 'kworker/0:1', cpuMs: 1 },
      ],
      bursts: [{ thread: 'kdamond.0', from: t0 + 190, to: t0 + 250, cpuMs: 58 }],
    };
    // act
    const { summary } = simulateReport(samples, 1, 100, { kernel });
    // assert: the answer sent at 180 ms (back at 184.5) is out; those sent 190–300 ms, 12, are in
    expect(summary).toContain(
      'kernel threads: kdamond.0 4.0 % of a CPU, 1 burst at half a CPU or more (60 ms long)',
    );
    expect(summary).not.toContain('kworker');
    expect(summary).toMatch(
      /answers in flight during a burst or up to 50 ms after: 12 of 100 \(12 %\), 10 of the slowest 1 % \(100 %\); server total p99 ÷ p50 of the others: 1\.00/,
    );
  });

  it('says when no kernel thread was busy, and leaves kernel threads out when not measured', () => {
    // act
    const quiet = simulateReport(samples, 1, 100, {
      kernel: { wallMs: 1000, threads: [], bursts: [] },
    }).summary;
    const unmeasured = simulateReport(samples, 1, 100).summary;
    // assert
    expect(quiet).toContain('kernel threads: none used 0.5 % of a CPU or more over the run');
    expect(unmeasured).not.toContain('kernel threads');
  });
});
