/**
 * The canary simulator's model of one canary window: per-minute Poisson request counts for the
 * baseline and the canary, each request drawn from simulated traffic scored by the real model
 * (`data/traffic-sample.jsonl`), latency drawn from the distribution measured on the local stack
 * (`data/latency-profile.json`), and a scenario's change applied to the canary only. Its output
 * is the judge's own input type, so `npm run canary:simulate` and the jest test run the real
 * judge on it (scenarios and their runner: `scenarios.ts`).
 */
import type {
  DecisionCounts,
  JudgeInput,
  PairedDecisions,
  VerdictOutcome,
  VersionObservation,
} from '#domain/judge/types';
import { mulberry32 } from '#domain/random';
import { binIndex, histogramOf } from '#domain/stats/histogram';
import {
  type LatencyProfile,
  loadLatencyProfile,
  loadModelThresholds,
  loadTrafficSample,
  type ModelThresholds,
  type TrafficSample,
} from './traffic-data';

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
