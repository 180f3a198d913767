/** The pieces both feature writers share: the per-key lock, in-batch duplicates, versioned updates. */
import { firstOccurrences, KeyedLock, spreadResults, versionedUpdate } from '#adapters/feature-writer';
import type { TransactionEvent } from '#domain/types';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('KeyedLock', () => {
  it('runs work on the same key one at a time, in arrival order, and different keys in parallel', async () => {
    // prepare
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (name: string, keys: string[]) =>
      lock.run(keys, async () => {
        log.push(`${name}+`);
        await tick();
        log.push(`${name}-`);
      });
    // act
    await Promise.all([job('a', ['card#1']), job('b', ['card#1', 'merchant#1']), job('c', ['card#2'])]);
    // assert: b waits for a; c does not wait for anyone
    expect(log.indexOf('b+')).toBeGreaterThan(log.indexOf('a-'));
    expect(log.indexOf('c+')).toBeLessThan(log.indexOf('a-'));
  });

  it('cannot deadlock on overlapping key sets taken in opposite orders, and releases after a failure', async () => {
    // prepare
    const lock = new KeyedLock();
    const runs = Array.from({ length: 20 }, (_, i) =>
      lock.run(i % 2 === 0 ? ['x', 'y'] : ['y', 'x'], async () => {
        await tick();
        if (i === 3) throw new Error('boom');
        return i;
      }),
    );
    // act
    const settled = await Promise.allSettled(runs);
    // assert
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(19);
    expect(await lock.run(['x'], async () => 'free')).toBe('free');
  });
});

describe('in-batch duplicates', () => {
  it('applies the first occurrence and reports the repeats as duplicates of it', () => {
    // prepare
    const e = (id: string) => ({ type: 'authorization', eventId: id }) as TransactionEvent;
    const events = [e('a'), e('b'), e('a')];
    // act
    const { unique, canonical } = firstOccurrences(events);
    const results = spreadResults(events, canonical, () => ({
      ok: true,
      outcome: { card: 'applied', merchant: 'applied' },
    }));
    // assert
    expect(unique.map((u) => u.eventId)).toEqual(['a', 'b']);
    expect(results.map((r) => r.ok && r.outcome.card)).toEqual(['applied', 'applied', 'duplicate']);
  });
});

describe('versionedUpdate', () => {
  it('creates an absent item, or moves an existing one from its version to the next', () => {
    expect(versionedUpdate({ total: [1, 2] }, 0)).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      ExpressionAttributeValues: { ':total': [1, 2], ':v': 1 },
    });
    expect(versionedUpdate({ total: [1, 2], gone: undefined }, 7)).toEqual({
      UpdateExpression: 'SET #total = :total, #v = :v',
      ConditionExpression: '#v = :expected',
      ExpressionAttributeNames: { '#total': 'total', '#v': 'v' },
      ExpressionAttributeValues: { ':total': [1, 2], ':v': 8, ':expected': 7 },
    });
  });
});
