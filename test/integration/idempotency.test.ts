/**
 * Stored answers on the embedded DynamoDB-compatible server: the answer is read in the same
 * BatchGetItem as the features and stored with one conditional put. Every case runs through
 * both callers of the store: signed HTTP (the default) and the SDK client (`DYNAMODB_CLIENT=sdk`).
 */
import { createScoringCaller, type DynamoCaller, sdkCaller } from '#adapters/dynamo-http';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { IdempotencyConflictError } from '#domain/errors';
import { type ScoringDeps, scoreTransaction } from '#domain/score';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { FakeModel, scoringDeps, validRequest } from '../support/fakes';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

/** The callers under test, and one of each kind whose server is not there (port 9). */
const CALLERS: [string, () => DynamoCaller, () => Promise<DynamoCaller>][] = [
  [
    'signed HTTP',
    () => dynamo.scoringCaller,
    () => createScoringCaller({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }),
  ],
  [
    'SDK client',
    () => sdkCaller(dynamo.scoringClient),
    () => createScoringCaller({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1, kind: 'sdk' }),
  ],
];

describe.each(CALLERS)(
  'idempotent scoring (stored answers on the embedded server), %s',
  (kind, caller, unreachableCaller) => {
    function deps(options: { clock?: () => number; client?: DynamoCaller; model?: FakeModel } = {}) {
      const clock = options.clock ?? Date.now;
      const store = new DynamoScoringStore(options.client ?? caller(), {
        featureTableName: dynamo.featureTable,
        answerTableName: dynamo.idempotencyTable,
        clock,
      });
      const model = options.model ?? new FakeModel({ amount_log: 1 });
      const scoring: ScoringDeps = scoringDeps({
        store,
        model,
        now: clock,
        featureTimeoutMs: 2000,
        idempotency: { timeoutMs: 2000, ttlSeconds: 3600 },
      });
      return { scoring, model };
    }

    it('returns the stored answer for a retried transactionId without scoring again', async () => {
      // prepare
      const { scoring, model } = deps();
      const request = { ...validRequest, transactionId: `${kind}-idem-1` };
      // act
      const first = await scoreTransaction(scoring, request);
      const second = await scoreTransaction(scoring, { ...request });
      // assert
      expect(model.calls).toHaveLength(1);
      expect(second.response).toEqual(first.response);
      expect(first.idempotency).toBe('stored');
      expect(second.idempotency).toBe('replayed');
    });

    it('refuses the same transactionId with a different body with IDEMPOTENCY_MISMATCH', async () => {
      // prepare
      const { scoring } = deps();
      await scoreTransaction(scoring, { ...validRequest, transactionId: `${kind}-idem-2` });
      // act
      const attempt = scoreTransaction(scoring, {
        ...validRequest,
        transactionId: `${kind}-idem-2`,
        amount: 999_999,
      });
      // assert
      await expect(attempt).rejects.toBeInstanceOf(IdempotencyConflictError);
      await expect(
        scoreTransaction(scoring, { ...validRequest, transactionId: `${kind}-idem-2`, amount: 1 }),
      ).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
    });

    it('gives every concurrent duplicate the one stored answer', async () => {
      // prepare: answers that differ per call, so a second stored answer would show
      let calls = 0;
      const { scoring } = deps({ model: new FakeModel() });
      const varying: ScoringDeps = {
        ...scoring,
        model: {
          model: { name: 'varying', version: '1' },
          score: async (rows) => {
            calls += 1;
            return rows.map(() => calls / 100);
          },
        },
      };
      const request = { ...validRequest, transactionId: `${kind}-idem-concurrent` };
      // act
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => scoreTransaction(varying, request)));
      // assert
      const answers = new Set(outcomes.map((o) => JSON.stringify(o.response)));
      expect(answers.size).toBe(1);
      expect(outcomes.filter((o) => o.idempotency === 'stored')).toHaveLength(1);
      const retry = await scoreTransaction(varying, request);
      expect(JSON.stringify(retry.response)).toBe([...answers][0]);
    });

    it('scores again once the stored answer has expired, even before TTL deletion', async () => {
      // prepare
      let now = Date.parse('2026-11-23T10:00:00Z');
      const { scoring, model } = deps({ clock: () => now });
      const request = { ...validRequest, transactionId: `${kind}-idem-expiry` };
      await scoreTransaction(scoring, request);
      // act: one second after the one-hour TTL
      now += 3601_000;
      const later = await scoreTransaction(scoring, request);
      // assert
      expect(later.idempotency).toBe('stored');
      expect(model.calls).toHaveLength(2);
    });

    it('still scores when the store is unreachable, flagged and unstored', async () => {
      // prepare
      const unreachable = await unreachableCaller();
      const { scoring, model } = deps({ client: unreachable });
      // act
      const outcome = await scoreTransaction(scoring, { ...validRequest, transactionId: `${kind}-idem-3` });
      // assert
      expect(outcome.response.transactionId).toBe(`${kind}-idem-3`);
      expect(outcome.response.degraded).toEqual(['features_unavailable']);
      expect(outcome.idempotency).toBe('unavailable');
      expect(model.calls).toHaveLength(1);
      unreachable.destroy();
    });
  },
);
