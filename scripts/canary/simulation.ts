/**
 * The canary simulator's model of one canary window: per-minute Poisson request counts for the
 * baseline and the canary, each request drawn from simulated traffic scored by the real model
 * (`data/traffic-sample.jsonl`), latency drawn from the distribution measured on the local stack
 * (`data/latency-profile.json`), and a scenario's change applied to the canary only. Its output
 * is the judge's own input type, so `npm run canary:simulate` and the jest test run the real
 * judge on it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JudgeConfig } from '#domain/judge/config';
import { judgeCanary } from '#domain/judge/judge';
import type {
  DecisionCounts,
  JudgeInput,
  PairedDecisions,
  VerdictOutcome,
  VersionObservation,
} from '#domain/judge/types';
import { mulberry32 } from '#domain/random';
import { binIndex, histogramOf } from '#domain/stats/histogram';

const DATA = join(__dirname, 'data');

export interface TrafficSample {
  readonly segmentKeys: readonly string[];
  readonly segment: readonly number[];
  readonly score: readonly number[];
  readonly amountLog: readonly number[];
  readonly cardCount24h: readonly number[];
}

export interface LatencyProfile {
  readonly mu: number;
  readonly sigma: number;
}

export interface ModelThresholds {
  readonly review: number;
  readonly decline: number;
  readonly edges: readonly number[];
}

export function loadTrafficSample(): TrafficSample {
  const [header, ...columns] = readFileSync(join(DATA, 'traffic-sample.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const sample: Record<string, unknown> = { segmentKeys: header.segmentKeys };
  for (const { column, values } of columns) sample[column] = values;
  return sample as unknown as TrafficSample;
}

export function loadLatencyProfile(): LatencyProfile {
  return JSON.parse(readFileSync(join(DATA, 'latency-profile.json'), 'utf8'));
}

/** The card's thresholds and score bins (`models/fraud-gbdt/1.0.0/model.json`). */
export function loadModelThresholds(
  modelDir = join(__dirname, '..', '..', 'models', 'fraud-gbdt', '1.0.0'),
): ModelThresholds {
  const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  return {
    review: card.thresholds.review.score,
    decline: card.thresholds.decline.score,
    edges: card.scoreHistogram.edges,
  };
}

/** What differs on the canary side. */
export interface CanaryChange {
  /** Multiplies every latency (so p99 too). @default 1 */
  readonly latencyFactor?: number;
  /** Added to the baseline's error rate (0.005 = +0.5 percentage points). @default 0 */
  readonly extraErrorRate?: number;
  /** Raises the decline rate of one segment by this relative amount. */
  readonly segmentDecline?: { readonly segment: string; readonly relativeIncrease: number };
  /** Multiplies each score's odds (a new model, miscalibrated). Implies a new model version. */
  readonly oddsFactor?: number;
  /** Serve another model version (card = the sample's own score histogram). @default false */
  readonly newModel?: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly goal: string;
  readonly baselineRps: number;
  readonly canaryRps: number;
  readonly minutes: number;
  readonly change: CanaryChange;
  /**
   * A shadow phase: the baseline version serves `rps` for `minutes` and scores every request
   * with the canary's model as a shadow too; its pairs become the judge's `paired` input.
   */
  readonly shadow?: { readonly rps: number; readonly minutes: number };
  /** Whether a run met the scenario's goal. */
  readonly caught: (outcome: VerdictOutcome) => boolean;
  /** The fraction of runs `caught` must reach (or, for `maxRate` scenarios, stay under). */
  readonly target: { readonly rate: number; readonly atMost?: boolean };
}

/** Baseline error rate: the score function's 5xx rate in a healthy week (assumed, 0.05 %). */
export const BASELINE_ERROR_RATE = 0.0005;

/** mulberry32 (`#domain/random`): small, fast, seedable; plenty for simulation. */
export const rng = mulberry32;

function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function poisson(random: () => number, lambda: number): number {
  if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(random)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

/** In-place quickselect of the k-th smallest of the first `n` values. */
function select(values: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const t = values[i] as number;
        values[i] = values[j] as number;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k] as number;
}

