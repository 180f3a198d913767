import fc from 'fast-check';
import { histogramFromCounts, histogramOf } from '#domain/stats/histogram';
import { mannWhitneyU, mannWhitneyUFromCounts, median } from '#domain/stats/mann-whitney';
import { benjaminiHochbergAdjust, holmAdjust } from '#domain/stats/multiple-testing';
import { normalPValue, normalSurvival } from '#domain/stats/normal';
import { twoProportionZTest } from '#domain/stats/proportions';
import { histogramPsi, PSI_EPSILON, psi } from '#domain/stats/psi';

// Reference values below come from scipy 1.10.1 (Debian's python3-scipy), whose outputs for
// these functions agree with R's to the printed digits; each case names the exact call.

describe('normalSurvival', () => {
  it.each([
    // scipy.stats.norm.sf(z)
    [0, 0.5],
    [0.5, 0.3085375387259869],
    [1, 0.15865525393145707],
    [1.96, 0.024997895148220435],
    [3, 0.0013498980316300933],
    [5, 2.866515718791933e-7],
    [8, 6.22096057427174e-16],
    [-1.2, 0.8849303297782918],
  ])('P(Z > %p) matches scipy.stats.norm.sf', (z, expected) => {
    // act
    const tail = normalSurvival(z);
    // assert
    expect(Math.abs(tail - expected)).toBeLessThan(1e-13 + expected * 1e-9);
  });

  it('gives p-values in [0, 1] for any statistic and alternative', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.constantFrom('two-sided', 'greater', 'less'), (z, alt) => {
        // act
        const p = normalPValue(z, alt as 'two-sided');
        // assert
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('mannWhitneyU', () => {
  // R's ?wilcox.test example ("greater" alternative): W = 35 (R's exact p = 0.1272).
  // Asymptotic p: scipy.stats.mannwhitneyu(x, y, alternative=..., method='asymptotic').
  const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
  const y = [1.15, 0.88, 0.9, 0.74, 1.21];

  it.each([
    ['greater', 0.12231180256349167],
    ['two-sided', 0.24462360512698333],
    ['less', 0.9007753482039937],
  ] as const)('reproduces R/scipy on the wilcox.test example (%s)', (alternative, expected) => {
    // act
    const result = mannWhitneyU(x, y, { alternative });
    // assert
    expect(result.u).toBe(35);
    expect(result.pValue).toBeCloseTo(expected, 12);
  });

  it('applies the tie correction as scipy does', () => {
    // prepare: many ties; scipy.stats.mannwhitneyu(a, b, method='asymptotic', use_continuity=...)
    const a = [1, 2, 2, 3, 3, 3, 4, 5, 5, 6];
    const b = [3, 4, 4, 5, 6, 6, 7, 7, 8, 9, 9];
    // act
    const twoSided = mannWhitneyU(a, b);
    const less = mannWhitneyU(a, b, { alternative: 'less' });
    const noContinuity = mannWhitneyU(a, b, { continuity: false });
    // assert
    expect(twoSided.u).toBe(15.5);
    expect(twoSided.pValue).toBeCloseTo(0.005625214779700691, 12);
    expect(less.pValue).toBeCloseTo(0.0028126073898503455, 12);
    expect(noContinuity.pValue).toBeCloseTo(0.005041625861312311, 12);
  });

  it('returns p = 1 when every value is tied and refuses non-finite or empty input', () => {
    // act
    const tied = mannWhitneyU([5, 5, 5], [5, 5]);
    // assert
    expect(tied.pValue).toBe(1);
    expect(tied.probabilityGreater).toBe(0.5);
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
    expect(() => mannWhitneyU([1, Number.NaN], [1])).toThrow(RangeError);
    expect(() => mannWhitneyU([1, Number.POSITIVE_INFINITY], [1])).toThrow(RangeError);
  });

  const sample = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 40 });

  it('is symmetric: swapping samples mirrors U, the effect size and the one-sided p-value', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        // act
        const ab = mannWhitneyU(a, b, { alternative: 'greater' });
        const ba = mannWhitneyU(b, a, { alternative: 'less' });
        const two = mannWhitneyU(a, b);
        const twoSwapped = mannWhitneyU(b, a);
        // assert
        expect(ab.u + mannWhitneyU(b, a).u).toBeCloseTo(a.length * b.length, 9);
        expect(ab.pValue).toBeCloseTo(ba.pValue, 12);
        expect(two.pValue).toBeCloseTo(twoSwapped.pValue, 12);
        expect(ab.rankBiserial).toBeCloseTo(-mannWhitneyU(b, a).rankBiserial, 12);
      }),
    );
  });

  it('is invariant under a common shift and a common positive scale (ranks only)', () => {
    fc.assert(
      fc.property(
        sample,
        sample,
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: 1, max: 50 }),
        (a, b, s, k) => {
          // act
          const plain = mannWhitneyU(a, b, { alternative: 'greater' });
          const moved = mannWhitneyU(
            a.map((v) => v * k + s),
            b.map((v) => v * k + s),
            { alternative: 'greater' },
          );
          // assert
          expect(moved.u).toBe(plain.u);
          expect(moved.pValue).toBeCloseTo(plain.pValue, 12);
        },
      ),
    );
  });

  it('keeps p in [0, 1] and U in [0, n1 n2]', () => {
    fc.assert(
      fc.property(sample, sample, fc.constantFrom('two-sided', 'greater', 'less'), (a, b, alternative) => {
        // act
        const r = mannWhitneyU(a, b, { alternative: alternative as 'greater' });
        // assert
        expect(r.pValue).toBeGreaterThanOrEqual(0);
        expect(r.pValue).toBeLessThanOrEqual(1);
        expect(r.u).toBeGreaterThanOrEqual(0);
        expect(r.u).toBeLessThanOrEqual(a.length * b.length);
      }),
    );
  });

  it('gives the same answer from bin counts as from the expanded samples', () => {
    const counts = fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(
        counts.chain((a) =>
          fc.tuple(
            fc.constant(a),
            fc.array(fc.integer({ min: 0, max: 30 }), { minLength: a.length, maxLength: a.length }),
          ),
        ),
        fc.constantFrom('two-sided', 'greater', 'less'),
        ([a, b], alternative) => {
          fc.pre(a.some((v) => v > 0) && b.some((v) => v > 0));
          const expand = (c: number[]) => c.flatMap((k, bin) => new Array<number>(k).fill(bin));
          // act
          const binned = mannWhitneyUFromCounts(a, b, { alternative: alternative as 'less' });
          const raw = mannWhitneyU(expand(a), expand(b), { alternative: alternative as 'less' });
          // assert
          expect(binned.u).toBeCloseTo(raw.u, 9);
          expect(binned.pValue).toBeCloseTo(raw.pValue, 12);
        },
      ),
    );
    expect(() => mannWhitneyUFromCounts([1], [1, 2])).toThrow(RangeError);
    expect(() => mannWhitneyUFromCounts([0, 0], [1, 2])).toThrow(RangeError);
    expect(() => mannWhitneyUFromCounts([0.5, 1], [1, 2])).toThrow(RangeError);
  });

  it('finds a clear shift and takes the median of even and odd samples', () => {
    // prepare
    const base = Array.from({ length: 30 }, (_, i) => 40 + (i % 7));
    const slow = base.map((v) => v * 1.3);
    // act
    const r = mannWhitneyU(slow, base, { alternative: 'greater' });
    // assert
    expect(r.pValue).toBeLessThan(1e-6);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('twoProportionZTest', () => {
  it.each([
    // z² = scipy.stats.chi2_contingency([[x1, n1-x1], [x2, n2-x2]], correction=False)[0]; p = [1]
    [83, 86, 90, 93, 0.009508518748184158, 0.9223200957342685],
    [15, 1000, 30, 1000, 5.115089514066496, 0.023718642632191447],
    [120, 10000, 168, 10000, 8.116883116883116, 0.00438548939209379],
  ])('matches Pearson χ² without correction for %p/%p vs %p/%p', (x1, n1, x2, n2, chi2, p) => {
    // act
    const r = twoProportionZTest({ events: x1, trials: n1 }, { events: x2, trials: n2 });
    // assert
    expect(r.z ** 2).toBeCloseTo(chi2, 10);
    expect(r.pValue).toBeCloseTo(p, 12);
  });

  it('halves the p-value one-sided in the observed direction and reports the rates', () => {
    // act
    const greater = twoProportionZTest({ events: 15, trials: 1000 }, { events: 30, trials: 1000 }, 'greater');
    const less = twoProportionZTest({ events: 15, trials: 1000 }, { events: 30, trials: 1000 }, 'less');
    // assert
    expect(greater.pValue).toBeCloseTo(0.023718642632191447 / 2, 12);
    expect(less.pValue).toBeCloseTo(1 - 0.023718642632191447 / 2, 12);
    expect(greater.relativeChange).toBeCloseTo(1, 12);
    expect(greater.difference).toBeCloseTo(0.015, 12);
  });

  it('gives p = 1 for two empty rates and refuses impossible counts', () => {
    // act
    const none = twoProportionZTest({ events: 0, trials: 10 }, { events: 0, trials: 20 });
    // assert
    expect(none.pValue).toBe(1);
    expect(none.relativeChange).toBe(0);
    expect(() => twoProportionZTest({ events: 3, trials: 2 }, { events: 0, trials: 1 })).toThrow(RangeError);
    expect(() => twoProportionZTest({ events: 0, trials: 0 }, { events: 0, trials: 1 })).toThrow(RangeError);
    expect(() => twoProportionZTest({ events: -1, trials: 5 }, { events: 0, trials: 1 })).toThrow(RangeError);
  });

  it('is antisymmetric under swapping baseline and canary', () => {
    const pair = fc
      .tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 }))
      .chain(([n1, n2]) =>
        fc.tuple(
          fc.integer({ min: 0, max: n1 }),
          fc.constant(n1),
          fc.integer({ min: 0, max: n2 }),
          fc.constant(n2),
        ),
      );
    fc.assert(
      fc.property(pair, ([x1, n1, x2, n2]) => {
        // act
        const ab = twoProportionZTest({ events: x1, trials: n1 }, { events: x2, trials: n2 });
        const ba = twoProportionZTest({ events: x2, trials: n2 }, { events: x1, trials: n1 });
        // assert
        expect(ab.z).toBeCloseTo(-ba.z, 9);
        expect(ab.pValue).toBeCloseTo(ba.pValue, 12);
        expect(ab.pValue).toBeGreaterThanOrEqual(0);
        expect(ab.pValue).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('p-value adjustment', () => {
  it('matches R p.adjust (holm, BH) on hand-checked examples', () => {
    // p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm") = 0.05 0.08 0.09 0.09 0.09; "BH" = 0.05 × 5
    // p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02; "BH" = 0.02 0.04 0.04 0.02
    // act
    const holm = holmAdjust([0.01, 0.02, 0.03, 0.04, 0.05]);
    const holm2 = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    const bh = benjaminiHochbergAdjust([0.01, 0.02, 0.03, 0.04, 0.05]);
    const bh2 = benjaminiHochbergAdjust([0.01, 0.04, 0.03, 0.005]);
    // assert
    [0.05, 0.08, 0.09, 0.09, 0.09].forEach((p, i) => {
      expect(holm[i]).toBeCloseTo(p, 12);
    });
    [0.03, 0.06, 0.06, 0.02].forEach((p, i) => {
      expect(holm2[i]).toBeCloseTo(p, 12);
    });
    bh.forEach((p) => {
      expect(p).toBeCloseTo(0.05, 12);
    });
    [0.02, 0.04, 0.04, 0.02].forEach((p, i) => {
      expect(bh2[i]).toBeCloseTo(p, 12);
    });
  });

  it('never lowers a p-value, stays in [0, 1], keeps the order, and BH ≤ Holm', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }), (ps) => {
        // act
        const holm = holmAdjust(ps);
        const bh = benjaminiHochbergAdjust(ps);
        // assert
        ps.forEach((p, i) => {
          expect(holm[i]).toBeGreaterThanOrEqual(p);
          expect(bh[i]).toBeGreaterThanOrEqual(p - 1e-15);
          expect(holm[i]).toBeLessThanOrEqual(1);
          expect(bh[i]).toBeLessThanOrEqual((holm[i] as number) + 1e-15);
          ps.forEach((q, j) => {
            if (p < q) expect(holm[i]).toBeLessThanOrEqual(holm[j] as number);
          });
        });
      }),
    );
    expect(() => holmAdjust([1.5])).toThrow(RangeError);
  });
});

describe('psi and histograms', () => {
  it('computes PSI as Σ (a − e) ln(a / e), flooring empty bins at epsilon', () => {
    // Hand arithmetic: (0.05 ln 1.5) + (0.05 ln 1.25) + (−0.05 ln(0.25/0.3)) + (−0.05 ln(0.35/0.4))
    // ≈ 0.020273 + 0.011157 + 0.009116 + 0.006677 (numpy: 0.04722308044204256).
    // act
    const small = psi([0.1, 0.2, 0.3, 0.4], [0.15, 0.25, 0.25, 0.35]);
    const emptyBin = psi([0.5, 0.5, 0], [0.4, 0.5, 0.1]);
    // assert
    expect(small).toBeCloseTo(0.04722308044204256, 12);
    // (−0.1) ln(0.4/0.5) + (0.1 − 1e-4) ln(0.1/1e-4) ≈ 0.022314 + 0.690085 (numpy: 0.7123991075017365)
    expect(emptyBin).toBeCloseTo(0.7123991075017365, 10);
    expect(PSI_EPSILON).toBe(1e-4);
  });

  it('is zero on identical inputs, non-negative and symmetric', () => {
    const fractions = fc
      .array(fc.integer({ min: 0, max: 1000 }), { minLength: 2, maxLength: 20 })
      .filter((c) => c.some((v) => v > 0))
      .map((c) => {
        const t = c.reduce((s, v) => s + v, 0);
        return c.map((v) => v / t);
      });
    fc.assert(
      fc.property(fractions, fractions, (e, a) => {
        fc.pre(e.length === a.length);
        // act
        const forward = psi(e, a);
        // assert
        expect(psi(e, e)).toBe(0);
        expect(forward).toBeGreaterThanOrEqual(0);
        expect(forward).toBeCloseTo(psi(a, e), 12);
      }),
    );
  });

  it('builds histograms from counts and values with the card bin convention', () => {
    // act
    const h = histogramOf([0, 0.1, 0.5, 0.99, 1, 1.5, -3], [0, 0.5, 1]);
    const fromCounts = histogramFromCounts([0, 0.5, 1], [3, 4]);
    // assert
    expect(h.counts).toEqual([3, 4]);
    expect(h.total).toBe(7);
    expect(fromCounts.fractions).toEqual([3 / 7, 4 / 7]);
    expect(histogramPsi(h, fromCounts)).toBe(0);
    expect(() => histogramFromCounts([0, 1], [1, 2])).toThrow(RangeError);
    expect(() => histogramFromCounts([1, 0], [1])).toThrow(RangeError);
    expect(() => histogramFromCounts([0, 1], [-1])).toThrow(RangeError);
    expect(() => histogramPsi(h, histogramFromCounts([0, 0.4, 1], [3, 4]))).toThrow(RangeError);
  });
});
