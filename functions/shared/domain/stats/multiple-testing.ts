/**
 * Multiple-comparison corrections. The judge tests decline and review rates in the aggregate
 * and in every segment with enough data: ~50 tests per run at α = 0.05 would fail an A/A
 * canary most of the time without a correction. Both functions return adjusted p-values in
 * the input order, as R's `p.adjust` does, so a caller compares each with α.
 */

function checked(pValues: readonly number[]): void {
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must lie in [0, 1], got ${p}`);
  }
}

/**
 * Holm–Bonferroni: controls the family-wise error rate (the chance of any false `fail`)
 * under any dependence between the tests; uniformly more powerful than Bonferroni.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  checked(pValues);
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/**
 * Benjamini–Hochberg: controls the false discovery rate instead (more power, more false
 * alarms); offered for monitors that report many slices, not used to roll back.
 */
export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  checked(pValues);
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p);
  const adjusted = new Array<number>(m);
  let running = 1;
  order.forEach(({ p, i }, index) => {
    const rank = m - index;
    running = Math.min(running, (m / rank) * p);
    adjusted[i] = Math.min(1, running);
  });
  return adjusted;
}

/**
 * Tarone's selection for discrete tests (Tarone 1990, "A modified Bonferroni method for
 * discrete data"): a test whose smallest attainable p-value is above the level it would be
 * held to can never reject, yet it would still count in Holm's m and make every other test
 * harder to pass. Returns, per test in input order, whether it belongs in the family: with K
 * the smallest k such that at most k tests can reach α / k, the tests that can reach α / K.
 * The choice depends on the attainable minima only (the discordant counts), not on the
 * p-values, so a correction applied to the chosen tests keeps its error rate.
 */
export function taroneSelection(minimumPValues: readonly number[], alpha: number): boolean[] {
  checked(minimumPValues);
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must lie in (0, 1], got ${alpha}`);
  const m = minimumPValues.length;
  for (let k = 1; k <= m; k++) {
    const level = alpha / k;
    const eligible = minimumPValues.filter((p) => p <= level).length;
    if (eligible <= k) return minimumPValues.map((p) => p <= level);
  }
  return minimumPValues.map(() => false);
}
