import fc from 'fast-check';
import { FEATURE_NAMES } from '#domain/features';
import { PAIR_CELLS } from '#domain/judge/paired';
import type { Decision } from '#domain/policy';
import type { ScoreOutcome } from '#domain/score';
import type { ShadowResult } from '#domain/scorers';
import { SEGMENT_KEYS } from '#domain/segment';
import { CHANNELS } from '#domain/types';
import { EmfLineWriter } from '#shared/emf-lines';
import { ScoreMetric, shadowSegmentDecisionValue } from '#shared/metrics-contract';
import type { JudgeSignalContext } from '../../functions/score/metrics';
import { DIMENSIONS, type EmfLine, emitScoreMetrics } from '../support/score-metrics';

const DECISIONS: readonly Decision[] = ['approve', 'review', 'decline'];

function shadow(decision: Decision, version = '1.1.0'): ShadowResult {
  return {
    name: 'shadow',
    model: { name: 'fraud-gbdt', version },
    score: 0.5,
    decision,
    agrees: false,
  };
}

function outcome(decision: Decision, shadows: ShadowResult[], cardFound = true): ScoreOutcome {
  return {
    response: {
      transactionId: 'tx-1',
      score: 0.4,
      decision,
      reasons: [],
      model: null,
      policyVersion: 'p1',
      degraded: [],
    },
    idempotency: 'off',
    shadows,
    timings: { featuresMs: 1, inferenceMs: 1, shadowMs: 0.2, idempotencyMs: 0, totalMs: 2 },
    signals: {
      cardFound,
      merchantFound: true,
      staleItems: 0,
      decidedBy: 'threshold',
      errors: [],
      companions: [],
      vector: FEATURE_NAMES.map(() => 1),
    },
  } as unknown as ScoreOutcome;
}

function context(request = { channel: 'ecommerce' as const, amount: 60_000 }): JudgeSignalContext {
  return {
    request,
    dimensions: DIMENSIONS,
    lines: new EmfLineWriter({
      namespace: 'Test',
      defaultDimensions: { service: 'score', stage: 'dev' },
      disabled: false,
    }),
    features: [],
  };
}

const emit = emitScoreMetrics;

const pairsOf = (lines: EmfLine[]) =>
  lines.filter((line) =>
    line._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === ScoreMetric.ShadowSegmentDecision),
  );

describe('ShadowSegmentDecision', () => {
  it('numbers the 9 pair cells 3 × live + shadow, as the judge indexes them', () => {
    // act
    const values = DECISIONS.flatMap((live) => DECISIONS.map((s) => shadowSegmentDecisionValue(live, s)));
    // assert
    expect(values).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(values).toHaveLength(PAIR_CELLS);
  });

  it('publishes one pair per shadow under version + shadow model and version + segment', async () => {
    // prepare: live review, the candidate declines
    const result = outcome('review', [shadow('decline')], false);
    // act
    const lines = await emit(result, context());
    // assert
    const [pair, ...more] = pairsOf(lines);
    expect(more).toHaveLength(0);
    expect(pair?.ShadowSegmentDecision).toBe(3 * 1 + 2);
    expect(pair?.segment).toBe('ecommerce.high.new');
    expect(pair?.shadowModel).toBe('fraud-gbdt');
    expect(pair?.shadowVersion).toBe('1.1.0');
    expect(pair?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', 'stage', 'functionVersion', 'modelVersion', 'shadowModel', 'shadowVersion', 'segment'],
    ]);
  });

  it('publishes no pair without a shadow, nor for a replayed answer', async () => {
    // act
    const none = await emit(outcome('decline', []), context());
    const replay = await emit(
      { ...outcome('decline', [shadow('approve')]), idempotency: 'replayed' },
      context(),
    );
    // assert
    expect(pairsOf(none)).toHaveLength(0);
    expect(pairsOf(replay)).toHaveLength(0);
  });

  it('keeps two shadows apart by their version', async () => {
    // act
    const lines = await emit(
      outcome('approve', [shadow('approve', '1.1.0'), shadow('decline', '2.0.0')]),
      context(),
    );
    // assert
    expect(pairsOf(lines).map((l) => [l.shadowVersion, l.ShadowSegmentDecision])).toEqual([
      ['1.1.0', 0],
      ['2.0.0', 2],
    ]);
  });

  it('writes a value in 0–8 under a known segment for any answer and shadow decision', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CHANNELS),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.boolean(),
        fc.constantFrom(...DECISIONS),
        fc.constantFrom(...DECISIONS),
        async (channel, amount, cardFound, live, candidate) => {
          // act
          const lines = await emit(
            outcome(live, [shadow(candidate)], cardFound),
            context({ channel, amount } as never),
          );
          // assert
          const [pair] = pairsOf(lines);
          expect(SEGMENT_KEYS).toContain(pair?.segment);
          expect(pair?.ShadowSegmentDecision).toBe(
            3 * DECISIONS.indexOf(live) + DECISIONS.indexOf(candidate),
          );
        },
      ),
      { numRuns: 30 },
    );
  });
});