/** Top features the simulator watches, with fixed bins (what the card's `monitoring` would hold). */
export const FEATURE_EDGES: Readonly<Record<string, readonly number[]>> = {
  amount_log: [-1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20],
  card_count_24h: [-2, 0.5, 1.5, 2.5, 3.5, 5.5, 8.5, 1e9],
};

/** Precomputed per-row facts, for the two score variants a run may need. */
export interface PreparedTraffic {
  readonly sample: TrafficSample;
  readonly thresholds: ModelThresholds;
  readonly latency: LatencyProfile;
  readonly scoreBin: Int32Array;
  readonly amountBin: Int32Array;
  readonly countBin: Int32Array;
  /** The sample's own score histogram: the card of a model trained on this population. */
  readonly sampleCounts: readonly number[];
  /** A segment's decline rate in the sample, for choosing the segment scenario. */
  readonly segmentDeclineShare: ReadonlyMap<string, { rate: number; share: number; answers: number }>;
}

export function prepareTraffic(
  sample: TrafficSample = loadTrafficSample(),
  thresholds: ModelThresholds = loadModelThresholds(),
  latency: LatencyProfile = loadLatencyProfile(),
): PreparedTraffic {
  const n = sample.score.length;
  const scoreBin = new Int32Array(n);
  const amountBin = new Int32Array(n);
  const countBin = new Int32Array(n);
  const declines = new Map<string, { answers: number; declines: number }>();
  let allDeclines = 0;
  for (let i = 0; i < n; i++) {
    scoreBin[i] = binIndex(sample.score[i] as number, thresholds.edges);
    amountBin[i] = binIndex(sample.amountLog[i] as number, FEATURE_EDGES.amount_log as number[]);
    countBin[i] = binIndex(sample.cardCount24h[i] as number, FEATURE_EDGES.card_count_24h as number[]);
    const key = sample.segmentKeys[sample.segment[i] as number] as string;
    const entry = declines.get(key) ?? { answers: 0, declines: 0 };
    entry.answers++;
    if ((sample.score[i] as number) >= thresholds.decline) {
      entry.declines++;
      allDeclines++;
    }
    declines.set(key, entry);
  }
  const segmentDeclineShare = new Map(
    [...declines].map(([key, v]) => [
      key,
      { rate: v.declines / v.answers, share: v.declines / Math.max(1, allDeclines), answers: v.answers },
    ]),
  );
  return {
    sample,
    thresholds,
    latency,
    scoreBin,
    amountBin,
    countBin,
    sampleCounts: histogramOf(sample.score, thresholds.edges).counts,
    segmentDeclineShare,
  };
}

/**
 * The segment for "decline +50 % in one segment, aggregate < 5 %": the one with the most
 * declines whose +50 % still moves the aggregate decline rate by less than 5 %.
 */
export function hiddenSegment(
  traffic: PreparedTraffic,
  relativeIncrease = 0.5,
  aggregateLimit = 0.05,
): string {
  const eligible = [...traffic.segmentDeclineShare].filter(
    ([, v]) => v.share * relativeIncrease < aggregateLimit && v.rate > 0,
  );
  eligible.sort((a, b) => b[1].share - a[1].share);
  const first = eligible[0];
  if (!first) throw new Error('no segment has declines');
  return first[0];
}

interface SideSpec {
  readonly rps: number;
  readonly minutes: number;
  readonly functionVersion: string;
  readonly modelVersion: string;
  readonly change: CanaryChange;
}

let latencyBuffer = new Float64Array(1024);

