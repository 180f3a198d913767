/**
 * The benchmarks' fixture: the feature and answer tables, and one card (`card_bench`) with a
 * week of history at a busy merchant (`m_bench`), written through the real feature writer so
 * the aggregates and the sequence ring are what the updater would store.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import type { AuthorizationEvent, ScoreRequest } from '#domain/types';
import { FEATURE_TABLE, IDEMPOTENCY_TABLE } from '#shared/table-schema';
import { ensureTable } from '../local/dynamo-local';

export const BENCH_FEATURE_TABLE = 'bench-features';
export const BENCH_ANSWER_TABLE = 'bench-idempotency';

/** The benchmarks' score request: the seeded card at its busy merchant, at `now`. */
export function benchRequest(now: number, transactionId = 'bench'): ScoreRequest {
  return {
    transactionId,
    cardId: 'card_bench',
    merchantId: 'm_bench',
    mcc: '5411',
    amount: 2500,
    currency: 'EUR',
    country: 'DE',
    channel: 'ecommerce',
    deviceId: 'dev-1',
    timestamp: new Date(now).toISOString(),
  };
}

/**
 * Creates the tables and writes the card's 60 authorizations ending at `now`; returns `now`.
 * `_documents` is no longer used (the writer marshals its own items over the raw client); kept
 * so the benchmarks that call this need no change.
 */
export async function seedBenchCard(
  client: DynamoDBClient,
  _documents: DynamoDBDocumentClient,
  now = Date.now(),
): Promise<number> {
  await ensureTable(client, BENCH_FEATURE_TABLE, FEATURE_TABLE);
  await ensureTable(client, BENCH_ANSWER_TABLE, IDEMPOTENCY_TABLE);
  const writer = new MarkerFeatureWriter(client, BENCH_FEATURE_TABLE);
  for (let i = 0; i < 60; i += 1) {
    const event: AuthorizationEvent = {
      type: 'authorization',
      eventId: `bench-${i}`,
      transactionId: `bench-${i}`,
      cardId: 'card_bench',
      merchantId: i % 3 === 0 ? 'm_bench' : `m_${i % 7}`,
      mcc: '5411',
      amount: 1000 + i * 37,
      currency: 'EUR',
      country: i % 11 === 0 ? 'FR' : 'DE',
      channel: 'ecommerce',
      deviceId: 'dev-1',
      timestamp: new Date(now - (60 - i) * 2.5 * 3_600_000).toISOString(),
      outcome: 'approved',
    };
    await writer.apply(event);
  }
  return now;
}
