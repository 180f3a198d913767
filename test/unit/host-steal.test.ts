/**
 * Steal time beside `npm run simulate`'s tail (`scripts/support/host-steal.ts`): read from
 * `/proc/stat`, stolen shares per interval, and the summary's p99 ÷ p50 by 10 s with the windows
 * the host's other guests took CPU from marked.
 */
import fc from 'fast-check';
import { type Sample, simulateReport } from '../../scripts/simulate';
import { parseCpuTimes, StealSampler, stealIn, stolenBetween } from '../../scripts/support/host-steal';

/** A `/proc/stat` with these cumulative ticks on its `cpu` line (user nice system idle iowait irq softirq steal guest guest_nice). */
function procStat(busy: number, idle: number, steal: number): string {
  return [`cpu  ${busy} 0 0 ${idle} 0 0 0 ${steal} 0 0`, 'cpu0 1 2 3 4 5 6 7 8 0 0', 'intr 12345'].join('\n');
}

describe('steal time from /proc/stat', () => {
  it('reads the steal and total ticks of the all-cores line', () => {
    // act
    const times = parseCpuTimes(procStat(700, 250, 50));
    // assert: guest time (already inside user) is not counted twice
    expect(times).toEqual({ steal: 50, total: 1000 });
  });

  it('reads nothing from a text without a well-formed cpu line', () => {
    // act / assert
    expect(parseCpuTimes('intr 1\nctxt 2')).toBeUndefined();
    expect(parseCpuTimes('cpu  1 2 three 4 5 6 7 8')).toBeUndefined();
    expect(parseCpuTimes('cpu  1 2 3')).toBeUndefined();
  });

  it('gives the stolen share of any interval, between 0 and 1', () => {
    fc.assert(
      fc.property(
        fc.nat(1e6),
        fc.nat(1e6),
        fc.nat(1e6),
        fc.nat(1e4),
        fc.nat(1e4),
        (busy, idle, steal, moreBusy, moreSteal) => {
          // act
          const share = stolenBetween(
            { steal, total: busy + idle + steal },
            { steal: steal + moreSteal, total: busy + moreBusy + idle + steal + moreSteal },
          );
          // assert
          if (moreBusy + moreSteal === 0) expect(share).toBeUndefined();
          else expect(share).toBeCloseTo(moreSteal / (moreBusy + moreSteal), 12);
        },
      ),
    );
  });

  it('samples each interval and averages the ones that ended in a window', () => {
    // prepare: 10 % stolen in the first interval, 50 % in the second
    const texts = [procStat(0, 0, 0), procStat(90, 0, 10), procStat(140, 0, 60)];
    let clock = 1000;
    const sampler = new StealSampler(
      () => texts.shift(),
      () => clock,
    );
    // act
    sampler.start(60_000);
    sampler.sample();
    clock = 2000;
    const samples = sampler.stop();
    // assert
    expect(samples).toEqual([
      { at: 1000, fraction: 0.1 },
      { at: 2000, fraction: 0.5 },
    ]);
    expect(stealIn(samples, 0, 1500)).toBeCloseTo(0.1, 12);
    expect(stealIn(samples, 0, 3000)).toBeCloseTo(0.3, 12);
    expect(stealIn(samples, 3000, 4000)).toBeUndefined();
  });

  it('has no samples where there is no /proc/stat', () => {
    // act
    const samples = new StealSampler(() => undefined).start(10).stop();
    // assert
    expect(samples).toEqual([]);
  });
});

describe("simulate's summary of the tail", () => {
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  /** 30 s at 10 rps of 5.0–5.4 ms answers; `slowInSecondWindow` of them, from 10 s on, take 100 ms. */
  function samples(slowInSecondWindow: number): Sample[] {
    return Array.from({ length: 300 }, (_, i) => {
      const slow = i >= 100 && i < 100 + slowInSecondWindow;
      const total = slow ? 100 : 5 + (i % 5) / 10;
      return {
        at: t0 + i * 100,
        status: 200,
        totalMs: total + 1,
        stages: { features: total / 2, inference: total / 4, total },
        score: 0.001,
        decision: 'approve',
        degraded: [],
        fraud: false,
      };
    });
  }

  it('prints p99 ÷ p50 over the run and by 10 s, and marks the windows with steal time', () => {
    // prepare: the second window has 5 slow answers and 20 % steal, the others none
    const steal = Array.from({ length: 30 }, (_, s) => ({
      at: t0 + (s + 1) * 1000 - 1,
      fraction: s >= 10 && s < 20 ? 0.2 : 0,
    }));
    // act
    const { summary } = simulateReport(samples(5), 30, 10, { steal });
    // assert
    const line = summary.split('\n').find((l) => l.includes('p99 ÷ p50')) ?? '';
    expect(line).toMatch(/^ {2}server total p99 ÷ p50: \d+\.\d\d over the run; by 10 s: /);
    expect(line).toContain('0–10 s 1.0, 10–20 s 19.2 (steal 20 %), 20–30 s 1.0');
    expect(summary).toContain('host steal time: 6.7 % of CPU time over the run');
  });

  it('counts the windows from the first request sent, in order, when answers complete out of order', () => {
    // prepare: samples are kept in the order answers came back; the first request sent (a slow
    // one) comes back after the second, and one of the last window's before the previous window's
    const sent = samples(0);
    const [first, second] = sent as [Sample, Sample];
    const completed = [second, { ...first, totalMs: 40 }, ...sent.slice(2)];
    const late = completed.splice(200, 1)[0] as Sample;
    completed.splice(150, 0, late);
    // act
    const { summary, report } = simulateReport(completed, 30, 10);
    // assert: three windows from 0, in order, each with its 100 samples; the run dated from then
    const line = summary.split('\n').find((l) => l.includes('p99 ÷ p50')) ?? '';
    expect(line).toContain('by 10 s: 0–10 s 1.0, 10–20 s 1.0, 20–30 s 1.0');
    expect(line).not.toContain('-10');
    expect(report.subtitle).toContain(new Date(first.at).toISOString());
  });

  it('says when steal time was not measured, and leaves it out when not given', () => {
    // act
    const unmeasured = simulateReport(samples(0), 30, 10, { steal: [] }).summary;
    const notGiven = simulateReport(samples(0), 30, 10).summary;
    // assert
    expect(unmeasured).toContain('host steal time: not measured');
    expect(notGiven).not.toContain('host steal time');
    expect(notGiven).toContain('by 10 s: 0–10 s 1.0, 10–20 s 1.0, 20–30 s 1.0');
  });
});
