/**
 * The per-answer routines rewritten as plain loops and single strings for speed (reason codes
 * and their perturbation batch in `scoreTransaction`, the `Server-Timing` header) hold to the
 * general routines they replaced, on generated and hostile input: the old code is kept here
 * as the reference.
 */
import fc from 'fast-check';
import { applyEvent, FEATURE_DEFAULTS, FEATURE_NAMES, type FeatureState } from '#domain/features';
import type { ModelRunner } from '#domain/ports';
import { type ScoreOutcome, scoreTransaction } from '#domain/score';
import type { CompanionRun } from '#domain/scorers';
import type { AuthorizationEvent } from '#domain/types';
import { serverTiming } from '../../functions/score/metrics';
import { FakeFeatureStore, scoringDeps, validRequest } from '../support/fakes';

/** The reason codes as `treeScore` computed them before (map, filter, sort, slice). */
function referenceReasons(vector: readonly number[], scores: readonly number[], maxReasons: number) {
  const indices: number[] = [];
  vector.forEach((value, i) => {
    if (value !== FEATURE_DEFAULTS[i]) indices.push(i);
  });
  const score = scores[0] as number;
  return indices
    .map((featureIndex, k) => ({
      code: (FEATURE_NAMES[featureIndex] as string).toUpperCase(),
      feature: FEATURE_NAMES[featureIndex] as string,
      value: vector[featureIndex] as number,
      contribution: score - (scores[k + 1] as number),
    }))
    .filter((r) => r.contribution > 0)
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, maxReasons)
    .map((r) => ({ ...r, contribution: Math.round(r.contribution * 1e6) / 1e6 }));
}

/** The perturbation batch as it was built before (`forEach` over the vector). */
function referenceRows(vector: readonly number[]): number[][] {
  const rows: number[][] = [vector.slice()];
  vector.forEach((value, i) => {
    const fallback = FEATURE_DEFAULTS[i] as number;
    if (value === fallback) return;
    const row = vector.slice();
    row[i] = fallback;
    rows.push(row);
  });
  return rows;
}

/** The `Server-Timing` header as it was built before (arrays, spreads, join). */
function referenceServerTiming(outcome: Parameters<typeof serverTiming>[0]): string {
  const t = outcome.timings;
  const companions = (outcome.signals?.companions ?? []).map((run) => {
    const desc = run.ok ? (run.role === 'shadow' ? 'shadow' : undefined) : run.failure;
    return `${run.name};dur=${run.ms.toFixed(2)}${desc ? `;desc="${desc}"` : ''}`;
  });
  return [
    `features;dur=${t.featuresMs.toFixed(2)}`,
    `inference;dur=${t.inferenceMs.toFixed(2)}`,
    ...companions,
    ...(t.shadowMs > 0 ? [`shadow_wait;dur=${t.shadowMs.toFixed(2)}`] : []),
    ...(outcome.idempotency === 'off' ? [] : [`idempotency;dur=${t.idempotencyMs.toFixed(2)}`]),
    `total;dur=${t.totalMs.toFixed(2)}`,
  ].join(', ');
}

/** A model that answers the scores it is given (the first row's must be finite) and keeps the rows it saw. */
class ScriptedModel implements ModelRunner {
  readonly model = { name: 'scripted', version: '0.0.1' };
  rows: number[][] = [];
  constructor(private readonly scores: readonly number[]) {}
  async score(rows: readonly (readonly number[])[]): Promise<number[]> {
    this.rows = rows.map((row) => row.slice());
    return rows.map((_, i) => this.scores[i % this.scores.length] as number);
  }
}

const NOW = Date.parse(validRequest.timestamp);