function observe(traffic: PreparedTraffic, side: SideSpec, random: () => number): VersionObservation {
  const { sample, thresholds, latency } = traffic;
  const rows = sample.score.length;
  const change = side.change;
  const latencyFactor = change.latencyFactor ?? 1;
  const errorRate = BASELINE_ERROR_RATE + (change.extraErrorRate ?? 0);
  const odds = change.oddsFactor ?? 1;
  const boost = change.segmentDecline;
  const boostSegment = boost ? sample.segmentKeys.indexOf(boost.segment) : -1;
  const boostRate = boost ? (traffic.segmentDeclineShare.get(boost.segment)?.rate ?? 0) : 0;
  // Declining a further q of the not-yet-declined raises the rate d to d + q (1 − d) = d (1 + r).
  const boostProbability = boost ? (boostRate * boost.relativeIncrease) / (1 - boostRate) : 0;
  const edgesCount = thresholds.edges.length - 1;

  const segments: { answers: number; reviews: number; declines: number }[] = sample.segmentKeys.map(() => ({
    answers: 0,
    reviews: 0,
    declines: 0,
  }));
  const scoreCounts = new Array<number>(edgesCount).fill(0);
  const amountCounts = new Array<number>((FEATURE_EDGES.amount_log as number[]).length - 1).fill(0);
  const countCounts = new Array<number>((FEATURE_EDGES.card_count_24h as number[]).length - 1).fill(0);
  let requests = 0;
  let errors = 0;
  const latencyMinutes: number[] = [];
  const requestsPerMinute: number[] = [];
  for (let minute = 0; minute < side.minutes; minute++) {
    const n = poisson(random, side.rps * 60);
    if (latencyBuffer.length < n) latencyBuffer = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      latencyBuffer[i] = Math.exp(latency.mu + latency.sigma * normal(random)) * latencyFactor;
      if (random() < errorRate) {
        errors++;
        continue;
      }
      const row = Math.floor(random() * rows);
      const seg = sample.segment[row] as number;
      let score = sample.score[row] as number;
      let bin = traffic.scoreBin[row] as number;
      if (odds !== 1) {
        const o = (score / (1 - score)) * odds;
        score = Number.isFinite(o) ? o / (1 + o) : 1;
        bin = binIndex(score, thresholds.edges);
      }
      let decision: 'approve' | 'review' | 'decline' =
        score >= thresholds.decline ? 'decline' : score >= thresholds.review ? 'review' : 'approve';
      if (seg === boostSegment && decision !== 'decline' && random() < boostProbability) decision = 'decline';
      const counts = segments[seg] as { answers: number; reviews: number; declines: number };
      counts.answers++;
      if (decision === 'review') counts.reviews++;
      else if (decision === 'decline') counts.declines++;
      scoreCounts[bin] = (scoreCounts[bin] as number) + 1;
      amountCounts[traffic.amountBin[row] as number] =
        (amountCounts[traffic.amountBin[row] as number] as number) + 1;
      countCounts[traffic.countBin[row] as number] =
        (countCounts[traffic.countBin[row] as number] as number) + 1;
    }
    requests += n;
    requestsPerMinute.push(n);
    latencyMinutes.push(
      n > 0 ? select(latencyBuffer, n, Math.min(n - 1, Math.ceil(0.99 * n) - 1)) : Number.NaN,
    );
  }
  const bySegment: Record<string, DecisionCounts> = {};
  sample.segmentKeys.forEach((key, i) => {
    const counts = segments[i] as DecisionCounts;
    if (counts.answers > 0) bySegment[key] = counts;
  });
  return {
    functionVersion: side.functionVersion,
    modelVersion: side.modelVersion,
    latencyMinutes,
    requestsPerMinute,
    requests,
    errors,
    segments: bySegment,
    scoreCounts,
    featureCounts: { amount_log: amountCounts, card_count_24h: countCounts },
  };
}

/** Decision index as `SegmentDecisionValue` numbers it: 0 approve, 1 review, 2 decline. */
function decisionIndex(score: number, thresholds: ModelThresholds): 0 | 1 | 2 {
  return score >= thresholds.decline ? 2 : score >= thresholds.review ? 1 : 0;
}

const pairFrequencyCache = new WeakMap<PreparedTraffic, Map<number, Float64Array>>();

/**
 * Per segment, the fraction of the sample's rows in each (live, candidate) cell when the
 * candidate multiplies the odds by `odds` (1: the same model), as one flat array
 * `segment × 9 + 3 × live + candidate`.
 */
