/**
 * The canary simulator's scenarios (the acceptance table and the paired shadow-phase
 * rows) and the runner that judges each over many seeds with the real judge.
 */
import type { JudgeConfig } from '#domain/judge/config';
import { judgeCanary } from '#domain/judge/judge';
import type { VerdictOutcome } from '#domain/judge/types';
import { hiddenSegment, type PreparedTraffic, type Scenario, simulateWindow } from './simulation';

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly runs: number;
  readonly pass: number;
  readonly fail: number;
  readonly inconclusive: number;
  /** Fraction of runs meeting the scenario's `caught` predicate. */
  readonly rate: number;
  readonly met: boolean;
  /** The tests that failed most often (test name → runs). */
  readonly failingTests: ReadonlyMap<string, number>;
}

export function runScenario(
  traffic: PreparedTraffic,
  scenario: Scenario,
  seeds: number,
  config: JudgeConfig,
): ScenarioResult {
  let pass = 0;
  let fail = 0;
  let inconclusive = 0;
  let caught = 0;
  const failingTests = new Map<string, number>();
  for (let seed = 1; seed <= seeds; seed++) {
    const verdict = judgeCanary(simulateWindow(traffic, scenario, seed), config);
    if (verdict.outcome === 'pass') pass++;
    else if (verdict.outcome === 'fail') fail++;
    else inconclusive++;
    if (scenario.caught(verdict.outcome)) caught++;
    for (const t of verdict.tests) {
      if (t.outcome === 'fail' || (verdict.outcome === 'inconclusive' && t.outcome === 'inconclusive'))
        failingTests.set(t.test, (failingTests.get(t.test) ?? 0) + 1);
    }
  }
  const rate = caught / seeds;
  const met = scenario.target.atMost ? rate <= scenario.target.rate : rate >= scenario.target.rate;
  return { scenario, runs: seeds, pass, fail, inconclusive, rate, met, failingTests };
}

/** How the simulator runs the shadow phase of the paired scenarios. */
export interface ShadowPhaseOptions {
  /**
   * Requests per second the baseline serves (and the shadow scores) in the shadow phase.
   * @default peakRps: all traffic, at prod's planned peak
   */
  readonly shadowRps?: number;
  /** Length of the shadow phase. @default minutes (the canary window) */
  readonly shadowMinutes?: number;
  /**
   * Longer shadow phases, for the one-segment row a canary window is too short for (a shadow
   * risks no answer, so it may run longer than a canary step). @default [60, 90]
   */
  readonly longShadowMinutes?: readonly number[];
}

/** The acceptance scenarios at a given canary traffic and window, then the paired ones. */
export function acceptanceScenarios(
  traffic: PreparedTraffic,
  options: { peakRps: number; canaryPercent: number; minutes: number } & ShadowPhaseOptions,
): Scenario[] {
  const canaryRps = (options.peakRps * options.canaryPercent) / 100;
  const baselineRps = options.peakRps - canaryRps;
  const base = { baselineRps, canaryRps, minutes: options.minutes };
  const segment = hiddenSegment(traffic);
  // Not an acceptance row: a segment with enough declines to judge in one window, to show the
  // per-segment test works where the data allows (it moves the aggregate by more than 5 %).
  const visible = hiddenSegment(traffic, 0.5, 0.1);
  const visibleShare = (traffic.segmentDeclineShare.get(visible)?.share ?? 0) * 0.5;
  const failed = (o: VerdictOutcome) => o === 'fail';
  return [
    {
      name: 'A/A: identical versions',
      goal: 'fail ≤ 1 %',
      ...base,
      change: {},
      caught: failed,
      target: { rate: 0.01, atMost: true },
    },
    {
      name: 'A/A: inconclusive',
      goal: 'inconclusive ≤ 5 %',
      ...base,
      change: {},
      caught: (o) => o === 'inconclusive',
      target: { rate: 0.05, atMost: true },
    },
    {
      name: 'p99 latency +30 %',
      goal: 'caught ≥ 99 %',
      ...base,
      change: { latencyFactor: 1.3 },
      caught: failed,
      target: { rate: 0.99 },
    },
    {
      name: 'error rate +0.5 pp',
      goal: 'caught ≥ 99 %',
      ...base,
      change: { extraErrorRate: 0.005 },
      caught: failed,
      target: { rate: 0.99 },
    },
    {
      name: `decline +50 % in ${segment} only`,
      goal: 'caught ≥ 95 %',
      ...base,
      change: { segmentDecline: { segment, relativeIncrease: 0.5 } },
      caught: failed,
      target: { rate: 0.95 },
    },
    {
      name: `(extra) decline +50 % in ${visible} (all +${(visibleShare * 100).toFixed(1)} %)`,
      goal: 'caught ≥ 95 %',
      ...base,
      change: { segmentDecline: { segment: visible, relativeIncrease: 0.5 } },
      caught: failed,
      target: { rate: 0.95 },
    },
    {
      name: '(extra) new model, calibrated like its card',
      goal: 'fail ≤ 1 %',
      ...base,
      change: { newModel: true },
      caught: failed,
      target: { rate: 0.01, atMost: true },
    },
    {
      name: 'new model, odds ×1.5',
      goal: 'caught ≥ 99 %',
      ...base,
      change: { oddsFactor: 1.5 },
      caught: failed,
      target: { rate: 0.99 },
    },
    {
      name: 'too little traffic (0.2 rps canary)',
      goal: 'inconclusive 100 %, pass 0 %',
      baselineRps: 1.8,
      canaryRps: 0.2,
      minutes: options.minutes,
      change: {},
      caught: (o) => o === 'inconclusive',
      target: { rate: 1 },
    },
    ...pairedScenarios(options, base, segment, visible),
  ];
}

