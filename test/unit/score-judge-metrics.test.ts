import fc from 'fast-check';
import { FEATURE_NAMES } from '#domain/features';
import type { ScoreOutcome } from '#domain/score';
import { SEGMENT_KEYS } from '#domain/segment';
import { CHANNELS } from '#domain/types';
import { EmfLineWriter, emfDisabledByEnv } from '#shared/emf-lines';
import { MetricDimension, ScoreMetric } from '#shared/metrics-contract';
import { type JudgeSignalContext, monitoredFeatures } from '../../functions/score/metrics';
import { DIMENSIONS, type EmfLine, emitScoreMetrics } from '../support/score-metrics';

const TOP = ['amount_log', 'card_count_1h'];

function outcome(
  overrides: Partial<ScoreOutcome['signals']> = {},
  decision = 'decline' as const,
): ScoreOutcome {
  return {
    response: {
      transactionId: 'tx-1',
      score: 0.93,
      decision,
      reasons: [],
      model: null,
      policyVersion: 'p1',
      degraded: [],
    },
    idempotency: 'off',
    shadows: [],
    timings: { featuresMs: 1, inferenceMs: 1, shadowMs: 0, idempotencyMs: 0, totalMs: 2 },
    signals: {
      cardFound: true,
      merchantFound: true,
      staleItems: 0,
      decidedBy: 'threshold',
      errors: [],
      companions: [],
      vector: FEATURE_NAMES.map((_, i) => i + 0.5),
      ...overrides,
    },
  } as ScoreOutcome;
}

function context(overrides: Partial<JudgeSignalContext> = {}): JudgeSignalContext {
  return {
    request: { channel: 'ecommerce', amount: 60_000 },
    dimensions: DIMENSIONS,
    lines: new EmfLineWriter({
      namespace: 'Test',
      defaultDimensions: { service: 'score', stage: 'dev' },
      disabled: false,
    }),
    features: monitoredFeatures({
      monitoring: { topFeatures: TOP, featureHistograms: {} },
    }),
    ...overrides,
  };
}

const emit = emitScoreMetrics;

const linesOf = (lines: EmfLine[], metric: string) =>
  lines.filter((line) => line._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === metric));

describe('recordScoreOutcome: the judge signals', () => {
  it('publishes the decision under its segment, one dimension set of version + segment', async () => {
    // prepare
    const result = outcome({ cardFound: false }, 'decline');
    // act
    const lines = await emit(result, context());
    // assert
    const [segment, ...more] = linesOf(lines, ScoreMetric.SegmentDecision);
    expect(more).toHaveLength(0);
    expect(segment?.segment).toBe('ecommerce.high.new');
    expect(segment?.SegmentDecision).toBe(2);
    expect(segment?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', 'stage', 'functionVersion', 'modelVersion', 'segment'],
    ]);
  });

  it('publishes each top feature from the model input under its feature dimension', async () => {
    // prepare
    const result = outcome();
    // act
    const lines = await emit(result, context());
    // assert
    const features = linesOf(lines, ScoreMetric.FeatureValue);
    expect(features.map((line) => [line.feature, line.FeatureValue])).toEqual(
      TOP.map((name) => [name, FEATURE_NAMES.indexOf(name) + 0.5]),
    );
    for (const line of features)
      expect(line._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
        ['service', 'stage', 'functionVersion', 'modelVersion', 'feature'],
      ]);
  });

  it('keeps segment and feature out of the answer document, so its metrics do not multiply', async () => {
    // prepare
    const result = outcome();
    // act
    const lines = await emit(result, context());
    // assert
    const [main] = linesOf(lines, ScoreMetric.LatencyTotal);
    expect(main?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', 'stage', 'functionVersion', 'modelVersion'],
    ]);
    expect(main).not.toHaveProperty(MetricDimension.Segment);
    expect(main).not.toHaveProperty(MetricDimension.Feature);
  });

  it('counts a replayed answer as a replay only, not as a second decision', async () => {
    // prepare
    const result = { ...outcome({ vector: undefined }), idempotency: 'replayed' as const };
    // act
    const lines = await emit(result, context());
    // assert
    expect(linesOf(lines, ScoreMetric.SegmentDecision)).toHaveLength(0);
    expect(linesOf(lines, ScoreMetric.IdempotentReplay)).toHaveLength(1);
  });

  it('publishes no feature values for an answer whose feature read failed (defaults are not traffic)', async () => {
    // prepare
    const result = outcome({ cardFound: false });
    const degraded = {
      ...result,
      response: { ...result.response, degraded: ['features_unavailable' as const] },
    };
    // act
    const lines = await emit(degraded, context());
    // assert
    expect(linesOf(lines, ScoreMetric.FeatureValue)).toHaveLength(0);
    expect(linesOf(lines, ScoreMetric.SegmentDecision)).toHaveLength(1);
  });

  it('skips non-finite feature values and publishes nothing extra without a context', async () => {
    // prepare
    const vector = FEATURE_NAMES.map(() => 1);
    vector[FEATURE_NAMES.indexOf('amount_log')] = Number.NaN;
    // act
    const withNaN = await emit(outcome({ vector }), context());
    const without = await emit(outcome(), undefined);
    // assert
    expect(linesOf(withNaN, ScoreMetric.FeatureValue).map((line) => line.feature)).toEqual(['card_count_1h']);
    expect(linesOf(without, ScoreMetric.SegmentDecision)).toHaveLength(0);
    expect(linesOf(without, ScoreMetric.FeatureValue)).toHaveLength(0);
  });

  it('stays within 24 segment + 5 feature series per version for any traffic', async () => {
    // prepare
    const answers = fc.record({
      channel: fc.constantFrom(...CHANNELS),
      amount: fc.integer({ min: 0, max: 10_000_000 }),
      cardFound: fc.boolean(),
      decision: fc.constantFrom('approve', 'review', 'decline'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(answers, { minLength: 1, maxLength: 40 }), async (batch) => {
        const series = new Set<string>();
        for (const answer of batch) {
          // act
          const lines = await emit(
            outcome({ cardFound: answer.cardFound }, answer.decision as 'decline'),
            context({ request: answer }),
          );
          // assert
          const [segment] = linesOf(lines, ScoreMetric.SegmentDecision);
          expect(SEGMENT_KEYS).toContain(segment?.segment);
          expect(segment?.SegmentDecision).toBe({ approve: 0, review: 1, decline: 2 }[answer.decision]);
          for (const line of lines) series.add(`${line.segment ?? ''}|${line.feature ?? ''}`);
        }
        expect(series.size).toBeLessThanOrEqual(1 + 24 + 5);
      }),
      { numRuns: 25 },
    );
  });
});

