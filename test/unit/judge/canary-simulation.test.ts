/**
 * The reduced-seed `npm run canary:simulate`: the real judge over simulated canary windows at
 * prod's canary traffic, asserting the acceptance goals with a margin (the full run uses 200
 * seeds per scenario).
 */
import { judgeConfig } from '#domain/judge/config';
import prodCapacity from '../../../infra/config/prod.capacity.json';
import { acceptanceScenarios, prepareTraffic, runScenario } from '../../../scripts/canary/simulation';

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
  const run = (prefix: string) => {
    const scenario = scenarios.find((s) => s.name.startsWith(prefix));
    if (!scenario) throw new Error(`no scenario ${prefix}`);
    return runScenario(traffic, scenario, SEEDS, config);
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

  it('never passes too little traffic', () => {
    // act
    const r = run('too little traffic');
    // assert
    expect(r.pass).toBe(0);
    expect(r.inconclusive).toBe(SEEDS);
  });
});
