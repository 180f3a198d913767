/**
 * Exactly-once of the non-transactional feature writer against real dynalite: redelivery
 * long after the first delivery, a crash between the aggregate write and the marker write,
 * concurrent redelivery from two processes, and a property test that injects faults into
 * every kind of request and redelivers until everything is through.
 */
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { appliedMarkerKey, cardFromItem, merchantFromItem } from '#adapters/feature-items';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import { FeatureReplay } from '#domain/features';
import type { AuthorizationEvent, LabelEvent, TransactionEvent } from '#domain/types';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { authorizationEvent } from '../support/events';

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

let n = 0;
function auth(
  cardId: string,
  merchantId: string,
  fields: Partial<AuthorizationEvent> = {},
): AuthorizationEvent {
  n += 1;
  return authorizationEvent({
    eventId: `evt-${n}`,
    transactionId: `tx-${n}`,
    cardId,
    merchantId,
    timestamp: new Date(T0 - (n % 5000) * 1000).toISOString(),
    ...fields,
  });
}

async function item(pk: string) {
  const { Item } = await dynamo.documents.send(
    new GetCommand({ TableName: dynamo.featureTable, Key: { pk }, ConsistentRead: true }),
  );
  return Item;
}

/** A client that fails chosen requests, before or after DynamoDB has executed them. */
function faulty(
  real: DynamoDBClient,
  decide: (command: object) => 'ok' | 'before' | 'after',
): DynamoDBClient {
  const send = async (command: object) => {
    const fault = decide(command);
    if (fault === 'before') throw new Error(`injected: ${command.constructor.name} not sent`);
    const result = await real.send(command as never);
    if (fault === 'after') throw new Error(`injected: ${command.constructor.name} sent, answer lost`);
    return result;
  };
  return new Proxy(real, { get: (target, prop) => (prop === 'send' ? send : Reflect.get(target, prop)) });
}

