import { BatchingModelRunner } from '#adapters/batching-model-runner';
import { InMemoryScoringStore } from '#adapters/in-memory-scoring-store';
import type { ModelRunner } from '#domain/ports';
import type { AuthorizationEvent } from '#domain/types';
import { simulate } from '../../models/training/simulator';
import { authorizationEvent, chargebackEvent } from '../support/events';

const auth = (
  id: string,
  timestamp: string,
  overrides: Partial<AuthorizationEvent> = {},
): AuthorizationEvent =>
  authorizationEvent({ eventId: `evt_${id}`, transactionId: id, amount: 1000, timestamp, ...overrides });

describe('InMemoryScoringStore', () => {
  it('folds each event id once and ages items from the history time, not the wall clock', async () => {
    // prepare
    const store = new InMemoryScoringStore({ now: () => Date.parse('2026-09-01T01:00:00Z') });
    const event = auth('tx1', '2026-09-01T00:00:00Z');
    // act
    const first = store.apply(event);
    const again = store.apply(event);
    const lookup = await store.read({ cardId: 'card_1', merchantId: 'm_1' });
    // assert
    expect([first, again]).toEqual([true, false]);
    expect(lookup.card?.total).toEqual([1, 1000]);
    expect(lookup.ageMs).toEqual({ card: 3_600_000, merchant: 3_600_000 });
  });

  it('answers a snapshot with the state of the moment it was taken, whatever is applied later', async () => {
    // prepare
    const store = new InMemoryScoringStore();
    store.apply(auth('tx1', '2026-09-01T00:00:00Z'));
    const snapshot = store.snapshot(
      { cardId: 'card_1', merchantId: 'm_1' },
      Date.parse('2026-09-01T00:10:00Z'),
    );
    // act
    store.apply(auth('tx2', '2026-09-01T00:10:00Z'));
    const seen = await snapshot.read({ cardId: 'card_1', merchantId: 'm_1' });
    const now = store.lookup({ cardId: 'card_1', merchantId: 'm_1' }, Date.parse('2026-09-01T00:10:00Z'));
    // assert
    expect(seen.card?.total).toEqual([1, 1000]);
    expect(seen.ageMs.card).toBe(600_000);
    expect(now.card?.total).toEqual([2, 2000]);
  });

  it('folds in place to the same state as the pure fold, and an in-place snapshot is a copy', async () => {
    // prepare
    const pure = new InMemoryScoringStore();
    const inPlace = new InMemoryScoringStore({ inPlace: true });
    const events = [...simulate({ cards: 60, days: 6, seed: 3, fraudRate: 0.05 })];
    const probe = events.find((e) => e.type === 'authorization') as AuthorizationEvent;
    // act
    let snapshot: ReturnType<InMemoryScoringStore['snapshot']> | undefined;
    let before: unknown;
    events.forEach((event, i) => {
      pure.apply(event);
      inPlace.apply(event);
      if (i === Math.floor(events.length / 2)) {
        snapshot = inPlace.snapshot(probe, Date.parse(event.timestamp));
        before = JSON.stringify(pure.lookup(probe, Date.parse(event.timestamp)));
      }
    });
    // assert
    const end = Date.parse(events[events.length - 1]?.timestamp ?? '');
    for (const e of (events.filter((x) => x.type === 'authorization') as AuthorizationEvent[]).slice(
      0,
      300,
    )) {
      expect(inPlace.lookup(e, end)).toEqual(pure.lookup(e, end));
    }
    const seen = await snapshot?.read(probe);
    expect(JSON.stringify(seen)).toBe(before);
  });

  it('counts a fraud label into the merchant only, and reports missing items as absent', () => {
    // prepare
    const store = new InMemoryScoringStore();
    const label = chargebackEvent({
      eventId: 'lbl_tx1',
      transactionId: 'tx1',
      cardId: 'card_9',
      merchantId: 'm_2',
      timestamp: '2026-09-05T00:00:00Z',
      transactionTimestamp: '2026-09-01T00:00:00Z',
    });
    // act
    store.apply(label);
    const lookup = store.lookup({ cardId: 'card_9', merchantId: 'm_2' }, Date.parse('2026-09-05T00:00:00Z'));
    // assert
    expect(lookup.card).toBeUndefined();
    expect(lookup.ageMs.card).toBeUndefined();
    expect(lookup.merchant?.d1.some((bucket) => bucket[3] === 1)).toBe(true);
  });

  it('stores an answer once per transaction while it lives, like the conditional write', async () => {
    // prepare
    let now = 1_000_000;
    const store = new InMemoryScoringStore({ now: () => now });
    const answer = (hash: string, expiresAt: number) => ({
      requestHash: hash,
      expiresAt,
      response: {
        transactionId: 'tx',
        score: 0.1,
        decision: 'approve' as const,
        reasons: [],
        model: null,
        policyVersion: 'p',
        degraded: [],
      },
    });
    // act
    const first = await store.saveAnswer('tx', answer('a', 2000));
    const second = await store.saveAnswer('tx', answer('b', 2000));
    now = 2_000_001;
    const afterExpiry = await store.saveAnswer('tx', answer('c', 3000));
    // assert
    expect(first).toEqual({ stored: true });
    expect(second).toMatchObject({ stored: false, existing: { requestHash: 'a' } });
    expect(afterExpiry).toEqual({ stored: true });
  });

  it('honours an aborted signal', async () => {
    // prepare
    const store = new InMemoryScoringStore();
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    // act
    const read = store.read({ cardId: 'c', merchantId: 'm' }, controller.signal);
    // assert
    await expect(read).rejects.toThrow('deadline');
  });
});

