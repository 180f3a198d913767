/**
 * The sequence ring on the card item, end to end: the ring the feature updater writes (the
 * dynalite writer, with redeliveries and shuffled batches; the bulk loader) and the scoring
 * store reads back in its one BatchGetItem equals the ring training builds
 * (`models/training/export-sequences.ts`, run on the same events). Also the item size against
 * DynamoDB's 400 KB limit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { bulkWrite, FeatureAccumulator } from '#adapters/feature-bulk-loader';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import { mulberry32 } from '#domain/random';
import { RING_SIZE, type RingStep, ringItemBytes, sequenceTensor } from '#domain/sequence';
import type { AuthorizationEvent, LabelEvent, TransactionEvent } from '#domain/types';
import { cardKey } from '#shared/table-schema';
import { exportSequences } from '../../models/training/export-sequences';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';

const ROOT = join(__dirname, '..', '..');
const T0 = Date.parse('2026-11-16T00:00:00.000Z');
const DAY = 86_400_000;
const CARDS = ['card_a', 'card_b', 'card_c'];

/** A deterministic stream over 4 days: card_a exceeds the ring, the others do not fill it. */
function stream(): TransactionEvent[] {
  const events: TransactionEvent[] = [];
  let n = 0;
  const perCard = { card_a: 70, card_b: 12, card_c: 1 } as Record<string, number>;
  for (const cardId of CARDS) {
    for (let i = 0; i < (perCard[cardId] as number); i++) {
      n += 1;
      const event: AuthorizationEvent = {
        type: 'authorization',
        eventId: `evt_${cardId}_${i}`,
        transactionId: `tx_${cardId}_${i}`,
        cardId,
        merchantId: `m_${(n * 7) % 9}`,
        mcc: ['5411', '5732', '6011', '4511'][n % 4] as string,
        amount: 100 + ((n * 7919) % 90_000),
        currency: 'EUR',
        country: ['DE', 'FR', 'US'][n % 3] as string,
        channel: n % 2 ? 'ecommerce' : 'card_present',
        timestamp: new Date(T0 + ((n * 4_104_731 + n * n * 7_919) % (4 * DAY))).toISOString(),
        outcome: 'approved',
        ...(n % 5 ? { deviceId: `dev_${n % 4}` } : {}),
      };
      events.push(event);
    }
  }
  const label: LabelEvent = {
    type: 'label',
    eventId: 'evt_label_1',
    transactionId: 'tx_card_a_3',
    cardId: 'card_a',
    merchantId: 'm_1',
    label: 'confirmed_fraud',
    timestamp: new Date(T0 + 3 * DAY + 1000).toISOString(),
    transactionTimestamp: new Date(T0 + DAY).toISOString(),
  };
  events.push(label);
  return events.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
}

/** A reproducible shuffle (mulberry32), so a failure replays. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

let dynamo: TestDynamo;
let trainingRings: ReadonlyMap<string, readonly RingStep[]>;
let dir: string;
const events = stream();

beforeAll(async () => {
  dynamo = await startTestDynamo();
  dir = mkdtempSync(join(tmpdir(), 'ring-parity-'));
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const { rings } = await exportSequences({
    events: file,
    outDir: join(dir, 'out'),
    treeModel: join(ROOT, 'models', 'fraud-gbdt', '1.0.0'),
    legitSample: 1,
    replaySample: 0,
  });
  trainingRings = rings;
}, 60_000);

afterAll(async () => {
  await dynamo.close();
  rmSync(dir, { recursive: true, force: true });
});

const store = () =>
  new DynamoScoringStore(dynamo.documents, {
    featureTableName: dynamo.featureTable,
    answerTableName: dynamo.idempotencyTable,
  });

describe('the ring on the card item', () => {
  it('is what training builds, whatever the delivery order and redeliveries of the updater', async () => {
    // prepare: every event, shuffled, in batches, a third of them delivered twice
    const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable);
    const deliveries = shuffled([...events, ...events.filter((_, i) => i % 3 === 0)], 42);

    // act
    for (let i = 0; i < deliveries.length; i += 10) {
      const results = await writer.applyBatch(deliveries.slice(i, i + 10));
      expect(results.every((r) => r.ok)).toBe(true);
    }
    const lookups = await Promise.all(
      CARDS.map((cardId) => store().read({ cardId, merchantId: 'm_1', transactionId: 'tx_none' })),
    );

    // assert
    expect(trainingRings.get('card_a')).toHaveLength(RING_SIZE);
    CARDS.forEach((cardId, i) => {
      expect(lookups[i]?.card?.seq).toEqual(trainingRings.get(cardId));
    });
  });

  it('is what training builds when the bulk loader seeds the items', async () => {
    // prepare
    const accumulator = new FeatureAccumulator();
    for (const event of shuffled(events, 7)) accumulator.add(event);
    const table = `${dynamo.featureTable}`;

    // act: into fresh card ids, so the updater test's items do not interfere
    const items = accumulator
      .items(Date.now(), 86_400)
      .filter((item) => String(item.pk).startsWith('card#'))
      .map((item) => ({ ...item, pk: String(item.pk).replace('card#', 'card#bulk_') }));
    await bulkWrite(dynamo.documents, table, items);
    const lookups = await Promise.all(
      CARDS.map((cardId) => store().read({ cardId: `bulk_${cardId}`, merchantId: 'm_1' })),
    );

    // assert
    CARDS.forEach((cardId, i) => {
      expect(lookups[i]?.card?.seq).toEqual(trainingRings.get(cardId));
    });
  });

  it('gives the serving tensor training computed for the same request', async () => {
    // prepare: the ring as stored and as training holds it
    const { Item } = await dynamo.documents.send(
      new GetCommand({ TableName: dynamo.featureTable, Key: { pk: cardKey('card_a') } }),
    );
    const served = (await store().read({ cardId: 'card_a', merchantId: 'm_1' })).card?.seq;
    const request = {
      merchantId: 'm_2',
      mcc: '6011',
      amount: 50_000,
      country: 'BR',
      channel: 'ecommerce' as const,
    };
    const now = T0 + 5 * DAY;

    // act
    const fromItem = sequenceTensor(served, request, now);
    const fromTraining = sequenceTensor(trainingRings.get('card_a'), request, now);

    // assert: identical bytes, and the whole item far under 400 KB
    expect(Buffer.from(fromItem.data.buffer).equals(Buffer.from(fromTraining.data.buffer))).toBe(true);
    expect(fromItem.length).toBe(RING_SIZE + 1);
    const itemBytes = Buffer.byteLength(JSON.stringify(marshall(Item, { removeUndefinedValues: true })));
    expect(itemBytes).toBeLessThan(400 * 1024);
    expect(ringItemBytes(served ?? [])).toBeLessThan(4 * 1024);
  });

  it('reads a malformed stored ring as no ring (the request is scored alone), never as garbage', async () => {
    // prepare: a step with a string where a number belongs
    await dynamo.documents.send(
      new PutCommand({
        TableName: dynamo.featureTable,
        Item: { pk: cardKey('card_bad'), updatedAt: Date.now(), seq: [[1, 'x', 5411, 0, 1, 0, 2, 'e1']] },
      }),
    );

    // act
    const lookup = await store().read({ cardId: 'card_bad', merchantId: 'm_1' });

    // assert
    expect(lookup.card).toBeDefined();
    expect(lookup.card?.seq).toBeUndefined();
  });
});
