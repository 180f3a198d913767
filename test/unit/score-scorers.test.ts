/**
 * The scorer composition inside scoreTransaction: the neural model live (combined score and
 * the combination's thresholds; tree-only with `neural_unavailable` on any failure), in
 * shadow (called, measured, never changing the answer), a shadow tree model after the
 * decision, and the concurrency of the neural call with the tree inference.
 */
import fc from 'fast-check';
import { NeuralUnavailableError } from '#domain/errors';
import { applyEvent, type FeatureState } from '#domain/features';
import { type Combination, combineScores, type NeuralScorer, neuralCompanion } from '#domain/neural';
import type { ModelRunner } from '#domain/ports';
import { scoreTransaction } from '#domain/score';
import { type CompanionScorer, TREE_ONLY, treeShadow } from '#domain/scorers';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH, type SequenceInput } from '#domain/sequence';
import { serverTiming } from '../../functions/score/metrics';
import { authorizationEvent } from '../support/events';
import { FakeFeatureStore, FakeModel, scoringDeps, validRequest } from '../support/fakes';

const NOW = Date.parse(validRequest.timestamp);

const combination: Combination = {
  method: 'logistic-stacker',
  treeModel: { name: 'fake', version: '0.0.1' },
  intercept: 0.5,
  tree: 0.6,
  neural: 0.7,
  clip: 1e-6,
  thresholds: {
    review: { score: 0.3, fpr: 0.01, recall: 0.9 },
    decline: { score: 0.9, fpr: 0.001, recall: 0.8 },
  },
};
const SEQ_MODEL = { name: 'fraud-seq', version: '9.9.9' };

/** A neural scorer that answers as told, recording what it was sent. */
class FakeNeural implements NeuralScorer {
  inputs: SequenceInput[] = [];
  startedAt: number[] = [];
  constructor(private readonly behaviour: number | NeuralUnavailableError | (() => Promise<number>)) {}
  async score(input: SequenceInput): Promise<number> {
    this.inputs.push(input);
    this.startedAt.push(performance.now());
    if (typeof this.behaviour === 'function') return this.behaviour();
    if (this.behaviour instanceof NeuralUnavailableError) throw this.behaviour;
    return this.behaviour;
  }
}

/** A tree model that records when it ran. */
class TimedModel extends FakeModel {
  startedAt: number[] = [];
  override async score(rows: readonly (readonly number[])[]): Promise<number[]> {
    this.startedAt.push(performance.now());
    return super.score(rows);
  }
}

function historyWithRing(count: number): FeatureState {
  let state: FeatureState = {};
  for (let i = 0; i < count; i += 1) {
    const event = authorizationEvent({
      eventId: `e${i}`,
      transactionId: `t${i}`,
      cardId: validRequest.cardId,
      merchantId: `m_${i}`,
      amount: 300,
      timestamp: new Date(NOW - (i + 1) * 60_000).toISOString(),
    });
    state = applyEvent(state, event);
  }
  return state;
}

const neural = (scorer: NeuralScorer) => neuralCompanion(scorer, SEQ_MODEL, combination);

