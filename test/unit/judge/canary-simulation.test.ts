/**
 * The reduced-seed `npm run canary:simulate`: the real judge over simulated canary windows at
 * prod's canary traffic, asserting the acceptance goals with a margin (the full run uses 200
 * seeds per scenario).
 */
import { judgeConfig } from '#domain/judge/config';
import prodCapacity from '../../../infra/config/prod.capacity.json';
import { acceptanceScenarios, runScenario } from '../../../scripts/canary/scenarios';
import { prepareTraffic } from '../../../scripts/canary/simulation';

const SEEDS = 8;

describe('canary judge simulation (reduced seeds)', () => {
  // prepare
  const traffic = prepareTraffic();
  const scenarios = acceptanceScenarios(traffic, {
    peakRps: prodCapacity.sourcedFrom.peakRps,
    canaryPercent: 10,
    minutes: 10,
  });
  const config = judgeConfig();
  const run = (prefix: string, seeds = SEEDS) => {
    const scenario = scenarios.find((s) => s.name.startsWith(prefix));
    if (!scenario) throw new Error(`no scenario ${prefix}`);
    return runScenario(traffic, scenario, seeds, config);
  };

  it('A/A: fails at most once and is rarely inconclusive', () => {
    // act
    const r = run('A/A: identical');
    // assert
    expect(r.fail).toBeLessThanOrEqual(1);
    expect(r.inconclusive).toBeLessThanOrEqual(1);
  });

  it.each(['p99 latency +30 %', 'error rate +0.5 pp', 'new model, odds ×1.5'])(
    'catches "%s" in every run',
    (name) => {
      // act
      const r = run(name);
      // assert
      expect(r.fail).toBe(SEEDS);
    },
  );

  it('with a shadow phase: an identical shadow never fails, a one-segment decline change is caught', () => {
    // act (4 seeds each: every run also simulates the unpaired canary window)
    const aa = run('A/A +shadow 90 min', 4);
    const visible = run('(extra) decline +50 % in ecommerce.high.known +shadow 10 min', 4);
    const hidden = run('decline +50 % in card_present.mid.known +shadow 90 min', 4);
    // assert
    expect(aa.fail).toBe(0);
    expect(visible.fail).toBe(4);
    expect(hidden.fail).toBeGreaterThanOrEqual(3);
    expect(hidden.failingTests.get('paired-decline-rate[card_present.mid.known]')).toBe(hidden.fail);
  });

  it('never passes too little traffic', () => {
    // act
    const r = run('too little traffic');
    // assert
    expect(r.pass).toBe(0);
    expect(r.inconclusive).toBe(SEEDS);
  });
});
