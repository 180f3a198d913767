import { applyEvent, type FeatureState } from '#domain/features';
import { scoreTransaction } from '#domain/score';
import { authorizationEvent } from '../support/events';
import { FakeFeatureStore, FakeModel, scoringDeps, validRequest } from '../support/fakes';

const NOW = Date.parse(validRequest.timestamp);

function history(count: number, merchants: number): FeatureState {
  let state: FeatureState = {};
  for (let i = 0; i < count; i += 1) {
    const event = authorizationEvent({
      eventId: `e${i}`,
      transactionId: `t${i}`,
      cardId: validRequest.cardId,
      merchantId: `m_${i % merchants}`,
      amount: 300,
      timestamp: new Date(NOW - (i + 1) * 60_000).toISOString(),
    });
    state = applyEvent(state, event);
  }
  return state;
}

describe('scoreTransaction', () => {
  it('scores with the stored features and explains the score with the largest contributions', async () => {
    // prepare
    const state = history(8, 8);
    const model = new FakeModel({ card_count_1h: 0.5, card_distinct_merchants_1h: 0.1, amount_log: 0.2 });
    const deps = scoringDeps({
      model,
      store: new FakeFeatureStore({ card: state.card, merchant: undefined, ageMs: { card: 1000 } }),
    });
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.response.degraded).toEqual([]);
    expect(outcome.response.model).toEqual({ name: 'fake', version: '0.0.1' });
    expect(model.calls).toHaveLength(1); // the row and its perturbations in one batch
    const codes = outcome.response.reasons.map((r) => r.code);
    expect(codes[0]).toBe('CARD_TESTING_PATTERN'); // rule reason first
    // weights × distance from default: count 8×0.5, distinct merchants 8×0.1, amount (ln 4600 − ln 2501)×0.2
    expect(codes.slice(1)).toEqual(['CARD_COUNT_1H', 'CARD_DISTINCT_MERCHANTS_1H', 'AMOUNT_LOG']);
    expect(outcome.response.decision).toBe('decline');
    expect(outcome.signals.cardFound).toBe(true);
  });

  it('scores a first-seen card with defaults and no degradation', async () => {
    // act
    const outcome = await scoreTransaction(scoringDeps(), validRequest);
    // assert
    expect(outcome.response.degraded).toEqual([]);
    expect(outcome.response.score).not.toBeNull();
    expect(outcome.signals.cardFound).toBe(false);
  });

  it('degrades to defaults when the feature read fails', async () => {
    // prepare
    const deps = scoringDeps({ store: new FakeFeatureStore(new Error('ECONNREFUSED')) });
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.response.degraded).toEqual(['features_unavailable']);
    expect(outcome.response.score).not.toBeNull();
    expect(outcome.signals.errors).toEqual([{ stage: 'features', message: 'ECONNREFUSED' }]);
  });

  it('degrades to defaults when the feature read exceeds its budget', async () => {
    // prepare
    const deps = scoringDeps({ store: new FakeFeatureStore('hang'), featureTimeoutMs: 30 });
    const started = Date.now();
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.response.degraded).toEqual(['features_unavailable']);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('treats items older than the freshness limit as missing and counts them', async () => {
    // prepare
    const state = history(3, 3);
    const deps = scoringDeps({
      store: new FakeFeatureStore({
        card: state.card,
        merchant: state.merchant,
        ageMs: { card: 7_200_000, merchant: 10 },
      }),
    });
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.signals.cardFound).toBe(false);
    expect(outcome.signals.staleItems).toBe(1);
    expect(outcome.response.degraded).toEqual([]);
  });

  it('answers rules-only when inference throws', async () => {
    // prepare
    const deps = scoringDeps({ model: new FakeModel({}, true) });
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.response).toMatchObject({
      score: null,
      model: null,
      decision: 'review', // the test policy's fallback
      degraded: ['model_unavailable'],
    });
  });

  it('answers rules-only when no model was loaded, and rules still apply', async () => {
    // prepare
    const state = history(8, 8);
    const deps = scoringDeps({
      model: undefined,
      store: new FakeFeatureStore({ card: state.card, ageMs: { card: 1 } }),
    });
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.response).toMatchObject({ decision: 'decline', degraded: ['model_unavailable'] });
  });

  it('reports both degradations together', async () => {
    // prepare
    const deps = scoringDeps({ model: undefined, store: new FakeFeatureStore(new Error('down')) });
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.response.degraded).toEqual(['features_unavailable', 'model_unavailable']);
  });
});
