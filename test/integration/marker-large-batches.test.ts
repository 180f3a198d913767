/**
 * The local queue hands the updater up to 100 events per batch behind a backlog
 * (`scripts/local/queue-process.ts`), against SQS's 10: the marker writer must give the same
 * features for such batches, with many events per merchant folded into one write, duplicates
 * inside the batch, and the whole batch delivered twice (real dynalite).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { cardFromItem, merchantFromItem } from '#adapters/feature-items';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import { FeatureReplay } from '#domain/features';
import type { TransactionEvent } from '#domain/types';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

async function item(pk: string) {
  const { Item } = await dynamo.documents.send(
    new GetCommand({ TableName: dynamo.featureTable, Key: { pk }, ConsistentRead: true }),
  );
  return Item;
}

describe('marker writer with the local queue batches of up to 100', () => {
  let run = 0;
  it('stores what applying each event once gives, for batches of 30–100 delivered twice', async () => {
    // prepare
    const arbitrary = fc.array(
      fc.record({
        card: fc.integer({ min: 0, max: 39 }),
        merchant: fc.integer({ min: 0, max: 4 }),
        label: fc.boolean(),
        ageMinutes: fc.integer({ min: 0, max: 2 * 24 * 60 }),
        amount: fc.integer({ min: 1, max: 100_000 }),
        repeatOf: fc.option(fc.nat(), { freq: 8 }),
      }),
      { minLength: 30, maxLength: 100 },
    );
    let batches = 0;
    await fc.assert(
      fc.asyncProperty(arbitrary, async (drawn) => {
        run += 1;
        const id = (s: string) => `big${run}_${s}`;
        const events: TransactionEvent[] = drawn.map((d, i) => {
          const ms = T0 - d.ageMinutes * 60_000;
          const common = { cardId: id(`c${d.card}`), merchantId: id(`m${d.merchant}`) };
          if (d.label) {
            return {
              type: 'label',
              eventId: id(`l${i}`),
              transactionId: id(`t${i}`),
              ...common,
              label: 'chargeback',
              timestamp: new Date(T0).toISOString(),
              transactionTimestamp: new Date(ms).toISOString(),
            };
          }
          return {
            type: 'authorization',
            eventId: id(`e${i}`),
            transactionId: id(`t${i}`),
            ...common,
            mcc: '5411',
            amount: d.amount,
            currency: 'EUR',
            country: 'DE',
            channel: 'ecommerce',
            timestamp: new Date(ms).toISOString(),
            outcome: 'approved',
          };
        });
        // A few events twice inside the batch, as SQS's at-least-once delivery may hand over.
        const batch = [
          ...events,
          ...drawn.flatMap((d) => (d.repeatOf === null ? [] : [events[d.repeatOf % events.length]])),
        ] as TransactionEvent[];
        const writer = new MarkerFeatureWriter(dynamo.client, dynamo.featureTable, { sleep: async () => {} });
        // act: the whole batch, then the same batch again (a redelivery after a lost answer)
        const first = await writer.applyBatch(batch);
        const second = await writer.applyBatch(batch);
        batches += 2;
        // assert
        expect(first.every((r) => r.ok)).toBe(true);
        expect(second.every((r) => r.ok)).toBe(true);
        const reference = new FeatureReplay();
        for (const event of events) reference.add(event);
        for (const [cardId, expected] of reference.cards) {
          expect(cardFromItem((await item(`card#${cardId}`)) ?? {})).toEqual(expected);
        }
        for (const [merchantId, expected] of reference.merchants) {
          expect(merchantFromItem((await item(`merchant#${merchantId}`)) ?? {})).toEqual(expected);
        }
      }),
      { numRuns: 8, seed: 5 },
    );
    expect(batches).toBe(16);
  }, 120_000);
});
