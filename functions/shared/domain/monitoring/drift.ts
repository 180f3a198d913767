/**
 * Drift: PSI of live histograms against the model card's baselines — the score histogram
 * (`scoreHistogram`) and each top feature's training histogram (`monitoring.featureHistograms`).
 * Pure: the live bin counts come through {@link HistogramSource}; in AWS each bin is the
 * `TC(lo:hi)` trimmed count of the metric over the window.
 */
import { psi } from '../stats/psi';

/** Usual reading of PSI (Siddiqi 2006): above 0.2 the population has shifted significantly. */
export const PSI_SHIFT = 0.2;

/** One live histogram to read: a score metric's values on fixed edges, over a window. */
export interface HistogramRequest {
  /** `Score` or `FeatureValue`. */
  readonly metric: string;
  readonly modelVersion: string;
  /** The extra dimension of the series (`feature` for `FeatureValue`). */
  readonly extraDimension?: { readonly name: string; readonly value: string };
  /** Bin edges; the outer bins are open-ended. */
  readonly edges: readonly number[];
  readonly start: Date;
  readonly end: Date;
}

/** Port: the live count of each bin (summed over every function version that served the model). */
export interface HistogramSource {
  binCounts(request: HistogramRequest): Promise<number[]>;
}

/**
 * The CloudWatch trimmed-count statistic of each bin. `TC(lo:hi)` counts lo < v ≤ hi; the
 * outer bins are open (`TC(:hi)`, `TC(lo:)`) so nothing outside the edges is lost.
 */
export function trimmedCountStatistics(edges: readonly number[]): string[] {
  if (edges.length < 2) throw new RangeError('a histogram needs at least two edges');
  const last = edges.length - 2;
  return edges.slice(0, -1).map((lo, i) => {
    const from = i === 0 ? '' : String(lo);
    const to = i === last ? '' : String(edges[i + 1]);
    return `TC(${from}:${to})`;
  });
}

/** Counts or fractions → fractions (all zero for an empty histogram). */
export function toFractions(values: readonly number[]): number[] {
  for (const v of values)
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`bin values must be ≥ 0, got ${v}`);
  const total = values.reduce((a, b) => a + b, 0);
  return values.map((v) => (total > 0 ? v / total : 0));
}

/** The drift of one histogram: PSI when the window held enough values. */
export interface DriftFinding {
  /** `score`, or the feature name. */
  readonly subject: string;
  readonly samples: number;
  /** Undefined when `samples` < the minimum: too little data to judge. */
  readonly psi?: number;
  readonly shifted: boolean;
  readonly expected: readonly number[];
  readonly actual: readonly number[];
}

/**
 * PSI of `liveCounts` against the baseline `expected` (fractions or counts). Below
 * `minSamples` live values no PSI is given: an hour of a quiet stage must not page anyone.
 */
export function driftOf(
  subject: string,
  expected: readonly number[],
  liveCounts: readonly number[],
  minSamples: number,
): DriftFinding {
  if (expected.length !== liveCounts.length)
    throw new RangeError(`${subject}: baseline has ${expected.length} bins, live ${liveCounts.length}`);
  const samples = liveCounts.reduce((a, b) => a + b, 0);
  const baseline = toFractions(expected);
  const actual = toFractions(liveCounts);
  if (samples < minSamples) return { subject, samples, shifted: false, expected: baseline, actual };
  const value = psi(baseline, actual);
  return { subject, samples, psi: value, shifted: value > PSI_SHIFT, expected: baseline, actual };
}
