import fc from 'fast-check';
import { holmAdjust, taroneSelection } from '#domain/stats/multiple-testing';
import {
  binomialHalfCdf,
  binomialHalfTwoSided,
  mcnemarChiSquarePValue,
  mcnemarExact,
  mcnemarMinimumPValue,
} from '#domain/stats/paired';

// Reference values: scipy 1.10.1 `scipy.stats.binomtest(k, n, 0.5).pvalue` (identical to R's
// `binom.test(k, n)`), and `(b - c)**2 / (b + c)` with `scipy.stats.chi2.sf(x, 1)` for R's
// `mcnemar.test(matrix(c(a, c, b, d), 2), correct = FALSE)`.

describe('binomialHalfTwoSided', () => {
  it.each([
    [0, 1, 1],
    [0, 8, 0.0078125],
    [1, 9, 0.0390625],
    [3, 12, 0.14599609375],
    [10, 12, 0.03857421875],
    [5, 10, 1],
    [15, 50, 0.006600447966810918],
    [40, 100, 0.05688793364098088],
    [480, 1000, 0.2174482932041409],
    [4500, 10000, 1.5510640568246638e-23],
    [1, 30, 5.774199962615967e-8],
    [0, 60, 1.734723475976807e-18],
  ])('binom.test(%p, %p) = %p', (k, n, expected) => {
    // act
    const p = binomialHalfTwoSided(k, n);
    // assert
    expect(Math.abs(p - expected)).toBeLessThanOrEqual(expected * 1e-9 + 1e-300);
  });

  it('does not underflow at prod volume: 0 of 200,000 is a tiny but positive tail and ½ is 1', () => {
    // act
    const allOneSide = binomialHalfCdf(100, 200_000);
    const even = binomialHalfTwoSided(100_000, 200_000);
    // assert
    expect(allOneSide).toBe(0); // e^(-138,000): below double range, honestly 0
    expect(even).toBe(1);
    expect(binomialHalfTwoSided(99_000, 200_000)).toBeGreaterThan(0);
    expect(binomialHalfTwoSided(99_000, 200_000)).toBeLessThan(1e-5);
  });

  it('refuses counts that are not counts', () => {
    // act / assert
    expect(() => binomialHalfTwoSided(-1, 3)).toThrow(RangeError);
    expect(() => binomialHalfTwoSided(4, 3)).toThrow(RangeError);
    expect(() => binomialHalfTwoSided(1.5, 3)).toThrow(RangeError);
    expect(() => binomialHalfTwoSided(1, Number.NaN)).toThrow(RangeError);
  });

  it('is a p-value, symmetric in k ↔ n − k, and never below the attainable minimum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 }), (a, b) => {
        // prepare
        const [k, n] = a <= b ? [a, b] : [b, a];
        // act
        const p = binomialHalfTwoSided(k, n);
        // assert
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(binomialHalfTwoSided(n - k, n)).toBeCloseTo(p, 12);
        expect(p).toBeGreaterThanOrEqual(mcnemarMinimumPValue(n) * (1 - 1e-12));
      }),
    );
  });

  it('grows as k moves towards n / 2', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 2000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, at) => {
        // prepare
        const k = Math.floor(at * Math.floor(n / 2 - 1));
        // act / assert
        expect(binomialHalfTwoSided(k + 1, n)).toBeGreaterThanOrEqual(binomialHalfTwoSided(k, n));
      }),
    );
  });
});

describe('mcnemarExact', () => {
  it.each([
    [3, 9, 3, 0.08326451666355042],
    [10, 2, 5.333333333333333, 0.020921335337794035],
    [25, 5, 13.333333333333334, 0.0002607296328553165],
    [480, 520, 1.6, 0.20590321073206466],
  ])('b = %p, c = %p: χ² %p as mcnemar.test(correct = FALSE), p %p', (b, c, chi, p) => {
    // act
    const r = mcnemarExact({ liveOnly: b, candidateOnly: c });
    // assert
    expect(r.discordant).toBe(b + c);
    expect(r.chiSquare).toBeCloseTo(chi, 12);
    expect(mcnemarChiSquarePValue({ liveOnly: b, candidateOnly: c })).toBeCloseTo(p, 12);
    expect(r.pValue).toBeCloseTo(binomialHalfTwoSided(c, b + c), 15);
  });

  it('sees no difference without discordant pairs', () => {
    // act
    const r = mcnemarExact({ liveOnly: 0, candidateOnly: 0 });
    // assert
    expect(r).toEqual({ discordant: 0, chiSquare: 0, pValue: 1, minimumPValue: 1 });
  });

  it('is exact where the χ² approximation is not: 8 discordant pairs on one side', () => {
    // act
    const r = mcnemarExact({ liveOnly: 0, candidateOnly: 8 });
    // assert: binom.test(8, 8) = 0.0078125; the χ² p (0.0047) overstates the evidence
    expect(r.pValue).toBeCloseTo(0.0078125, 15);
    expect(r.minimumPValue).toBe(0.0078125);
    expect(mcnemarChiSquarePValue({ liveOnly: 0, candidateOnly: 8 })).toBeLessThan(r.pValue);
  });
});

describe('taroneSelection', () => {
  it('keeps the tests that can reach α / K with K the smallest count that fits', () => {
    // prepare: k = 1 admits 2 tests (> 1); k = 2 admits the same 2 (≤ 2)
    const minima = [0.001, 0.004, 0.02, 1];
    // act
    const chosen = taroneSelection(minima, 0.01);
    // assert
    expect(chosen).toEqual([true, true, false, false]);
  });

  it('keeps nothing when no test can reach α, and everything when all can reach α / m', () => {
    // act / assert
    expect(taroneSelection([0.5, 1, 0.02], 0.01)).toEqual([false, false, false]);
    expect(taroneSelection([1e-6, 1e-5, 1e-4], 0.01)).toEqual([true, true, true]);
    expect(taroneSelection([], 0.01)).toEqual([]);
  });

  it('chooses K tests at most, each able to reach α / K, and never drops a test Bonferroni over all could reject', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }),
        fc.double({ min: 1e-4, max: 0.2, noNaN: true }),
        (minima, alpha) => {
          // act
          const chosen = taroneSelection(minima, alpha);
          // assert
          const k = chosen.filter(Boolean).length;
          const level = alpha / Math.max(1, k);
          minima.forEach((p, i) => {
            if (chosen[i]) expect(p).toBeLessThanOrEqual(alpha);
            if (p <= alpha / Math.max(1, minima.length)) expect(chosen[i]).toBe(true);
          });
          if (k > 0) expect(minima.filter((p, i) => chosen[i] && p <= level * k).length).toBe(k);
          // Holm over the chosen tests stays a p-value adjustment
          expect(holmAdjust(minima.filter((_, i) => chosen[i])).every((p) => p <= 1)).toBe(true);
        },
      ),
    );
  });

  it('refuses a level outside (0, 1]', () => {
    // act / assert
    expect(() => taroneSelection([0.1], 0)).toThrow(RangeError);
    expect(() => taroneSelection([0.1], 1.5)).toThrow(RangeError);
  });
});
