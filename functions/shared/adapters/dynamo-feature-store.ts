/**
 * The DynamoDB online feature store's read path: one BatchGetItem for the card and merchant
 * items on the scoring path. The event path's writers are in `feature-writer.ts`
 * (`TransactionalFeatureWriter` in AWS, `MarkerFeatureWriter` on dynalite).
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FeatureLookup, FeatureStore } from '#domain/ports';
import { cardKey, merchantKey } from '#shared/table-schema';
import { cardFromItem, merchantFromItem, READ_PROJECTION } from './feature-items';

/** The feature store could not be read. */
export class FeatureStoreError extends Error {
  override readonly name = 'FeatureStoreError';
}

export class DynamoFeatureStore implements FeatureStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(cardId: string, merchantId: string, signal?: AbortSignal): Promise<FeatureLookup> {
    const keys = [{ pk: cardKey(cardId) }, { pk: merchantKey(merchantId) }];
    const items: Record<string, unknown>[] = [];
    let pending: typeof keys | undefined = keys;
    // One request, plus at most one retry for keys DynamoDB left unprocessed.
    for (let attempt = 0; attempt < 2 && pending && pending.length > 0; attempt += 1) {
      const result = await this.client.send(
        new BatchGetCommand({
          RequestItems: {
            [this.tableName]: {
              Keys: pending,
              ProjectionExpression: READ_PROJECTION.expression,
              ExpressionAttributeNames: READ_PROJECTION.names,
              ConsistentRead: false,
            },
          },
        }),
        { abortSignal: signal },
      );
      items.push(...(result.Responses?.[this.tableName] ?? []));
      pending = result.UnprocessedKeys?.[this.tableName]?.Keys as typeof keys | undefined;
    }
    if (pending && pending.length > 0)
      throw new FeatureStoreError('feature items left unprocessed after retry');
    const now = this.clock();
    const card = items.find((i) => i.pk === keys[0]?.pk);
    const merchant = items.find((i) => i.pk === keys[1]?.pk);
    const age = (item: Record<string, unknown> | undefined) =>
      item && typeof item.updatedAt === 'number' ? Math.max(0, now - item.updatedAt) : undefined;
    return {
      card: card ? cardFromItem(card) : undefined,
      merchant: merchant ? merchantFromItem(merchant) : undefined,
      ageMs: { card: age(card), merchant: age(merchant) },
    };
  }
}