describe('EmfLineWriter', () => {
  it('writes every buffered document in one write, each a valid EMF line', () => {
    // prepare
    const writes: string[] = [];
    const writer = new EmfLineWriter({
      namespace: 'NS "quoted"',
      defaultDimensions: { service: 'score', stage: 'dev' },
      disabled: false,
      write: (text) => writes.push(text),
      now: () => 1_700_000_000_000,
    });
    // act
    writer.add({ segment: 'pos.low.new' }, 'SegmentDecision', 'None', 1);
    writer.add({ feature: 'a"b' }, 'FeatureValue', 'None', -2.5);
    writer.flush();
    writer.flush();
    // assert
    expect(writes).toHaveLength(1);
    const lines = (writes[0] as string)
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[1]).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'NS "quoted"',
            Dimensions: [['service', 'stage', 'feature']],
            Metrics: [{ Name: 'FeatureValue', Unit: 'None' }],
          },
        ],
      },
      service: 'score',
      stage: 'dev',
      feature: 'a"b',
      FeatureValue: -2.5,
    });
  });

  it('rejects values CloudWatch would drop and writes nothing when disabled', () => {
    // prepare
    const writes: string[] = [];
    const options = {
      namespace: 'N',
      defaultDimensions: { stage: 'dev' },
      write: (t: string) => writes.push(t),
    };
    const enabled = new EmfLineWriter({ ...options, disabled: false });
    const disabled = new EmfLineWriter({ ...options, disabled: true });
    // act
    disabled.add({ segment: 'x' }, 'M', 'None', 1);
    disabled.flush();
    // assert
    expect(() => enabled.add({ segment: 'x' }, 'M', 'None', Number.NaN)).toThrow(RangeError);
    expect(() => enabled.add({ segment: '' }, 'M', 'None', 1)).toThrow(RangeError);
    expect(() => new EmfLineWriter({ ...options, defaultDimensions: { stage: '' } })).toThrow(RangeError);
    expect(writes).toEqual([]);
  });

  it.each([
    [{}, false],
    [{ POWERTOOLS_DEV: 'true' }, true],
    [{ POWERTOOLS_METRICS_DISABLED: 'true' }, true],
    [{ POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_DEV: 'true' }, false],
  ])('follows Powertools on/off rule for %j', (env, expected) => {
    // act / assert
    expect(emfDisabledByEnv(env)).toBe(expected);
  });
});

describe('monitoredFeatures', () => {
  it('maps the card top features to their input positions, none for an older card', () => {
    // prepare
    const card = { monitoring: { topFeatures: TOP, featureHistograms: {} } };
    // act
    const features = monitoredFeatures(card);
    const none = monitoredFeatures({});
    // assert
    expect(features).toEqual(TOP.map((name) => ({ name, index: FEATURE_NAMES.indexOf(name) })));
    expect(none).toEqual([]);
  });
});
