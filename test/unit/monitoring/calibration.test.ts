import fc from 'fast-check';
import { calibrationReport, equalMassCalibration, joinLabels, ratesAt } from '#domain/monitoring/calibration';

const a = (score: number, fraud: boolean, segment = 'pos.low.known') => ({ score, fraud, segment });

describe('equalMassCalibration', () => {
  it('matches a hand-computed ECE on two bins of equal mass', () => {
    // prepare: bin 1 = {0.1, 0.2, 0.3} with 0 frauds: |0.2 − 0| = 0.2;
    //          bin 2 = {0.7, 0.8, 0.9} with 2 frauds: |0.8 − 2/3| = 0.133333; ECE = 0.5·0.2 + 0.5·0.133333
    const answers = [a(0.3, false), a(0.1, false), a(0.2, false), a(0.9, true), a(0.8, true), a(0.7, false)];
    // act
    const { ece, curve } = equalMassCalibration(answers, 2);
    // assert
    expect(ece).toBeCloseTo(0.166667, 6);
    expect(curve).toEqual([
      { count: 3, meanScore: expect.closeTo(0.2, 12), fraudRate: 0 },
      { count: 3, meanScore: expect.closeTo(0.8, 12), fraudRate: expect.closeTo(2 / 3, 12) },
    ]);
  });

  it('gives the first n mod bins bins one extra answer', () => {
    // act
    const { curve } = equalMassCalibration(
      [a(0.1, false), a(0.2, false), a(0.3, true), a(0.4, true), a(0.5, true)],
      2,
    );
    // assert
    expect(curve.map((bin) => bin.count)).toEqual([3, 2]);
  });

  it('is zero for perfectly calibrated bins and rejects empty input', () => {
    // prepare: each bin's mean score equals its fraud rate (0 and 1)
    const answers = [a(0, false), a(0, false), a(1, true), a(1, true)];
    // act / assert
    expect(equalMassCalibration(answers, 2).ece).toBe(0);
    expect(() => equalMassCalibration([], 10)).toThrow(RangeError);
    expect(() => equalMassCalibration(answers, 0)).toThrow(RangeError);
  });

  it('for any answers: ECE in [0, 1], bin counts add up, curve sorted by score', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ score: fc.double({ min: 0, max: 1, noNaN: true }), fraud: fc.boolean() }), {
          minLength: 1,
          maxLength: 200,
        }),
        fc.integer({ min: 1, max: 30 }),
        (answers, bins) => {
          // act
          const { ece, curve } = equalMassCalibration(answers, bins);
          // assert
          expect(ece).toBeGreaterThanOrEqual(0);
          expect(ece).toBeLessThanOrEqual(1);
          expect(curve.reduce((sum, bin) => sum + bin.count, 0)).toBe(answers.length);
          for (let i = 1; i < curve.length; i++)
            expect((curve[i] as { meanScore: number }).meanScore).toBeGreaterThanOrEqual(
              (curve[i - 1] as { meanScore: number }).meanScore,
            );
        },
      ),
    );
  });
});

describe('ratesAt', () => {
  it('computes recall and precision of score ≥ threshold', () => {
    // prepare: frauds 0.9 (hit), 0.4 (miss); legit 0.8 (false alarm), 0.1
    const answers = [a(0.9, true), a(0.4, true), a(0.8, false), a(0.1, false)];
    // act
    const rates = ratesAt(answers, 0.5);
    // assert
    expect(rates).toEqual({ threshold: 0.5, flagged: 2, frauds: 2, recall: 0.5, precision: 0.5 });
  });

  it('leaves recall and precision undefined when nothing is fraud or flagged', () => {
    // act
    const rates = ratesAt([a(0.1, false)], 0.5);
    // assert
    expect(rates.recall).toBeUndefined();
    expect(rates.precision).toBeUndefined();
  });
});

describe('joinLabels and calibrationReport', () => {
  it('joins by transactionId: fraud labels only, rules-only and other models left out, a retry once', () => {
    // prepare
    const answers = [
      { transactionId: 't1', eventTime: '', modelVersion: '1.0.0', score: 0.9, segment: 's1' },
      { transactionId: 't1', eventTime: '', modelVersion: '1.0.0', score: 0.9, segment: 's1' },
      { transactionId: 't2', eventTime: '', modelVersion: '1.0.0', score: 0.2, segment: 's2' },
      { transactionId: 't3', eventTime: '', modelVersion: '1.0.0', score: null, segment: 's2' },
      { transactionId: 't4', eventTime: '', modelVersion: '0.9.0', score: 0.5, segment: 's2' },
      { transactionId: 't5', eventTime: '', modelVersion: '1.0.0', score: 0.6, segment: 's2' },
    ];
    const labels = [
      { transactionId: 't1', label: 'chargeback' },
      { transactionId: 't5', label: 'confirmed_legitimate' },
      { transactionId: 't9', label: 'confirmed_fraud' },
    ];
    // act
    const joined = joinLabels(answers, labels, '1.0.0');
    // assert
    expect(joined).toEqual([
      { score: 0.9, fraud: true, segment: 's1' },
      { score: 0.2, fraud: false, segment: 's2' },
      { score: 0.6, fraud: false, segment: 's2' },
    ]);
  });

  it('reports overall and only the segments with enough answers', () => {
    // prepare
    const answers = [a(0.9, true, 'big'), a(0.1, false, 'big'), a(0.2, false, 'big'), a(0.95, true, 'small')];
    // act
    const report = calibrationReport(answers, {
      thresholds: { review: 0.5, decline: 0.9 },
      bins: 2,
      minAnswersPerSegment: 3,
    });
    // assert
    expect(report.overall).toMatchObject({ population: 'all', answers: 4, frauds: 2 });
    expect(report.overall?.decline).toMatchObject({ recall: 1, precision: 1 });
    expect(report.segments.map((s) => s.population)).toEqual(['big']);
    expect(
      calibrationReport([], { thresholds: { review: 0.5, decline: 0.9 }, bins: 2, minAnswersPerSegment: 1 }),
    ).toEqual({
      segments: [],
    });
  });
});
