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