describe('MarkerFeatureWriter exactly once', () => {
  it('counts a redelivered event once after 10,000 later events on the same merchant', async () => {
    // prepare: the event, then 10,000 more on its merchant (5,000 of them on its card), in
    // batches of 50 to keep the test short (the batch size does not matter to the markers)
    const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable);
    const first = auth('card_10k', 'm_10k');
    expect(await writer.apply(first)).toEqual({ card: 'applied', merchant: 'applied' });
    for (let i = 0; i < 10_000; i += 50) {
      const batch = Array.from({ length: 50 }, (_, j) =>
        auth(j % 2 === 0 ? 'card_10k' : 'card_10k_b', 'm_10k'),
      );
      const results = await writer.applyBatch(batch);
      expect(results.every((r) => r.ok)).toBe(true);
    }
    // act
    const again = await writer.apply(first);
    // assert
    expect(again).toEqual({ card: 'duplicate', merchant: 'duplicate' });
    expect(cardFromItem((await item('card#card_10k')) ?? {}).total[0]).toBe(5001);
    expect(merchantFromItem((await item('merchant#m_10k')) ?? {}).h1.reduce((s, b) => s + b[1], 0)).toBe(
      10_001,
    );
  }, 180_000);

  it('recovers from a crash between the aggregate write and the marker write', async () => {
    // prepare: the process "dies" right after the update (marker batch never sent)
    let crash = true;
    const client = faulty(dynamo.client, (command) =>
      crash && command instanceof BatchWriteItemCommand ? 'before' : 'ok',
    );
    const crashing = new MarkerFeatureWriter(client, dynamo.featureTable);
    const event = auth('card_crash', 'm_crash');
    await expect(crashing.apply(event)).rejects.toThrow(/injected/);
    crash = false;
    expect((await item('card#card_crash'))?.pending).toEqual([[event.eventId, expect.any(Number)]]);
    expect(await item(appliedMarkerKey('card#card_crash', event.eventId))).toBeUndefined();
    const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable);
    // act: a redelivery finds the id in the item; a later event moves it into a marker; a second redelivery finds the marker
    const redelivered = await writer.apply(event);
    await writer.apply(auth('card_crash', 'm_crash'));
    const again = await writer.apply(event);
    // assert
    expect(redelivered).toEqual({ card: 'duplicate', merchant: 'duplicate' });
    expect(again).toEqual({ card: 'duplicate', merchant: 'duplicate' });
    expect(await item(appliedMarkerKey('card#card_crash', event.eventId))).toBeDefined();
    expect(cardFromItem((await item('card#card_crash')) ?? {}).total[0]).toBe(2);
  });

  it('applies an event once when two processes receive it at the same time', async () => {
    // prepare: two writers = two locks, as two Lambda instances would have; one calls through the
    // SDK client, the other through the signed HTTP caller the local updater uses
    const a = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable, { maxConflictRetries: 10 });
    const b = new MarkerFeatureWriter(dynamo.scoringCaller, dynamo.featureTable, { maxConflictRetries: 10 });
    const events = Array.from({ length: 6 }, () => auth('card_race2', 'm_race2'));
    // act
    const outcomes = await Promise.all(events.flatMap((e) => [a.apply(e), b.apply(e)]));
    // assert
    const applied = outcomes.filter((o) => o.card === 'applied').length;
    expect(applied).toBe(6);
    expect(cardFromItem((await item('card#card_race2')) ?? {}).total[0]).toBe(6);
  });

  it('applies a batch of 25 events on one card and merchant with one write per item', async () => {
    // prepare
    const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable);
    const events = Array.from({ length: 25 }, () => auth('card_25', 'm_25'));
    // act
    const results = await writer.applyBatch(events);
    // assert
    expect(results.filter((r) => r.ok && r.outcome.card === 'applied')).toHaveLength(25);
    const card = await item('card#card_25');
    expect(card?.v).toBe(1);
    expect(cardFromItem(card ?? {}).total).toEqual([25, 2500]);
    expect((await item('merchant#m_25'))?.v).toBe(1);
  });

  it('applies a batch over ten cards with one read of the items, one of the markers, one write of the markers', async () => {
    // prepare: ten cards on two merchants; every request counted by operation
    const sent: string[] = [];
    const client = faulty(dynamo.client, (command) => {
      sent.push(command.constructor.name);
      return 'ok';
    });
    const writer = new MarkerFeatureWriter(client, dynamo.featureTable);
    const events = Array.from({ length: 10 }, (_, i) => auth(`card_b${i}`, `m_b${i % 2}`));
    // act
    const results = await writer.applyBatch(events);
    // assert: 12 items (10 cards, 2 merchants) in 15 requests instead of 4 per item
    expect(
      results.every((r) => r.ok && r.outcome.card === 'applied' && r.outcome.merchant === 'applied'),
    ).toBe(true);
    const count = (name: string) => sent.filter((c) => c === name).length;
    expect(count('BatchGetItemCommand')).toBe(2);
    expect(count('PutItemCommand')).toBe(12);
    expect(count('UpdateItemCommand')).toBe(0);
    expect(count('BatchWriteItemCommand')).toBe(1);
    expect(count('GetItemCommand')).toBe(0);
    for (let i = 0; i < 10; i += 1) {
      expect(await item(appliedMarkerKey(`card#card_b${i}`, events[i]?.eventId ?? ''))).toBeDefined();
    }
    expect(merchantFromItem((await item('merchant#m_b0')) ?? {}).h1.reduce((s, b) => s + b[1], 0)).toBe(5);
  });

  it('applies overlapping batches from two processes once each, whichever update loses', async () => {
    // prepare: two writers (two locks) get the same 8 events on 4 cards and one merchant, in
    // different batch cuts, so their updates conflict item by item (b through the signed HTTP caller)
    const a = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable, { maxConflictRetries: 20 });
    const b = new MarkerFeatureWriter(dynamo.scoringCaller, dynamo.featureTable, { maxConflictRetries: 20 });
    const events = Array.from({ length: 8 }, (_, i) => auth(`card_ov${i % 4}`, 'm_ov'));
    // act
    const [fromA, fromB1, fromB2] = await Promise.all([
      a.applyBatch(events),
      b.applyBatch(events.slice(0, 5)),
      b.applyBatch(events.slice(5)),
    ]);
    // assert: every event applied exactly once to each of its items
    const all = [...(fromA ?? []), ...(fromB1 ?? []), ...(fromB2 ?? [])];
    expect(all.every((r) => r.ok)).toBe(true);
    const appliedOnCard = all.filter((r) => r.ok && r.outcome.card === 'applied').length;
    expect(appliedOnCard).toBe(8);
    for (let i = 0; i < 4; i += 1)
      expect(cardFromItem((await item(`card#card_ov${i}`)) ?? {}).total[0]).toBe(2);
    expect(merchantFromItem((await item('merchant#m_ov')) ?? {}).h1.reduce((s, b) => s + b[1], 0)).toBe(8);
  });

  it('ends in the exactly-once state whatever fails and however often events are redelivered', async () => {
    let run = 0;
    const arbitrary = fc.record({
      events: fc.array(
        fc.record({
          card: fc.constantFrom('a', 'b', 'c'),
          merchant: fc.constantFrom('x', 'y'),
          label: fc.boolean(),
          ageMinutes: fc.integer({ min: 0, max: 3 * 24 * 60 }),
          amount: fc.integer({ min: 1, max: 100_000 }),
        }),
        { minLength: 1, maxLength: 25 },
      ),
      batchSizes: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 8 }),
      redeliver: fc.array(fc.nat(), { maxLength: 10 }),
      faults: fc.array(fc.constantFrom<'ok' | 'before' | 'after'>('ok', 'ok', 'ok', 'before', 'after'), {
        minLength: 1,
        maxLength: 60,
      }),
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ events: drawn, batchSizes, redeliver, faults }) => {
        // prepare: ids unique to this run, so runs do not share items
        run += 1;
        const id = (s: string) => `p${run}_${s}`;
        const events: TransactionEvent[] = drawn.map((d, i) => {
          const ms = T0 - d.ageMinutes * 60_000;
          if (d.label) {
            const label: LabelEvent = {
              type: 'label',
              eventId: id(`l${i}`),
              transactionId: id(`t${i}`),
              cardId: id(d.card),
              merchantId: id(d.merchant),
              label: 'chargeback',
              timestamp: new Date(T0).toISOString(),
              transactionTimestamp: new Date(ms).toISOString(),
            };
            return label;
          }
          return auth(id(d.card), id(d.merchant), {
            eventId: id(`e${i}`),
            amount: d.amount,
            timestamp: new Date(ms).toISOString(),
          });
        });
        let call = 0;
        const writer = new MarkerFeatureWriter(
          // The first requests fail as drawn, the rest succeed: every event gets through eventually.
          faulty(dynamo.client, () => faults[call++] ?? 'ok'),
          dynamo.featureTable,
          { sleep: async () => {} },
        );
        // act: deliver in batches, put failed events back at the end of the queue (as SQS would)
        const queue = [...events, ...redeliver.map((i) => events[i % events.length] as TransactionEvent)];
        let rounds = 0;
        let extra = 0;
        while (queue.length > 0) {
          rounds += 1;
          if (rounds > 500) throw new Error('events never got through');
          const batch = queue.splice(0, batchSizes[rounds % batchSizes.length] ?? 10);
          const results = await writer.applyBatch(batch);
          results.forEach((r, i) => {
            if (!r.ok) queue.push(batch[i] as TransactionEvent);
          });
          // A redelivery of something that may already have succeeded, now and then.
          if (rounds % 3 === 0 && extra < 5) {
            extra += 1;
            queue.push(batch[0] as TransactionEvent);
          }
        }
        // assert: the stored state is the state of applying each event once
        const reference = new FeatureReplay();
        for (const event of events) reference.add(event);
        for (const c of ['a', 'b', 'c']) {
          const stored = await item(`card#${id(c)}`);
          const expected = reference.cards.get(id(c));
          if (!expected) expect(stored).toBeUndefined();
          else expect(cardFromItem(stored ?? {})).toEqual(expected);
        }
        for (const m of ['x', 'y']) {
          const stored = await item(`merchant#${id(m)}`);
          const expected = reference.merchants.get(id(m));
          if (!expected) expect(stored).toBeUndefined();
          else expect(merchantFromItem(stored ?? {})).toEqual(expected);
        }
      }),
      { numRuns: 25 },
    );
  }, 180_000);
});
