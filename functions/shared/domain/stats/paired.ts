/**
 * Paired tests for two decisions on the same requests (the live model's and a shadow's). Each
 * request is its own control, so the only information about a difference sits in the
 * discordant pairs: `b` requests where only the live side had the event, `c` where only the
 * candidate had it. Under "no difference" each discordant pair is a fair coin, so the exact
 * McNemar test is the two-sided binomial test of `c` out of `b + c` at ½ (R's
 * `binom.test(c, b + c)`; `mcnemar.test(correct = FALSE)` is its χ² approximation, reported as
 * the statistic). Exact, because the discordant counts of a sparse segment are small.
 */
import { normalSurvival } from './normal';

/** Discordant pair counts of one 2×2 paired table. */
export interface DiscordantPairs {
  /** Pairs where the live side had the event and the candidate did not. */
  readonly liveOnly: number;
  /** Pairs where the candidate had the event and the live side did not. */
  readonly candidateOnly: number;
}

export interface McNemarResult {
  /** `liveOnly + candidateOnly`. */
  readonly discordant: number;
  /** McNemar's χ² without continuity correction, (b − c)² / (b + c); 0 with no discordant pair. */
  readonly chiSquare: number;
  /** Exact two-sided p-value (binomial on the discordant pairs). */
  readonly pValue: number;
  /** The smallest p-value `discordant` pairs can give at all ({@link mcnemarMinimumPValue}). */
  readonly minimumPValue: number;
}

function count(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

const LOG_FACTORIAL_TABLE: readonly number[] = (() => {
  const table = [0];
  for (let i = 1; i < 256; i++) table.push((table[i - 1] as number) + Math.log(i));
  return table;
})();

/** ln(n!): a table below 256, Stirling's series above (error far below 1e-14 there). */
function logFactorial(n: number): number {
  if (n < 256) return LOG_FACTORIAL_TABLE[n] as number;
  const x = n + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  return (
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
  );
}

/**
 * P(X ≤ k) for X ~ Binomial(n, ½). Summed from the largest term P(X = k) (computed in log
 * space, so n in the hundreds of thousands does not underflow it) down the tail, stopping once
 * the terms no longer change the sum: O(√n) terms at most, whatever k is.
 */
export function binomialHalfCdf(k: number, n: number): number {
  count(n, 'n');
  if (!Number.isInteger(k)) throw new RangeError(`k must be an integer, got ${k}`);
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (2 * k > n) return 1 - binomialHalfCdf(n - k - 1, n);
  const logTop = logFactorial(n) - logFactorial(k) - logFactorial(n - k) - n * Math.LN2;
  let term = 1;
  let sum = 1;
  for (let i = k; i > 0; i--) {
    term *= i / (n - i + 1); // P(X = i − 1) / P(X = i)
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, Math.exp(logTop) * sum);
}

/**
 * Exact two-sided binomial test of k successes in n trials at p = ½, as R's `binom.test` and
 * scipy's `binomtest` compute it (for p = ½ the distribution is symmetric, so the two-sided
 * p-value is twice the smaller tail, capped at 1). n = 0 gives 1.
 */
export function binomialHalfTwoSided(k: number, n: number): number {
  count(k, 'k');
  count(n, 'n');
  if (k > n) throw new RangeError(`k must not exceed n, got ${k} > ${n}`);
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialHalfCdf(Math.min(k, n - k), n));
}

/**
 * The smallest two-sided p-value n discordant pairs can reach (all on one side): 2·½ⁿ, capped
 * at 1. A test whose minimum is above its significance level can never fail, so it is left out
 * of the family instead of diluting it (Tarone's idea, see `taroneSelection`).
 */
export function mcnemarMinimumPValue(discordant: number): number {
  count(discordant, 'discordant');
  return Math.min(1, 2 * 0.5 ** discordant);
}

/** The exact McNemar test of one paired 2×2 table. */
export function mcnemarExact(pairs: DiscordantPairs): McNemarResult {
  const b = count(pairs.liveOnly, 'liveOnly');
  const c = count(pairs.candidateOnly, 'candidateOnly');
  const discordant = b + c;
  return {
    discordant,
    chiSquare: discordant > 0 ? (b - c) ** 2 / discordant : 0,
    pValue: binomialHalfTwoSided(c, discordant),
    minimumPValue: mcnemarMinimumPValue(discordant),
  };
}

/**
 * The χ² approximation's p-value (R's `mcnemar.test(correct = FALSE)`), for comparison with
 * the exact one: χ² with one degree of freedom is the square of a standard normal.
 */
export function mcnemarChiSquarePValue(pairs: DiscordantPairs): number {
  const { chiSquare, discordant } = mcnemarExact(pairs);
  return discordant > 0 ? 2 * normalSurvival(Math.sqrt(chiSquare)) : 1;
}
