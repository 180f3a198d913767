/**
 * The baseline a model card stores for production monitoring (`monitoring` block): which
 * features to watch and their training histograms. Pure functions; training computes them
 * (`models/training/card-monitoring.ts`) and the drift monitor reads the result.
 *
 * Bin convention shared with the drift monitor: the first and last bins are open-ended (a live
 * value below the first edge counts in the first bin, above the last edge in the last), so the
 * outer edges are only the training minimum and maximum. Inner edges sit halfway between two
 * adjacent distinct training values, never on one: CloudWatch's `TC(lo:hi)` counts lo < v ≤ hi
 * while a card's bins are [lo, hi), and the two agree for every value not exactly on an edge —
 * which matters for the many integer-valued features (counts, flags, codes). Binning is
 * `binIndex` of `stats/histogram`, the judge's, so both read a value into the same bin.
 */
import { binIndex } from '../stats/histogram';

/** A feature's training histogram on its own edges. */
export interface FeatureBaseline {
  readonly edges: readonly number[];
  readonly fractions: readonly number[];
}

/**
 * Up to `bins` bins of roughly equal training mass (the input is copied, not sorted in place).
 * Ties make fewer bins (a flag has two); a constant feature has one bin.
 *
 * @throws RangeError for no finite values or bins < 1
 */
export function quantileBaseline(values: ArrayLike<number>, bins = 10): FeatureBaseline {
  if (!(Number.isInteger(bins) && bins >= 1))
    throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const sorted = Float64Array.from(values).filter(Number.isFinite).sort();
  const n = sorted.length;
  if (n === 0) throw new RangeError('a baseline needs at least one finite value');
  const min = sorted[0] as number;
  const max = sorted[n - 1] as number;
  const inner: number[] = [];
  for (let k = 1; k < bins; k++) {
    // Bin k starts at the value at the k-th quantile: cut halfway below it.
    const at = sorted[Math.floor((k * n) / bins)] as number;
    const below = previousBelow(sorted, at);
    if (below === undefined) continue;
    const edge = below + (at - below) / 2;
    // Two adjacent doubles (subnormals, or values one ulp apart) have no number between them:
    // the halfway point rounds onto one of them, so this cut is dropped and the bins merge.
    if (!(edge > below && edge < at)) continue;
    if (inner.length === 0 || edge > (inner[inner.length - 1] as number)) inner.push(edge);
  }
  const edges = max > min ? [min, ...inner, max] : [min, min + 1];
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const value of sorted) counts[binIndex(value, edges)] = (counts[binIndex(value, edges)] as number) + 1;
  return { edges, fractions: counts.map((count) => count / n) };
}

function previousBelow(sorted: Float64Array, value: number): number | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? sorted[lo - 1] : undefined;
}

/**
 * Importance of each feature as serving measures a reason code's contribution: the mean, over
 * sample rows, of |score(row) − score(row with the feature at its default)|. `perturbed[r][i]`
 * is the score of row r with feature i defaulted (equal to `scores[r]` where the row already
 * holds the default).
 */
export function meanAbsoluteContribution(
  scores: readonly number[],
  perturbed: readonly (readonly number[])[],
): number[] {
  if (scores.length === 0 || scores.length !== perturbed.length)
    throw new RangeError('importance needs one perturbed row per score, and at least one');
  const width = (perturbed[0] as readonly number[]).length;
  const sums = new Array<number>(width).fill(0);
  perturbed.forEach((row, r) => {
    if (row.length !== width)
      throw new RangeError(`perturbed row ${r} has ${row.length} values, expected ${width}`);
    row.forEach((score, i) => {
      sums[i] = (sums[i] as number) + Math.abs((scores[r] as number) - score);
    });
  });
  return sums.map((sum) => sum / scores.length);
}

/** The names of the `k` largest importances (ties keep model order), zero importance excluded. */
export function topByImportance(names: readonly string[], importance: readonly number[], k = 5): string[] {
  return names
    .map((name, i) => ({ name, i, value: importance[i] ?? 0 }))
    .filter((f) => f.value > 0)
    .sort((a, b) => b.value - a.value || a.i - b.i)
    .slice(0, k)
    .map((f) => f.name);
}