/** A card with history (most card features off their defaults) and a merchant, from a few authorizations. */
function stateOf(
  events: readonly Pick<AuthorizationEvent, 'amount' | 'country' | 'merchantId'>[],
): FeatureState {
  return events.reduce<FeatureState>(
    (state, event, i) =>
      applyEvent(state, {
        ...validRequest,
        ...event,
        type: 'authorization',
        eventId: `e-${i}`,
        transactionId: `t-${i}`,
        outcome: 'approved',
        deviceId: i % 2 === 0 ? 'dev-1' : undefined,
        timestamp: new Date(NOW - (i + 1) * 600_000).toISOString(),
      }),
    {},
  );
}

const history = fc.array(
  fc.record({
    amount: fc.integer({ min: 1, max: 1_000_000 }),
    country: fc.constantFrom('DE', 'FR', 'US'),
    merchantId: fc.constantFrom(validRequest.merchantId, 'm_2', 'm_3'),
  }),
  { minLength: 0, maxLength: 12 },
);

/** Scores for the batch: a finite first one, then anything a broken model could return (ties, NaN, ±Infinity, −0). */
const batchScores = fc.tuple(
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.array(
    fc.oneof(
      fc.double({ min: -1, max: 2 }),
      fc.constantFrom(0.5, 0.25, 0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    ),
    { minLength: 1, maxLength: 24 },
  ),
);

describe('scoreTransaction: reason codes against the general routines they replaced', () => {
  it('sends the same perturbation batch and answers the same reasons, in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(
        history,
        batchScores,
        fc.integer({ min: 0, max: 6 }),
        fc.record({
          amount: fc.integer({ min: 1, max: 99_999_999 }),
          channel: fc.constantFrom('card_present', 'ecommerce', 'moto', 'contactless'),
          deviceId: fc.option(fc.constantFrom('dev-1', 'dev-2'), { nil: undefined }),
        }),
        async (events, [first, rest], maxReasons, fields) => {
          // prepare
          const state = stateOf(events);
          const model = new ScriptedModel([first, ...rest]);
          const deps = scoringDeps({
            store: new FakeFeatureStore({ ...state, ageMs: { card: 0, merchant: 0 } }),
            model,
            maxReasons,
          });
          const request = {
            ...validRequest,
            ...fields,
            channel: fields.channel as typeof validRequest.channel,
          };
          // act
          const outcome = await scoreTransaction(deps, request);
          // assert
          const vector = outcome.signals.vector as number[];
          expect(model.rows).toEqual(referenceRows(vector));
          const scores = model.rows.map((_, i) => [first, ...rest][i % (rest.length + 1)] as number);
          const featureReasons = (outcome.response.reasons ?? []).filter((r) => 'feature' in r);
          expect(featureReasons).toEqual(referenceReasons(vector, scores, maxReasons));
        },
      ),
      { numRuns: 300 },
    );
  });
});

const companionRun: fc.Arbitrary<CompanionRun> = fc.record({
  name: fc.constantFrom('neural', 'shadow-tree', 'n;x'),
  role: fc.constantFrom('live', 'shadow'),
  ok: fc.boolean(),
  failure: fc.option(fc.constantFrom('timeout', 'breaker_open', 'error'), { nil: undefined }),
  ms: fc.double({ noNaN: false }),
}) as fc.Arbitrary<CompanionRun>;

describe('serverTiming against the general routine it replaced', () => {
  it('builds the same header for any timings, companions and idempotency outcome', () => {
    fc.assert(
      fc.property(
        fc.record({
          featuresMs: fc.double(),
          inferenceMs: fc.double(),
          shadowMs: fc.oneof(fc.constant(0), fc.double()),
          idempotencyMs: fc.double(),
          totalMs: fc.double(),
        }),
        fc.constantFrom<ScoreOutcome['idempotency']>('stored', 'replayed', 'unavailable', 'off'),
        fc.option(fc.array(companionRun, { maxLength: 4 }), { nil: undefined }),
        (timings, idempotency, companions) => {
          // prepare
          const outcome = { timings, idempotency, signals: companions && { companions } };
          // act
          const header = serverTiming(outcome);
          // assert
          expect(header).toBe(referenceServerTiming(outcome));
        },
      ),
      { numRuns: 500 },
    );
  });
});