function pairFrequencies(traffic: PreparedTraffic, odds: number): Float64Array {
  const byOdds = pairFrequencyCache.get(traffic) ?? new Map<number, Float64Array>();
  pairFrequencyCache.set(traffic, byOdds);
  const cached = byOdds.get(odds);
  if (cached) return cached;
  const { sample, thresholds } = traffic;
  const rows = sample.score.length;
  const frequencies = new Float64Array(sample.segmentKeys.length * 9);
  for (let row = 0; row < rows; row++) {
    const score = sample.score[row] as number;
    const o = (score / (1 - score)) * odds;
    const candidate = odds === 1 ? score : Number.isFinite(o) ? o / (1 + o) : 1;
    const cell =
      (sample.segment[row] as number) * 9 +
      3 * decisionIndex(score, thresholds) +
      decisionIndex(candidate, thresholds);
    frequencies[cell] = (frequencies[cell] as number) + 1 / rows;
  }
  byOdds.set(odds, frequencies);
  return frequencies;
}

/**
 * The pairs of a shadow phase. Requests are a Poisson stream and each picks a sample row at
 * random, so every (segment, live, candidate) cell is an independent Poisson count (Poisson
 * splitting): exact, and ~200 draws instead of one per request. A segment decline change
 * thins the candidate's non-declines of that segment into declines, again by splitting.
 */
function observePairs(
  traffic: PreparedTraffic,
  change: CanaryChange,
  shadow: { rps: number; minutes: number },
  candidateVersion: string,
  random: () => number,
): PairedDecisions {
  const { sample } = traffic;
  const frequencies = pairFrequencies(traffic, change.oddsFactor ?? 1);
  const lambda = shadow.rps * 60 * shadow.minutes * (1 - BASELINE_ERROR_RATE);
  const boost = change.segmentDecline;
  const boostSegment = boost ? sample.segmentKeys.indexOf(boost.segment) : -1;
  const boostRate = boost ? (traffic.segmentDeclineShare.get(boost.segment)?.rate ?? 0) : 0;
  const boostProbability = boost ? (boostRate * boost.relativeIncrease) / (1 - boostRate) : 0;
  const segments: Record<string, number[]> = {};
  sample.segmentKeys.forEach((key, seg) => {
    const cells = new Array<number>(9).fill(0);
    for (let cell = 0; cell < 9; cell++) {
      const mean = lambda * (frequencies[seg * 9 + cell] as number);
      if (mean === 0) continue;
      const candidate = cell % 3;
      if (seg === boostSegment && candidate !== 2) {
        const moved = poisson(random, mean * boostProbability);
        cells[cell - candidate + 2] = (cells[cell - candidate + 2] as number) + moved;
        cells[cell] = (cells[cell] as number) + poisson(random, mean * (1 - boostProbability));
      } else {
        cells[cell] = (cells[cell] as number) + poisson(random, mean);
      }
    }
    if (cells.some((n) => n > 0)) segments[key] = cells;
  });
  return { shadow: { model: 'fraud-gbdt', version: candidateVersion }, segments };
}

/** One simulated canary window of `scenario`, as the judge's input. */
export function simulateWindow(traffic: PreparedTraffic, scenario: Scenario, seed: number): JudgeInput {
  const random = rng(seed * 7919 + 17);
  const newModel = scenario.change.newModel === true || scenario.change.oddsFactor !== undefined;
  const baseline = observe(
    traffic,
    {
      rps: scenario.baselineRps,
      minutes: scenario.minutes,
      functionVersion: '41',
      modelVersion: '1.0.0',
      change: {},
    },
    random,
  );
  const canary = observe(
    traffic,
    {
      rps: scenario.canaryRps,
      minutes: scenario.minutes,
      functionVersion: '42',
      modelVersion: newModel ? '1.1.0' : '1.0.0',
      change: scenario.change,
    },
    random,
  );
  // Drawn after both sides, so a scenario's unpaired observations do not depend on its shadow.
  const paired = scenario.shadow
    ? observePairs(traffic, scenario.change, scenario.shadow, canary.modelVersion, random)
    : undefined;
  return {
    baseline,
    canary,
    scoreEdges: traffic.thresholds.edges,
    canaryCard: newModel ? { counts: traffic.sampleCounts } : undefined,
    featureEdges: FEATURE_EDGES,
    ...(paired ? { paired } : {}),
  };
}

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
