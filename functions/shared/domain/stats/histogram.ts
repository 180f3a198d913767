/**
 * Histograms on fixed bin edges. In AWS the judge gets a bin's count from CloudWatch's
 * trimmed-count statistic on absolute bounds, `TC(lo:hi)`, which counts values v with
 * lo < v ≤ hi; the model card's bins are [lo, hi). The two differ only for a value exactly on
 * an edge, which a float32 score almost never is; {@link binIndex} uses the card's convention
 * for values computed locally.
 */

export interface Histogram {
  /** Ascending bin edges; bin i is [edges[i], edges[i + 1]), the last bin closed. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  readonly total: number;
  /** counts / total; all zero when the histogram is empty. */
  readonly fractions: readonly number[];
}

export function validateEdges(edges: readonly number[]): void {
  if (edges.length < 2) throw new RangeError('a histogram needs at least two edges');
  for (let i = 1; i < edges.length; i++) {
    if (!((edges[i] as number) > (edges[i - 1] as number)))
      throw new RangeError(`histogram edges must be strictly ascending (edge ${i})`);
  }
}

/** A histogram from per-bin counts (e.g. one `TC(lo:hi)` sum per bin over the window). */
export function histogramFromCounts(edges: readonly number[], counts: readonly number[]): Histogram {
  validateEdges(edges);
  if (counts.length !== edges.length - 1)
    throw new RangeError(`${edges.length} edges need ${edges.length - 1} counts, got ${counts.length}`);
  for (const count of counts) {
    if (!(Number.isFinite(count) && count >= 0)) throw new RangeError(`bin counts must be ≥ 0, got ${count}`);
  }
  const total = counts.reduce((sum, count) => sum + count, 0);
  return {
    edges: [...edges],
    counts: [...counts],
    total,
    fractions: counts.map((count) => (total > 0 ? count / total : 0)),
  };
}

/** The bin of `value`, clamping values outside the edges into the first or last bin. */
export function binIndex(value: number, edges: readonly number[]): number {
  const last = edges.length - 2;
  if (!(value >= (edges[0] as number))) return 0;
  if (value >= (edges[last + 1] as number)) return last;
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (value >= (edges[mid] as number)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Counts `values` on `edges` (the local EMF reader and the simulator). */
export function histogramOf(values: Iterable<number>, edges: readonly number[]): Histogram {
  validateEdges(edges);
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const value of values) counts[binIndex(value, edges)] = (counts[binIndex(value, edges)] as number) + 1;
  return histogramFromCounts(edges, counts);
}