describe('scoreTransaction with the neural model live', () => {
  it('answers the combined score, decided by the combination thresholds, and sends the card ring', async () => {
    // prepare: a card with 5 authorizations in its ring
    const state = historyWithRing(5);
    const fake = new FakeNeural(0.95);
    const model = new FakeModel();
    const deps = scoringDeps({
      model,
      store: new FakeFeatureStore({ card: state.card, ageMs: { card: 10 } }),
      scorers: { live: neural(fake), shadows: [] },
    });
    const tree = (await model.score([[...(await treeVector(deps))]]))[0] as number;

    // act
    const outcome = await scoreTransaction(deps, validRequest);

    // assert
    const combined = combineScores(combination, tree, 0.95);
    expect(outcome.response.score).toBeCloseTo(combined, 6);
    expect(outcome.response.model).toEqual(SEQ_MODEL);
    expect(outcome.response.degraded).toEqual([]);
    expect(outcome.response.decision).toBe(
      combined >= 0.9 ? 'decline' : combined >= 0.3 ? 'review' : 'approve',
    );
    expect(fake.inputs).toHaveLength(1);
    expect(fake.inputs[0]?.length).toBe(6); // 5 ring steps + the request
    expect(fake.inputs[0]?.data).toHaveLength(SEQUENCE_STEPS * SEQUENCE_WIDTH);
    expect(outcome.signals.companions).toEqual([
      expect.objectContaining({ name: 'neural', role: 'live', ok: true, score: 0.95 }),
    ]);
  });

  const failures = ['timeout', 'breaker_open', 'transport', 'http_status', 'protocol'] as const;
  it.each(failures)('falls back to the tree score and tree thresholds on %s, flagged', async (kind) => {
    // prepare
    const deps = scoringDeps({
      scorers: {
        live: neural(new FakeNeural(new NeuralUnavailableError(kind, `neural ${kind}`))),
        shadows: [],
      },
    });
    const treeOnly = await scoreTransaction(scoringDeps(), validRequest);

    // act
    const outcome = await scoreTransaction(deps, validRequest);

    // assert
    expect(outcome.response.degraded).toEqual(['neural_unavailable']);
    expect(outcome.response.score).toBe(treeOnly.response.score);
    expect(outcome.response.decision).toBe(treeOnly.response.decision);
    expect(outcome.response.model).toEqual({ name: 'fake', version: '0.0.1' });
    expect(outcome.signals.companions[0]).toMatchObject({ ok: false, failure: kind });
    expect(outcome.signals.errors).toEqual([{ stage: 'companion', message: `neural: neural ${kind}` }]);
  });

  it('never lets a hostile neural answer become a decision: anything outside [0, 1] is a fallback', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.double(), fc.constantFrom(Number.NaN, -0.0001, 1.0001, Number.POSITIVE_INFINITY)),
        async (value) => {
          // prepare
          const deps = scoringDeps({ scorers: { live: neural(new FakeNeural(value)), shadows: [] } });
          // act
          const outcome = await scoreTransaction(deps, validRequest);
          // assert
          const score = outcome.response.score as number;
          expect(score >= 0 && score <= 1).toBe(true);
          const valid = value >= 0 && value <= 1;
          expect(outcome.response.degraded).toEqual(valid ? [] : ['neural_unavailable']);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('starts the neural call before the tree inference, so the two overlap', async () => {
    // prepare: the neural call resolves only after the tree has started
    const model = new TimedModel();
    let release!: (v: number) => void;
    const fake = new FakeNeural(() => new Promise<number>((resolve) => (release = resolve)));
    const deps = scoringDeps({ model, scorers: { live: neural(fake), shadows: [] } });

    // act
    const pending = scoreTransaction(deps, validRequest);
    await new Promise((r) => setTimeout(r, 5));
    const treeRanBeforeNeuralAnswered = model.startedAt.length;
    release(0.5);
    const outcome = await pending;

    // assert
    expect(fake.startedAt[0]).toBeLessThanOrEqual(model.startedAt[0] as number);
    expect(treeRanBeforeNeuralAnswered).toBe(1);
    expect(outcome.response.degraded).toEqual([]);
  });

  it('answers rules-only (model_unavailable) when the tree is down: no tree score to combine', async () => {
    // prepare
    const deps = scoringDeps({
      model: new FakeModel({}, true),
      scorers: { live: neural(new FakeNeural(0.99)), shadows: [] },
    });
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.response.score).toBeNull();
    expect(outcome.response.degraded).toEqual(['model_unavailable']);
  });
});

