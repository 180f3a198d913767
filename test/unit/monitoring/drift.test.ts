import fc from 'fast-check';
import { driftOf, PSI_SHIFT, toFractions, trimmedCountStatistics } from '#domain/monitoring/drift';

describe('trimmedCountStatistics', () => {
  it('gives one TC per bin with open outer bins', () => {
    // act
    const stats = trimmedCountStatistics([0, 0.1, 0.5, 1]);
    // assert
    expect(stats).toEqual(['TC(:0.1)', 'TC(0.1:0.5)', 'TC(0.5:)']);
  });

  it('rejects fewer than two edges', () => {
    // act / assert
    expect(() => trimmedCountStatistics([1])).toThrow(RangeError);
  });
});

describe('driftOf', () => {
  it('matches a hand-computed PSI', () => {
    // prepare: expected 50/50, actual 70/30 →
    // (0.7−0.5)·ln(0.7/0.5) + (0.3−0.5)·ln(0.3/0.5) = 0.2·0.336472 + 0.2·0.510826 = 0.169460
    const expected = [0.5, 0.5];
    const live = [700, 300];
    // act
    const finding = driftOf('score', expected, live, 100);
    // assert
    expect(finding.psi).toBeCloseTo(0.16946, 5);
    expect(finding.shifted).toBe(false);
    expect(finding.samples).toBe(1000);
  });

  it('flags a shift above 0.2 and reads counts and fractions alike', () => {
    // prepare: 50/50 → 80/20: 0.3·ln(1.6) + 0.3·ln(2.5) = 0.3·0.470004 + 0.3·0.916291 = 0.415888
    // act
    const finding = driftOf('amount_log', [50, 50], [800, 200], 100);
    // assert
    expect(finding.psi).toBeCloseTo(0.415888, 5);
    expect(finding.shifted).toBe(true);
    expect(PSI_SHIFT).toBe(0.2);
  });

  it('gives no PSI below the minimum sample, and never a shift', () => {
    // act
    const finding = driftOf('score', [0.5, 0.5], [9, 0], 10);
    // assert
    expect(finding.psi).toBeUndefined();
    expect(finding.shifted).toBe(false);
  });

  it('rejects mismatched bins and negative counts', () => {
    // act / assert
    expect(() => driftOf('score', [0.5, 0.5], [1, 2, 3], 1)).toThrow(RangeError);
    expect(() => toFractions([1, -1])).toThrow(RangeError);
  });

  it('is zero for a live histogram proportional to the baseline, positive otherwise', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 2, maxLength: 20 }),
        fc.integer({ min: 1, max: 50 }),
        (counts, scale) => {
          // act
          const same = driftOf(
            's',
            counts,
            counts.map((c) => c * scale),
            1,
          );
          const moved = driftOf('s', counts, [...counts.slice(1), counts[0] as number], 1);
          // assert
          expect(same.psi).toBeCloseTo(0, 10);
          expect(moved.psi).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});