describe('BatchingModelRunner', () => {
  const sumModel = (calls: number[][][]): ModelRunner => ({
    model: { name: 'sum', version: '1' },
    score: async (rows) => {
      calls.push(rows.map((r) => [...r]));
      return rows.map((r) => r.reduce((a, b) => a + b, 0));
    },
  });

  it('coalesces concurrent calls into one inference and hands each caller its own rows', async () => {
    // prepare
    const calls: number[][][] = [];
    const runner = new BatchingModelRunner(sumModel(calls));
    // act
    const results = await Promise.all([
      runner.score([[1, 2]]),
      runner.score([[3], [4, 5]]),
      runner.score([[10]]),
    ]);
    // assert
    expect(results).toEqual([[3], [3, 9], [10]]);
    expect(calls).toHaveLength(1);
    expect(runner.stats).toEqual({ calls: 1, rows: 4 });
  });

  it('sends early when the row limit is reached', async () => {
    // prepare
    const calls: number[][][] = [];
    const runner = new BatchingModelRunner(sumModel(calls), { maxRows: 2 });
    // act
    const results = await Promise.all([runner.score([[1]]), runner.score([[2]]), runner.score([[3]])]);
    // assert
    expect(results).toEqual([[1], [2], [3]]);
    expect(calls.map((c) => c.length)).toEqual([2, 1]);
  });

  it('fails every caller of a failed batch, and the next batch works again', async () => {
    // prepare
    let fail = true;
    const runner = new BatchingModelRunner({
      model: { name: 'flaky', version: '1' },
      score: async (rows) => {
        if (fail) throw new Error('inference failed');
        return rows.map(() => 0.5);
      },
    });
    // act
    const failed = await Promise.allSettled([runner.score([[1]]), runner.score([[2]])]);
    fail = false;
    const recovered = await runner.score([[3]]);
    // assert
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(recovered).toEqual([0.5]);
  });

  it('rejects a model that returns the wrong number of scores', async () => {
    // prepare
    const runner = new BatchingModelRunner({
      model: { name: 'short', version: '1' },
      score: async () => [0.1],
    });
    // act
    const result = Promise.all([runner.score([[1]]), runner.score([[2]])]);
    // assert
    await expect(result).rejects.toThrow('model returned 1 scores for 2 rows');
  });
});
