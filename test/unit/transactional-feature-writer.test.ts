/**
 * The AWS feature writer against a mocked DynamoDB (dynalite has no TransactWriteItems): the
 * commands it sends, and what it does with each cancellation reason. The mock keeps a small
 * table and evaluates the two condition shapes the writer uses, so redelivery and conflicts
 * behave as DynamoDB documents them.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { createDynamoClients } from '#adapters/dynamo-client';
import { cardFromItem, eventMarkerKey, merchantFromItem } from '#adapters/feature-items';
import { TransactionalFeatureWriter, transactionChunks } from '#adapters/transactional-feature-writer';
import { UpdateConflictError } from '#domain/errors';
import { FeatureReplay } from '#domain/features';
import type { AuthorizationEvent, TransactionEvent } from '#domain/types';
import { authorizationEvent, chargebackEvent } from '../support/events';

const documents = createDynamoClients({ endpoint: 'http://127.0.0.1:9' }).documents;
const ddb = mockClient(DynamoDBDocumentClient);
const NOW = Date.parse('2026-11-20T12:00:00.000Z');

type Item = Record<string, unknown>;
type TransactItem = NonNullable<TransactWriteCommand['input']['TransactItems']>[number];

/** A table that applies transactions all-or-nothing, with DynamoDB's cancellation reasons. */
class FakeTable {
  readonly items = new Map<string, Item>();
  transactions = 0;
  /** Reasons to force on the next transactions (simulating other writers). */
  forced: string[][] = [];
  /** Per transaction: commit and answer, or commit and lose the answer (a timeout after the write). */
  lost: boolean[] = [];

  install(): void {
    ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
      const item = this.items.get(input.Key.pk);
      return { Item: item ? structuredClone(item) : undefined };
    });
    ddb.on(TransactWriteCommand).callsFake((input: { TransactItems: TransactItem[] }) => {
      this.transactions += 1;
      const reasons = this.forced.shift() ?? input.TransactItems.map((action) => this.check(action));
      if (reasons.some((code) => code !== 'None')) {
        throw new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: reasons.map((Code) => ({ Code })),
        });
      }
      for (const action of input.TransactItems) this.write(action);
      if (this.lost.shift()) throw new Error('socket hang up after commit');
      return {};
    });
    ddb.on(PutCommand).callsFake((input: { Item: Item }) => {
      if (!this.items.has(input.Item.pk as string)) this.items.set(input.Item.pk as string, input.Item);
      return {};
    });
  }

  private check(action: TransactItem): string {
    const pk = (action.Put?.Item?.pk ?? action.Update?.Key?.pk) as string;
    const condition = action.Put?.ConditionExpression ?? action.Update?.ConditionExpression;
    const existing = this.items.get(pk);
    if (condition === 'attribute_not_exists(pk)') return existing ? 'ConditionalCheckFailed' : 'None';
    const expected = action.Update?.ExpressionAttributeValues?.[':expected'];
    return existing?.v === expected ? 'None' : 'ConditionalCheckFailed';
  }

  private write(action: TransactItem): void {
    if (action.Put) {
      this.items.set(action.Put.Item?.pk as string, structuredClone(action.Put.Item as Item));
      return;
    }
    const update = action.Update as NonNullable<TransactItem['Update']>;
    const pk = update.Key?.pk as string;
    const next: Item = { ...(this.items.get(pk) ?? { pk }) };
    for (const [placeholder, name] of Object.entries(update.ExpressionAttributeNames ?? {})) {
      next[name] = structuredClone(update.ExpressionAttributeValues?.[`:${placeholder.slice(1)}`]);
    }
    this.items.set(pk, next);
  }
}

let table: FakeTable;
beforeEach(() => {
  ddb.reset();
  table = new FakeTable();
  table.install();
});

let n = 0;
function auth(fields: Partial<AuthorizationEvent> = {}): AuthorizationEvent {
  n += 1;
  return authorizationEvent({
    eventId: `e${n}`,
    transactionId: `t${n}`,
    cardId: 'c',
    merchantId: 'm',
    timestamp: new Date(NOW - 60_000).toISOString(),
    ...fields,
  });
}

const writer = (options = {}) =>
  new TransactionalFeatureWriter(documents, 't', { clock: () => NOW, sleep: async () => {}, ...options });
const cardTotal = (cardId = 'c') => cardFromItem(table.items.get(`card#${cardId}`) ?? {}).total;

