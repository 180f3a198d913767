/**
 * Population stability index: Σ (a − e) · ln(a / e) over bins, with e the expected
 * (baseline or model-card) fraction and a the actual one. Usual reading (Siddiqi, "Credit Risk
 * Scorecards", 2006): < 0.1 stable, 0.1–0.2 some shift, > 0.2 a significant shift.
 *
 * An empty bin makes ln(a / e) infinite; both fractions are floored at
 * {@link PSI_EPSILON} (the floor most PSI implementations use, e.g. Evidently's 0.0001)
 * before the sum, without renormalising, so one empty bin adds a bounded, visible term.
 */
import type { Histogram } from './histogram';

/** Floor of a bin's fraction in the PSI sum. */
export const PSI_EPSILON = 1e-4;

export function psi(expected: readonly number[], actual: readonly number[], epsilon = PSI_EPSILON): number {
  if (expected.length !== actual.length || expected.length === 0)
    throw new RangeError(
      `psi needs two fraction vectors of one length, got ${expected.length} and ${actual.length}`,
    );
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] as number, epsilon);
    const a = Math.max(actual[i] as number, epsilon);
    if (!Number.isFinite(e) || !Number.isFinite(a) || e > 1 || a > 1)
      throw new RangeError(`psi fractions must lie in [0, 1] (bin ${i})`);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** PSI of two histograms on the same edges. */
export function histogramPsi(expected: Histogram, actual: Histogram, epsilon = PSI_EPSILON): number {
  if (
    expected.edges.length !== actual.edges.length ||
    expected.edges.some((edge, i) => edge !== actual.edges[i])
  )
    throw new RangeError('psi: histograms must share their bin edges');
  return psi(expected.fractions, actual.fractions, epsilon);
}
