/**
 * The standard normal distribution's tail, for the normal approximations of the judge's tests.
 * Hart's double-precision rational approximation as given by West, "Better approximations to
 * cumulative normal functions" (Wilmott, 2005): absolute error below 1e-14 over the real line,
 * far below any p-value a decision depends on. No `erf` in the JavaScript standard library.
 */

/** P(Z > z) for a standard normal Z; exact 0/1 limits far in the tails. */
export function normalSurvival(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const x = Math.abs(z);
  let tail: number;
  if (x > 37) {
    tail = 0;
  } else {
    const e = Math.exp((-x * x) / 2);
    if (x < 7.07106781186547) {
      let num = 3.52624965998911e-2 * x + 0.700383064443688;
      num = num * x + 6.37396220353165;
      num = num * x + 33.912866078383;
      num = num * x + 112.079291497871;
      num = num * x + 221.213596169931;
      num = num * x + 220.206867912376;
      let den = 8.83883476483184e-2 * x + 1.75566716318264;
      den = den * x + 16.064177579207;
      den = den * x + 86.7807322029461;
      den = den * x + 296.564248779674;
      den = den * x + 637.333633378831;
      den = den * x + 793.826512519948;
      den = den * x + 440.413735824752;
      tail = (e * num) / den;
    } else {
      let b = x + 0.65;
      b = x + 4 / b;
      b = x + 3 / b;
      b = x + 2 / b;
      b = x + 1 / b;
      tail = e / b / 2.506628274631;
    }
  }
  return z > 0 ? tail : 1 - tail;
}

/** Which side of the null a one-sample statistic is tested on. */
export type Alternative = 'two-sided' | 'greater' | 'less';

/** The p-value of a standard-normal statistic under `alternative`, clamped to [0, 1]. */
export function normalPValue(z: number, alternative: Alternative): number {
  const p =
    alternative === 'greater'
      ? normalSurvival(z)
      : alternative === 'less'
        ? normalSurvival(-z)
        : 2 * normalSurvival(Math.abs(z));
  return Math.min(1, Math.max(0, p));
}
