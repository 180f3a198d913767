/**
 * The numbers behind the charts: ROC and precision–recall curves with their areas, the
 * operating point of a threshold, histograms and percentiles. Scores tie often (calibrated
 * trees give a few thousand distinct values), so every sweep steps over a whole tie at once.
 */

/** One point of the threshold sweep: everything scoring at or above `threshold` is flagged. */
export interface OperatingPoint {
  readonly threshold: number;
  readonly tp: number;
  readonly fp: number;
  /** Recall: tp / positives. */
  readonly tpr: number;
  /** False-positive rate: fp / negatives. */
  readonly fpr: number;
  /** tp / (tp + fp); 1 when nothing is flagged. */
  readonly precision: number;
}

/** The full sweep plus its areas. */
export interface Curves {
  readonly positives: number;
  readonly negatives: number;
  /** One point per distinct score, from the highest threshold down (plus the "flag nothing" start). */
  readonly points: readonly OperatingPoint[];
  /** Area under the ROC curve (trapezoids over ties, so ties count half); NaN with one class only. */
  readonly rocAuc: number;
  /** Average precision (step-wise area under the PR curve); NaN without positives. */
  readonly prAuc: number;
}

function point(
  threshold: number,
  tp: number,
  fp: number,
  positives: number,
  negatives: number,
): OperatingPoint {
  return {
    threshold,
    tp,
    fp,
    tpr: positives === 0 ? 0 : tp / positives,
    fpr: negatives === 0 ? 0 : fp / negatives,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
  };
}

/**
 * Sweeps every threshold over `scores` (NaN scores are left out). `labels[i]` is true for a
 * positive (fraud). O(n log n).
 */
export function curves(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>): Curves {
  const order: number[] = [];
  for (let i = 0; i < scores.length; i += 1) if (!Number.isNaN(scores[i] as number)) order.push(i);
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let positives = 0;
  for (const i of order) if (labels[i]) positives += 1;
  const negatives = order.length - positives;
  const points: OperatingPoint[] = [point(Number.POSITIVE_INFINITY, 0, 0, positives, negatives)];
  let tp = 0;
  let fp = 0;
  let roc = 0;
  let ap = 0;
  for (let k = 0; k < order.length; ) {
    const threshold = scores[order[k] as number] as number;
    const before = { tp, fp };
    while (k < order.length && scores[order[k] as number] === threshold) {
      if (labels[order[k] as number]) tp += 1;
      else fp += 1;
      k += 1;
    }
    const next = point(threshold, tp, fp, positives, negatives);
    const previous = points[points.length - 1] as OperatingPoint;
    roc += ((next.fpr - previous.fpr) * (next.tpr + previous.tpr)) / 2;
    if (positives > 0) ap += ((tp - before.tp) / positives) * next.precision;
    points.push(next);
  }
  return {
    positives,
    negatives,
    points,
    rocAuc: positives === 0 || negatives === 0 ? Number.NaN : roc,
    prAuc: positives === 0 ? Number.NaN : ap,
  };
}

/** The operating point of "flag when score ≥ threshold" (the last sweep point at or above it). */
export function atThreshold(sweep: Curves, threshold: number): OperatingPoint {
  let found = sweep.points[0] as OperatingPoint;
  for (const p of sweep.points) {
    if (p.threshold >= threshold) found = p;
    else break;
  }
  return found;
}

/**
 * At most `max` points of a sweep for drawing, evenly spread along the curve's length in the
 * (x, y) plane, always keeping the first and last: a million-row sweep draws the same.
 */
export function thin<P>(points: readonly P[], max: number, xy: (p: P) => [number, number]): P[] {
  if (points.length <= max) return [...points];
  const lengths = [0];
  for (let i = 1; i < points.length; i += 1) {
    const [x0, y0] = xy(points[i - 1] as P);
    const [x1, y1] = xy(points[i] as P);
    lengths.push((lengths[i - 1] as number) + Math.hypot(x1 - x0, y1 - y0));
  }
  const total = lengths[lengths.length - 1] as number;
  const kept: P[] = [];
  let next = 0;
  points.forEach((p, i) => {
    if (i === 0 || i === points.length - 1 || (lengths[i] as number) >= next) {
      kept.push(p);
      next = (lengths[i] as number) + total / (max - 1);
    }
  });
  return kept;
}

/** Counts per bin `[edges[i], edges[i+1])`; values below the first edge go to the first bin, above the last to the last. */
export function histogram(values: Iterable<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(Math.max(0, edges.length - 1)).fill(0);
  if (counts.length === 0) return counts;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    // Binary search: the last edge ≤ v.
    let lo = 0;
    let hi = counts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((edges[mid] as number) <= v) lo = mid;
      else hi = mid - 1;
    }
    counts[lo] = (counts[lo] as number) + 1;
  }
  return counts;
}

/** `count + 1` edges spaced evenly in log10 between `min` and `max` (both > 0). */
export function logEdges(min: number, max: number, count: number): number[] {
  const a = Math.log10(min);
  const b = Math.log10(max);
  return Array.from({ length: count + 1 }, (_, i) => 10 ** (a + ((b - a) * i) / count));
}

/** The q-quantile (nearest rank) of `values`; NaN when empty. Sorts a copy. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
