import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { bulkWrite, FeatureAccumulator } from '#adapters/feature-bulk-loader';
import { cardFromItem } from '#adapters/feature-items';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import { applyEvent, type FeatureState, featureVector } from '#domain/features';
import type { AuthorizationEvent, TransactionEvent } from '#domain/types';
import { FEATURE_TABLE } from '#shared/table-schema';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { authorizationEvent, chargebackEvent } from '../support/events';

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

let n = 0;
function auth(minutesAgo: number, overrides: Partial<AuthorizationEvent> = {}): AuthorizationEvent {
  n += 1;
  return authorizationEvent({
    eventId: `evt-${n}`,
    transactionId: `tx-${n}`,
    cardId: 'card_it',
    merchantId: 'm_it',
    amount: 1200,
    deviceId: 'dev-1',
    timestamp: new Date(T0 - minutesAgo * 60_000).toISOString(),
    ...overrides,
  });
}

const request = {
  cardId: 'card_it',
  merchantId: 'm_it',
  mcc: '5411',
  amount: 5000,
  country: 'FR',
  channel: 'ecommerce' as const,
  deviceId: 'dev-2',
};

describe('feature table schema', () => {
  it('is created from the shared key definition', async () => {
    // act
    const { Table } = await dynamo.client.send(new DescribeTableCommand({ TableName: dynamo.featureTable }));
    // assert
    expect(Table?.KeySchema).toEqual([{ AttributeName: FEATURE_TABLE.partitionKey.name, KeyType: 'HASH' }]);
  });
});