/**
 * The same changes judged with a shadow phase: the baseline version serves all traffic and
 * scores it with the candidate as a shadow, so the judge gets paired decisions beside the
 * canary's unpaired window.
 */
function pairedScenarios(
  options: { peakRps: number; minutes: number } & ShadowPhaseOptions,
  base: { baselineRps: number; canaryRps: number; minutes: number },
  segment: string,
  visible: string,
): Scenario[] {
  const rps = options.shadowRps ?? options.peakRps;
  const minutes = options.shadowMinutes ?? options.minutes;
  const longs = options.longShadowMinutes ?? [60, 90];
  const shadow = { rps, minutes };
  const tag = (m: number) => `+shadow ${m} min`;
  const failed = (o: VerdictOutcome) => o === 'fail';
  const rows: Scenario[] = [
    {
      name: `A/A ${tag(minutes)}`,
      goal: 'fail ≤ 1 %',
      ...base,
      shadow,
      change: {},
      caught: failed,
      target: { rate: 0.01, atMost: true },
    },
    {
      name: `A/A ${tag(minutes)}: inconclusive`,
      goal: 'inconclusive ≤ 5 %',
      ...base,
      shadow,
      change: {},
      caught: (o) => o === 'inconclusive',
      target: { rate: 0.05, atMost: true },
    },
    {
      name: `decline +50 % in ${segment} ${tag(minutes)}`,
      goal: 'caught ≥ 95 %',
      ...base,
      shadow,
      change: { segmentDecline: { segment, relativeIncrease: 0.5 } },
      caught: failed,
      target: { rate: 0.95 },
    },
    ...longs.flatMap((long): Scenario[] => [
      {
        name: `decline +50 % in ${segment} ${tag(long)}`,
        goal: 'caught ≥ 95 %',
        ...base,
        shadow: { rps, minutes: long },
        change: { segmentDecline: { segment, relativeIncrease: 0.5 } },
        caught: failed,
        target: { rate: 0.95 },
      },
      {
        name: `A/A ${tag(long)}`,
        goal: 'fail ≤ 1 %',
        ...base,
        shadow: { rps, minutes: long },
        change: {},
        caught: failed,
        target: { rate: 0.01, atMost: true },
      },
    ]),
    {
      name: `(extra) decline +50 % in ${visible} ${tag(minutes)}`,
      goal: 'caught ≥ 95 %',
      ...base,
      shadow,
      change: { segmentDecline: { segment: visible, relativeIncrease: 0.5 } },
      caught: failed,
      target: { rate: 0.95 },
    },
    {
      name: `(extra) new model as its card ${tag(minutes)}`,
      goal: 'fail ≤ 1 %',
      ...base,
      shadow,
      change: { newModel: true },
      caught: failed,
      target: { rate: 0.01, atMost: true },
    },
    {
      name: `new model, odds ×1.5 ${tag(minutes)}`,
      goal: 'caught ≥ 99 %',
      ...base,
      shadow,
      change: { oddsFactor: 1.5 },
      caught: failed,
      target: { rate: 0.99 },
    },
  ];
  return rows;
}
