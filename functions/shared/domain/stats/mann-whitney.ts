/**
 * Mann-Whitney U (Wilcoxon rank-sum) with the tie-corrected normal approximation and a
 * continuity correction: the same statistic and p-value as R's `wilcox.test(x, y,
 * exact = FALSE, correct = TRUE)` and scipy's `mannwhitneyu(x, y, method='asymptotic')`.
 *
 * Kayenta compares per-minute canary and baseline series with this test because it needs no
 * distributional assumption: a per-minute p99 series is skewed and bursty. The p-value alone
 * turns any tiny shift significant with enough minutes, so callers pair it with an effect size
 * ({@link MannWhitneyResult.probabilityGreater}, or their own median difference).
 */
import { type Alternative, normalPValue } from './normal';

export interface MannWhitneyResult {
  /** U of the first sample: pairs (x, y) with x > y, plus half the ties. */
  readonly u: number;
  /** The continuity- and tie-corrected normal statistic (0 when every value is tied). */
  readonly z: number;
  /** p-value under `alternative`, in [0, 1]. */
  readonly pValue: number;
  readonly n1: number;
  readonly n2: number;
  /** P(X > Y) + ½ P(X = Y) = U / (n1 n2): the common-language effect size, 0.5 under the null. */
  readonly probabilityGreater: number;
  /** Rank-biserial correlation 2 U / (n1 n2) − 1, in [−1, 1]. */
  readonly rankBiserial: number;
}

export interface MannWhitneyOptions {
  /** `greater`: x tends to be larger than y. @default 'two-sided' */
  readonly alternative?: Alternative;
  /** Subtract ½ from |U − mean| as R and scipy do by default. @default true */
  readonly continuity?: boolean;
}

/**
 * Tests whether `x` and `y` come from the same distribution. Non-finite values are refused:
 * a NaN in a latency series means a missing minute, which the caller must drop, not rank.
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  const alternative = options.alternative ?? 'two-sided';
  const continuity = options.continuity ?? true;
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU needs at least one value in each sample');
  for (const value of [...x, ...y]) {
    if (!Number.isFinite(value)) throw new RangeError(`mannWhitneyU got a non-finite value: ${value}`);
  }
  const pooled = [
    ...x.map((value) => ({ value, first: true })),
    ...y.map((value) => ({ value, first: false })),
  ];
  pooled.sort((a, b) => a.value - b.value);

  // Mid-ranks for ties; Σ(t³ − t) over tie groups feeds the variance correction.
  let rankSumX = 0;
  let tieTerm = 0;
  for (let start = 0; start < pooled.length; ) {
    let end = start;
    while (end + 1 < pooled.length && pooled[end + 1]?.value === pooled[start]?.value) end++;
    const ties = end - start + 1;
    const midRank = (start + end) / 2 + 1;
    for (let i = start; i <= end; i++) if (pooled[i]?.first) rankSumX += midRank;
    tieTerm += ties ** 3 - ties;
    start = end + 1;
  }
  return fromRankSum(rankSumX, tieTerm, n1, n2, alternative, continuity);
}

/** The median of a non-empty sample (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Mann-Whitney U on two samples given as counts on the same ordered bins (every value in a
 * bin tied): identical to {@link mannWhitneyU} on the expanded samples, in O(bins). The judge
 * compares score histograms this way: a model whose odds are off shifts the whole histogram,
 * which a rank test sees long before PSI does.
 */
export function mannWhitneyUFromCounts(
  x: readonly number[],
  y: readonly number[],
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  if (x.length !== y.length) throw new RangeError('mannWhitneyUFromCounts needs counts on the same bins');
  for (const count of [...x, ...y]) {
    if (!(Number.isInteger(count) && count >= 0))
      throw new RangeError(`bin counts must be integers ≥ 0, got ${count}`);
  }
  const n1 = x.reduce((s, v) => s + v, 0);
  const n2 = y.reduce((s, v) => s + v, 0);
  if (n1 === 0 || n2 === 0)
    throw new RangeError('mannWhitneyUFromCounts needs at least one value in each sample');
  const alternative = options.alternative ?? 'two-sided';
  const continuity = options.continuity ?? true;
  let below = 0;
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < x.length; i++) {
    const ties = (x[i] as number) + (y[i] as number);
    if (ties === 0) continue;
    rankSumX += (x[i] as number) * (below + (ties + 1) / 2);
    tieTerm += ties ** 3 - ties;
    below += ties;
  }
  return fromRankSum(rankSumX, tieTerm, n1, n2, alternative, continuity);
}

/**
 * U, its normal approximation with tie correction (and continuity correction when asked) and
 * the effect sizes, from the first sample's rank sum: the raw and the binned test share it.
 */
function fromRankSum(
  rankSumX: number,
  tieTerm: number,
  n1: number,
  n2: number,
  alternative: NonNullable<MannWhitneyOptions['alternative']>,
  continuity: boolean,
): MannWhitneyResult {
  const n = n1 + n2;
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  let z = 0;
  if (variance > 0) {
    const delta = u - mean;
    const correction = !continuity
      ? 0
      : alternative === 'greater'
        ? 0.5
        : alternative === 'less'
          ? -0.5
          : Math.sign(delta) * 0.5;
    z = (delta - correction) / Math.sqrt(variance);
  }
  // All values tied: no evidence either way (R returns NaN; a judge needs a number).
  const pValue = variance > 0 ? normalPValue(z, alternative) : 1;
  const probabilityGreater = u / (n1 * n2);
  return { u, z, pValue, n1, n2, probabilityGreater, rankBiserial: 2 * probabilityGreater - 1 };
}