describe('TransactionalFeatureWriter', () => {
  it('commits a batch of 25 events on one card and merchant as one transaction: 25 markers, 2 updates', async () => {
    // prepare
    const events = Array.from({ length: 25 }, () => auth());
    // act
    const results = await writer({ dedupeSeconds: 3600 }).applyBatch(events);
    // assert
    expect(
      results.every((r) => r.ok && r.outcome.card === 'applied' && r.outcome.merchant === 'applied'),
    ).toBe(true);
    const [call] = ddb.commandCalls(TransactWriteCommand);
    const actions = call?.args[0].input.TransactItems ?? [];
    expect(actions).toHaveLength(27);
    expect(actions.slice(0, 25).map((a) => a.Put)).toEqual(
      events.map((e) =>
        expect.objectContaining({
          Item: { pk: eventMarkerKey(e.eventId), ttl: NOW / 1000 + 3600, appliedAt: NOW },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    expect(actions.slice(25).map((a) => a.Update?.Key)).toEqual([{ pk: 'card#c' }, { pk: 'merchant#m' }]);
    expect(actions.slice(25).map((a) => a.Update?.ConditionExpression)).toEqual([
      'attribute_not_exists(pk)',
      'attribute_not_exists(pk)',
    ]);
    expect(cardTotal()).toEqual([25, 2500]);
    expect(table.transactions).toBe(1);
  });

  it('writes every list of the card and merchant as compact text, never the list form', async () => {
    // prepare
    const events = [auth(), auth({ deviceId: 'd,1' }), auth({ country: 'FR' })];
    // act
    await writer().applyBatch(events);
    // assert
    const [call] = ddb.commandCalls(TransactWriteCommand);
    const updates = (call?.args[0].input.TransactItems ?? []).flatMap((a) => (a.Update ? [a.Update] : []));
    const lists = ['total', 'countries', 'devices', 'merchants', 'hours', 'recent', 'm5', 'h1', 'd1', 'seq'];
    const written = updates.map((u) =>
      Object.fromEntries(
        Object.entries(u.ExpressionAttributeNames ?? {}).map(([ref, name]) => [
          name,
          u.ExpressionAttributeValues?.[`:${ref.slice(1)}`],
        ]),
      ),
    );
    expect(lists.map((name) => typeof written[0]?.[name])).toEqual(lists.map(() => 'string'));
    expect([typeof written[1]?.h1, typeof written[1]?.d1]).toEqual(['string', 'string']);
    expect(cardTotal()).toEqual([3, 300]);
  });

  it('counts a redelivery once after 10,000 later events on the same merchant', async () => {
    // prepare
    const w = writer();
    const first = auth({ cardId: 'c_first' });
    await w.apply(first);
    for (let i = 0; i < 10_000; i += 10) {
      await w.applyBatch(Array.from({ length: 10 }, () => auth({ cardId: `c_${i % 97}` })));
    }
    // act
    const again = await w.apply(first);
    // assert
    expect(again).toEqual({ card: 'duplicate', merchant: 'duplicate' });
    expect(cardTotal('c_first')).toEqual([1, 100]);
    expect(merchantFromItem(table.items.get('merchant#m') ?? {}).h1.reduce((s, b) => s + b[1], 0)).toBe(
      10_001,
    );
  });

  it('drops the duplicates a cancelled transaction names and commits the rest of the batch', async () => {
    // prepare
    const w = writer();
    const old = auth();
    await w.apply(old);
    const fresh = auth();
    // act
    const results = await w.applyBatch([old, fresh, old]);
    // assert
    expect(results).toEqual([
      { ok: true, outcome: { card: 'duplicate', merchant: 'duplicate' } },
      { ok: true, outcome: { card: 'applied', merchant: 'applied' } },
      { ok: true, outcome: { card: 'duplicate', merchant: 'duplicate' } },
    ]);
    const retried = ddb.commandCalls(TransactWriteCommand).at(-1)?.args[0].input.TransactItems ?? [];
    expect(retried.filter((a) => a.Put).map((a) => a.Put?.Item?.pk)).toEqual([eventMarkerKey(fresh.eventId)]);
    expect(cardTotal()).toEqual([2, 200]);
  });

  it('re-reads and retries when another process moved an item, then succeeds', async () => {
    // prepare: the first attempt loses the version race on the card
    table.forced = [['None', 'ConditionalCheckFailed', 'None']];
    // act
    const outcome = await writer().apply(auth());
    // assert
    expect(outcome).toEqual({ card: 'applied', merchant: 'applied' });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(4);
    expect(table.transactions).toBe(2);
  });

  it('gives up with UpdateConflictError when items keep changing, failing every event of the batch', async () => {
    // prepare
    table.forced = Array.from({ length: 3 }, () => ['None', 'None', 'TransactionConflict', 'None']);
    // act
    const results = await writer({ maxConflictRetries: 3 }).applyBatch([auth(), auth({ cardId: 'c2' })]);
    // assert
    expect(results.map((r) => !r.ok && r.error)).toEqual([
      expect.any(UpdateConflictError),
      expect.any(UpdateConflictError),
    ]);
    expect(table.transactions).toBe(3);
    expect(table.items.size).toBe(0);
  });

  it('fails the batch on a cancellation it cannot resolve (e.g. a validation error)', async () => {
    // prepare
    table.forced = [['None', 'ValidationError', 'None']];
    // act
    const results = await writer().applyBatch([auth()]);
    // assert
    expect(results[0]).toEqual({ ok: false, error: expect.any(TransactionCanceledException) });
    expect(table.transactions).toBe(1);
  });

  it('stores a label on a redelivery too, so a crash after the transaction loses no label', async () => {
    // prepare: the label's transaction committed, then the process died before the label put
    const label = chargebackEvent({
      eventId: 'l1',
      transactionId: 't-lbl',
      cardId: 'c',
      merchantId: 'm',
      timestamp: new Date(NOW).toISOString(),
      transactionTimestamp: new Date(NOW - 86_400_000).toISOString(),
    });
    table.items.set(eventMarkerKey('l1'), { pk: eventMarkerKey('l1') });
    // act
    const outcome = await writer().apply(label);
    // assert
    expect(outcome).toEqual({ card: 'skipped', merchant: 'duplicate' });
    expect(table.items.get('label#t-lbl')).toMatchObject({ label: 'chargeback', eventId: 'l1' });
  });
});

describe('TransactionalFeatureWriter under conflicts, lost answers and redelivery', () => {
  it('ends in the exactly-once state', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            card: fc.constantFrom('a', 'b'),
            merchant: fc.constantFrom('x', 'y'),
            amount: fc.nat(9999),
          }),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        fc.array(fc.boolean(), { maxLength: 20 }),
        fc.array(fc.constantFrom('None', 'TransactionConflict'), { maxLength: 20 }),
        fc.integer({ min: 1, max: 12 }),
        async (drawn, lost, conflicts, batchSize) => {
          // prepare
          run += 1;
          ddb.reset();
          table = new FakeTable();
          table.install();
          table.lost = lost;
          table.forced = conflicts.filter((c) => c !== 'None').map(() => ['TransactionConflict']);
          const events: TransactionEvent[] = drawn.map((d, i) =>
            auth({ eventId: `r${run}-${i}`, cardId: d.card, merchantId: d.merchant, amount: d.amount + 1 }),
          );
          const w = writer({ maxConflictRetries: 3 });
          // act: failed events go back to the queue; every third batch is redelivered once more
          const queue = [...events];
          for (let round = 1; queue.length > 0; round += 1) {
            if (round > 300) throw new Error('events never got through');
            const batch = queue.splice(0, batchSize);
            const results = await w.applyBatch(batch);
            results.forEach((r, i) => {
              if (!r.ok) queue.push(batch[i] as TransactionEvent);
            });
            if (round % 3 === 0 && round < 20) queue.push(...batch);
          }
          // assert
          const reference = new FeatureReplay();
          for (const event of events) reference.add(event);
          for (const c of ['a', 'b']) {
            const expected = reference.cards.get(c);
            const stored = table.items.get(`card#${c}`);
            if (expected) expect(cardFromItem(stored ?? {})).toEqual(expected);
            else expect(stored).toBeUndefined();
          }
          for (const m of ['x', 'y']) {
            const expected = reference.merchants.get(m);
            const stored = table.items.get(`merchant#${m}`);
            if (expected) expect(merchantFromItem(stored ?? {})).toEqual(expected);
            else expect(stored).toBeUndefined();
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('transactionChunks', () => {
  it('keeps markers plus distinct items of each chunk within 100 actions', () => {
    // prepare: 60 cards on one merchant = 60 markers + 61 items
    const events = Array.from({ length: 60 }, (_, i) => auth({ cardId: `card_${i}` }));
    // act
    const chunks = transactionChunks(events);
    // assert: 49 markers + 49 cards + 1 merchant = 99
    expect(chunks.map((c) => c.length)).toEqual([49, 11]);
    expect(chunks.flat()).toEqual(events);
  });
});