describe('MarkerFeatureWriter + DynamoScoringStore', () => {
  it('round-trips state so serving computes exactly the features training computes', async () => {
    // prepare: the same events through the writer (DynamoDB) and through applyEvent (memory)
    const events: TransactionEvent[] = [
      auth(90),
      auth(50, { merchantId: 'm_other' }),
      auth(5, { country: 'NL' }),
    ];
    const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable, { clock: () => T0 });
    for (const event of events) await writer.apply(event);
    const inMemory = new FeatureAccumulator();
    for (const event of events) inMemory.add(event);
    // act
    const store = new DynamoScoringStore(dynamo.client, {
      featureTableName: dynamo.featureTable,
      answerTableName: 'unused',
      clock: () => T0 + 1000,
    });
    const found = await store.read({ cardId: 'card_it', merchantId: 'm_it' });
    // assert
    expect(found.ageMs).toEqual({ card: 1000, merchant: 1000 });
    const reference = { card: inMemory.cards.get('card_it'), merchant: inMemory.merchants.get('m_it') };
    expect(featureVector(found, request, T0)).toEqual(featureVector(reference, request, T0));
    // The read path projects the writer's bookkeeping (version, pending ids) away.
    expect(Object.keys(found.card ?? {})).not.toContain('pending');
    const { Item } = await dynamo.documents.send(
      new GetCommand({ TableName: dynamo.featureTable, Key: { pk: 'card#card_it' } }),
    );
    expect(Item?.pending).toEqual([[events[2]?.eventId, expect.any(Number)]]);
  });

  it('writes every list as compact text, from the marker writer and the bulk loader alike', async () => {
    // prepare
    const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable);
    const loader = new FeatureAccumulator();
    const events = [0, 1, 2].map((i) =>
      auth(i, { cardId: 'card_txt', merchantId: 'm_txt', deviceId: 'd;1' }),
    );
    for (const event of events) loader.add({ ...event, cardId: 'card_bulk', merchantId: 'm_bulk' });
    // act
    await writer.applyBatch(events);
    await bulkWrite(dynamo.documents, dynamo.featureTable, loader.items(T0, 3600));
    // assert
    const lists = ['total', 'countries', 'devices', 'merchants', 'hours', 'recent', 'm5', 'h1', 'd1', 'seq'];
    for (const [pk, names] of [
      ['card#card_txt', lists],
      ['card#card_bulk', lists],
      ['merchant#m_txt', ['h1', 'd1']],
      ['merchant#m_bulk', ['h1', 'd1']],
    ] as const) {
      const { Item } = await dynamo.documents.send(
        new GetCommand({ TableName: dynamo.featureTable, Key: { pk } }),
      );
      expect(names.map((name) => typeof Item?.[name])).toEqual(names.map(() => 'string'));
    }
  });

  it('counts a redelivered event once', async () => {
    // prepare
    const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable);
    const event = auth(1, { cardId: 'card_dup', merchantId: 'm_dup' });
    // act
    const first = await writer.apply(event);
    const again = await writer.apply(event);
    // assert
    expect(first).toEqual({ card: 'applied', merchant: 'applied' });
    expect(again).toEqual({ card: 'duplicate', merchant: 'duplicate' });
    const { Item } = await dynamo.documents.send(
      new GetCommand({ TableName: dynamo.featureTable, Key: { pk: 'card#card_dup' } }),
    );
    expect(cardFromItem(Item ?? {}).total).toEqual([1, 1200]);
    expect(Item?.v).toBe(1);
    expect(typeof Item?.ttl).toBe('number');
  });

  it('applies concurrent events on one item without losing any (serialized per item)', async () => {
    // prepare
    const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable, { maxConflictRetries: 20 });
    const events = Array.from({ length: 8 }, (_, i) =>
      auth(i, { cardId: 'card_race', merchantId: 'm_race' }),
    );
    // act
    await Promise.all(events.map((e) => writer.apply(e)));
    // assert
    const { Item } = await dynamo.documents.send(
      new GetCommand({ TableName: dynamo.featureTable, Key: { pk: 'card#card_race' } }),
    );
    expect(cardFromItem(Item ?? {}).total).toEqual([8, 9600]);
  });

  it('stores a label once and counts it against the merchant once', async () => {
    // prepare
    const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable);
    const tx = auth(60 * 24, { cardId: 'card_lbl', merchantId: 'm_lbl' });
    await writer.apply(tx);
    const label = chargebackEvent({
      eventId: 'lbl-1',
      transactionId: tx.transactionId,
      cardId: 'card_lbl',
      merchantId: 'm_lbl',
      timestamp: new Date(T0).toISOString(),
      transactionTimestamp: tx.timestamp,
    });
    // act
    await writer.apply(label);
    await writer.apply(label);
    // assert
    const stored = await dynamo.documents.send(
      new GetCommand({ TableName: dynamo.featureTable, Key: { pk: `label#${tx.transactionId}` } }),
    );
    expect(stored.Item).toMatchObject({ label: 'chargeback', cardId: 'card_lbl', eventId: 'lbl-1' });
    const found = await new DynamoScoringStore(dynamo.client, {
      featureTableName: dynamo.featureTable,
      answerTableName: 'unused',
    }).read({ cardId: 'card_lbl', merchantId: 'm_lbl' });
    expect(found.merchant?.d1.reduce((sum, b) => sum + b[3], 0)).toBe(1);
  });

  it('returns nothing for an unknown card and merchant', async () => {
    // act
    const found = await new DynamoScoringStore(dynamo.client, {
      featureTableName: dynamo.featureTable,
      answerTableName: 'unused',
    }).read({ cardId: 'nobody', merchantId: 'nowhere' });
    // assert
    expect(found).toEqual({
      card: undefined,
      merchant: undefined,
      ageMs: { card: undefined, merchant: undefined },
    });
  });
});

describe('bulk loader', () => {
  it('materializes the same features as the updater, and a rerun changes nothing', async () => {
    // prepare
    const events = [auth(30, { cardId: 'card_bulk' }), auth(10, { cardId: 'card_bulk', merchantId: 'm_b2' })];
    const acc = new FeatureAccumulator();
    for (const e of events) acc.add(e);
    const items = acc.items(T0, 86_400);
    const store = new DynamoScoringStore(dynamo.client, {
      featureTableName: dynamo.featureTable,
      answerTableName: 'unused',
      clock: () => T0,
    });
    // act
    const written = await bulkWrite(dynamo.documents, dynamo.featureTable, items);
    const first = await store.read({ cardId: 'card_bulk', merchantId: 'm_b2' });
    await bulkWrite(dynamo.documents, dynamo.featureTable, acc.items(T0, 86_400));
    const second = await store.read({ cardId: 'card_bulk', merchantId: 'm_b2' });
    // assert
    expect(written).toBe(items.length);
    expect(second).toEqual(first);
    const inMemory = events.reduce<FeatureState>((s, e) => applyEvent(s, e), {});
    expect(featureVector(first, { ...request, cardId: 'card_bulk', merchantId: 'm_b2' }, T0)).toEqual(
      featureVector({ card: inMemory.card, merchant: acc.merchants.get('m_b2') }, request, T0),
    );
  });
});
