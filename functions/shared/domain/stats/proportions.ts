/**
 * The two-proportion z-test with a pooled variance: z² equals Pearson's χ² of the 2×2 table
 * without continuity correction (R's `prop.test(..., correct = FALSE)`, scipy's
 * `chi2_contingency(..., correction=False)`), and it is one-sided when the judge only cares
 * about one direction (more errors, more declines).
 */
import { type Alternative, normalPValue } from './normal';

/** Events out of trials: errors out of requests, declines out of answers. */
export interface Proportion {
  readonly events: number;
  readonly trials: number;
}

export interface TwoProportionResult {
  /** (canary rate − baseline rate) / pooled standard error; 0 when the pooled rate is 0 or 1. */
  readonly z: number;
  readonly pValue: number;
  readonly baselineRate: number;
  readonly canaryRate: number;
  /** canary rate − baseline rate. */
  readonly difference: number;
  /** canary rate / baseline rate − 1; `Infinity` when the baseline rate is 0 and the canary's is not. */
  readonly relativeChange: number;
}

function rate(p: Proportion, name: string): number {
  const { events, trials } = p;
  if (!Number.isFinite(events) || !Number.isFinite(trials) || events < 0 || trials <= 0 || events > trials)
    throw new RangeError(`${name}: need 0 ≤ events ≤ trials and trials > 0, got ${events}/${trials}`);
  return events / trials;
}

/**
 * Tests canary against baseline; `greater` asks whether the canary's rate is higher.
 * Identical all-zero (or all-one) samples give z = 0 and p = 1: nothing to tell apart.
 */
export function twoProportionZTest(
  baseline: Proportion,
  canary: Proportion,
  alternative: Alternative = 'two-sided',
): TwoProportionResult {
  const baselineRate = rate(baseline, 'baseline');
  const canaryRate = rate(canary, 'canary');
  const pooled = (baseline.events + canary.events) / (baseline.trials + canary.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / baseline.trials + 1 / canary.trials));
  const difference = canaryRate - baselineRate;
  const z = se > 0 ? difference / se : 0;
  const relativeChange =
    baselineRate > 0 ? canaryRate / baselineRate - 1 : canaryRate > 0 ? Number.POSITIVE_INFINITY : 0;
  return {
    z,
    pValue: se > 0 ? normalPValue(z, alternative) : 1,
    baselineRate,
    canaryRate,
    difference,
    relativeChange,
  };
}
