import fc from 'fast-check';
import { meanAbsoluteContribution, quantileBaseline, topByImportance } from '#domain/monitoring/baseline';
import { binIndex } from '#domain/stats/histogram';

describe('quantileBaseline', () => {
  it('cuts 1..10 into ten equal-mass bins with edges halfway between values', () => {
    // prepare
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // act
    const baseline = quantileBaseline(values, 10);
    // assert
    expect(baseline.edges).toEqual([1, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10]);
    expect(baseline.fractions).toEqual(new Array(10).fill(0.1));
  });

  it('gives a 0/1 flag two bins split at 0.5 with its real shares', () => {
    // prepare
    const values = [0, 0, 0, 1];
    // act
    const baseline = quantileBaseline(values, 10);
    // assert
    expect(baseline.edges).toEqual([0, 0.5, 1]);
    expect(baseline.fractions).toEqual([0.75, 0.25]);
  });

  it('gives a constant feature one bin and ignores non-finite values', () => {
    // act
    const baseline = quantileBaseline([3, 3, Number.NaN, 3], 5);
    // assert
    expect(baseline.edges).toEqual([3, 4]);
    expect(baseline.fractions).toEqual([1]);
  });

  it('rejects an empty input and a bad bin count', () => {
    // act / assert
    expect(() => quantileBaseline([], 10)).toThrow(RangeError);
    expect(() => quantileBaseline([1], 0)).toThrow(RangeError);
  });

  it('drops a cut between two adjacent doubles, which have no number halfway between them', () => {
    // prepare: fast-check's counterexample; -4e-323 and -3.5e-323 are neighbouring subnormals
    const values = [-3.5e-323, -4e-323, 0];
    // act
    const { edges, fractions } = quantileBaseline(values, 2);
    // assert
    for (let i = 1; i < edges.length; i++) expect(edges[i] as number).toBeGreaterThan(edges[i - 1] as number);
    for (const value of values) expect(edges.slice(1, -1)).not.toContain(value);
    expect(fractions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('for any data: ascending edges, fractions summing to 1, no training value on an inner edge', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.integer({ min: -50, max: 50 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
          {
            minLength: 1,
            maxLength: 300,
          },
        ),
        fc.integer({ min: 1, max: 20 }),
        (values, bins) => {
          // act
          const { edges, fractions } = quantileBaseline(values, bins);
          // assert
          expect(fractions).toHaveLength(edges.length - 1);
          expect(fractions.length).toBeLessThanOrEqual(bins);
          for (let i = 1; i < edges.length; i++)
            expect(edges[i] as number).toBeGreaterThan(edges[i - 1] as number);
          expect(fractions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
          const inner = edges.slice(1, -1);
          for (const value of values) expect(inner).not.toContain(value);
        },
      ),
    );
  });
});

describe('binIndex, the monitoring bin convention', () => {
  it('puts values outside the edges into the outer bins and edge values into the upper bin', () => {
    // prepare
    const edges = [0, 1, 2, 3];
    // act / assert
    expect([-5, 0, 0.99, 1, 2.5, 3, 99].map((v) => binIndex(v, edges))).toEqual([0, 0, 0, 1, 2, 2, 2]);
  });
});

describe('meanAbsoluteContribution and topByImportance', () => {
  it('averages |score − perturbed| per feature and ranks by it', () => {
    // prepare
    const scores = [0.5, 0.2];
    const perturbed = [
      [0.5, 0.1, 0.7],
      [0.2, 0.2, 0.0],
    ];
    // act
    const importance = meanAbsoluteContribution(scores, perturbed);
    const top = topByImportance(['a', 'b', 'c'], importance, 2);
    // assert
    expect(importance[0]).toBe(0);
    expect(importance[1]).toBeCloseTo(0.2, 12);
    expect(importance[2]).toBeCloseTo(0.2, 12);
    expect(top).toEqual(['b', 'c']);
    expect(topByImportance(['a', 'b', 'c'], importance, 5)).toEqual(['b', 'c']);
  });

  it('rejects mismatched inputs', () => {
    // act / assert
    expect(() => meanAbsoluteContribution([], [])).toThrow(RangeError);
    expect(() => meanAbsoluteContribution([1], [[1], [2]])).toThrow(RangeError);
    expect(() => meanAbsoluteContribution([1, 1], [[1], [2, 3]])).toThrow(RangeError);
  });
});