describe('scoreTransaction with shadows', () => {
  it('never changes the answer: a neural shadow is called and measured, the tree decides', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0, max: 1, noNaN: true }), async (shadowScore) => {
        // prepare
        const fake = new FakeNeural(shadowScore);
        const deps = scoringDeps({ scorers: { shadows: [neural(fake)] } });
        const treeOnly = await scoreTransaction(scoringDeps({ scorers: TREE_ONLY }), validRequest);
        // act
        const outcome = await scoreTransaction(deps, validRequest);
        // assert
        expect(outcome.response).toEqual(treeOnly.response);
        expect(fake.inputs).toHaveLength(1);
        expect(outcome.shadows).toHaveLength(1);
        const shadow = outcome.shadows[0];
        expect(shadow?.model).toEqual(SEQ_MODEL);
        expect(shadow?.agrees).toBe(shadow?.decision === outcome.response.decision);
      }),
      { numRuns: 50 },
    );
  });

  it('pairs a shadow tree model with the live decision, using the shadow card thresholds', async () => {
    // prepare: the same fake model, but thresholds that make every score a decline
    const shadowModel: ModelRunner = {
      model: { name: 'fraud-gbdt', version: '2.0.0' },
      score: async (rows) => rows.map(() => 0.5),
    };
    const deps = scoringDeps({
      scorers: { shadows: [treeShadow(shadowModel, { review: 0.1, decline: 0.4 })] },
    });
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.shadows).toEqual([
      {
        name: 'shadow',
        model: { name: 'fraud-gbdt', version: '2.0.0' },
        score: 0.5,
        decision: 'decline',
        agrees: outcome.response.decision === 'decline',
      },
    ]);
    expect(outcome.timings.shadowMs).toBeGreaterThanOrEqual(0);
    expect(outcome.response.model).toEqual({ name: 'fake', version: '0.0.1' });
  });

  it('counts a failing or throwing shadow without touching the answer', async () => {
    // prepare: one shadow rejects, one throws synchronously
    const rejecting: CompanionScorer = {
      ...treeShadow(
        {
          model: { name: 'x', version: '1' },
          score: async () => {
            throw new Error('boom');
          },
        },
        { review: 0, decline: 0 },
      ),
    };
    const throwing: CompanionScorer = {
      ...rejecting,
      name: 'thrower',
      score: () => {
        throw new Error('sync boom');
      },
    };
    const deps = scoringDeps({ scorers: { shadows: [rejecting, throwing] } });
    const treeOnly = await scoreTransaction(scoringDeps(), validRequest);
    // act
    const outcome = await scoreTransaction(deps, validRequest);
    // assert
    expect(outcome.response).toEqual(treeOnly.response);
    expect(outcome.shadows).toEqual([]);
    expect(outcome.signals.companions.map((c) => [c.name, c.ok, c.message])).toEqual([
      ['shadow', false, 'boom'],
      ['thrower', false, 'sync boom'],
    ]);
    expect(outcome.signals.errors).toEqual([]);
  });

  it('reports the neural call and the shadow wait in Server-Timing', async () => {
    // prepare
    const deps = scoringDeps({
      scorers: {
        live: neural(new FakeNeural(new NeuralUnavailableError('timeout', 'slow'))),
        shadows: [treeShadow(new FakeModel(), { review: 0.2, decline: 0.8 })],
      },
    });
    // act
    const header = serverTiming(await scoreTransaction(deps, validRequest));
    // assert
    expect(header).toMatch(/neural;dur=\d+\.\d\d;desc="timeout"/);
    expect(header).toMatch(/shadow;dur=\d+\.\d\d;desc="shadow"/);
    expect(header).toMatch(/, shadow_wait;dur=\d+\.\d\d, /);
  });
});

/** The tree vector scoreTransaction builds for the default request under `deps`. */
async function treeVector(deps: ReturnType<typeof scoringDeps>): Promise<readonly number[]> {
  const recorder = new FakeModel();
  await scoreTransaction({ ...deps, model: recorder, scorers: TREE_ONLY }, validRequest);
  return recorder.calls[0]?.[0] as number[];
}
