import fc from 'fast-check';
import { atThreshold, curves, histogram, logEdges, percentile, thin } from '../../scripts/report/curves';

/** ROC-AUC by its definition: P(score of a positive > score of a negative), ties counting half. */
function bruteAuc(scores: number[], labels: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (!labels[i]) return;
    scores.forEach((n, j) => {
      if (labels[j]) return;
      pairs += 1;
      wins += p > n ? 1 : p === n ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

const scored = fc
  .array(
    fc.tuple(
      fc.integer({ min: 0, max: 20 }).map((k) => k / 20),
      fc.boolean(),
    ),
    { minLength: 2, maxLength: 80 },
  )
  .filter((rows) => rows.some(([, l]) => l) && rows.some(([, l]) => !l));

describe('curves', () => {
  it('gives the ROC-AUC of the pairwise definition, ties included', () => {
    fc.assert(
      fc.property(scored, (rows) => {
        // prepare
        const scores = rows.map(([s]) => s);
        const labels = rows.map(([, l]) => l);
        // act
        const sweep = curves(scores, labels);
        // assert
        expect(sweep.rocAuc).toBeCloseTo(bruteAuc(scores, labels), 10);
      }),
    );
  });

  it('ends at recall 1 and FPR 1, and every point counts what scores at or above its threshold', () => {
    fc.assert(
      fc.property(scored, (rows) => {
        // prepare
        const scores = rows.map(([s]) => s);
        const labels = rows.map(([, l]) => l);
        // act
        const sweep = curves(scores, labels);
        // assert
        const last = sweep.points[sweep.points.length - 1];
        expect(last?.tpr).toBe(1);
        expect(last?.fpr).toBe(1);
        for (const p of sweep.points.slice(1)) {
          expect(p.tp).toBe(rows.filter(([s, l]) => l && s >= p.threshold).length);
          expect(p.fp).toBe(rows.filter(([s, l]) => !l && s >= p.threshold).length);
        }
      }),
    );
  });

  it('is NaN with one class only and leaves NaN scores out', () => {
    // prepare
    const scores = [0.1, Number.NaN, 0.9];
    // act
    const oneClass = curves(scores, [false, true, false]);
    const mixed = curves([0.1, Number.NaN, 0.9], [false, false, true]);
    // assert
    expect(oneClass.rocAuc).toBeNaN();
    expect(oneClass.negatives).toBe(2);
    expect(mixed.rocAuc).toBe(1);
    expect(mixed.prAuc).toBe(1);
  });

  it('finds the operating point of a threshold between sweep points', () => {
    // prepare
    const sweep = curves([0.9, 0.8, 0.3, 0.1], [true, false, true, false]);
    // act
    const point = atThreshold(sweep, 0.5);
    // assert
    expect(point).toMatchObject({ tp: 1, fp: 1, threshold: 0.8 });
  });
});

describe('histogram, thin, percentile, logEdges', () => {
  it('counts every finite value once, clamping outliers into the end bins', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true })), (values) => {
        // prepare
        const edges = [-1, 0, 0.5, 1];
        // act
        const counts = histogram(values, edges);
        // assert
        expect(counts.reduce((a, b) => a + b, 0)).toBe(values.length);
        expect(counts[1]).toBe(values.filter((v) => v >= 0 && v < 0.5).length);
      }),
    );
  });

  it('keeps the ends and at most about max points of a long curve', () => {
    // prepare
    const points = Array.from(
      { length: 10_000 },
      (_, i) => [i / 9999, Math.sqrt(i / 9999)] as [number, number],
    );
    // act
    const kept = thin(points, 200, (p) => p);
    // assert
    expect(kept.length).toBeLessThanOrEqual(201);
    expect(kept.length).toBeGreaterThan(150);
    expect(kept[0]).toEqual(points[0]);
    expect(kept[kept.length - 1]).toEqual(points[points.length - 1]);
  });

  it('takes nearest-rank percentiles and spaces log edges evenly in decades', () => {
    // prepare
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    // act
    const p99 = percentile(values, 0.99);
    const edges = logEdges(0.001, 1, 3);
    // assert
    expect(p99).toBe(99);
    expect(percentile([], 0.5)).toBeNaN();
    edges.forEach((e, i) => {
      expect(e).toBeCloseTo(10 ** (i - 3), 12);
    });
  });
});
