/**
 * The DynamoDB online feature store: one BatchGetItem on the scoring path, and idempotent
 * single-item read-modify-write updates (optimistic version check) on the event path.
 * No transactions, so the same code runs against dynalite locally.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type Applied,
  applyCardEvent,
  applyMerchantEvent,
  type CardState,
  type MerchantState,
} from '#domain/features';
import type { FeatureLookup, FeatureStore } from '#domain/ports';
import type { LabelEvent, TransactionEvent } from '#domain/types';
import { cardKey, labelKey, merchantKey } from '#shared/table-schema';
import {
  cardFromItem,
  cardToAttributes,
  merchantFromItem,
  merchantToAttributes,
  READ_PROJECTION,
} from './feature-items';

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

/** What happened to one item when an event was applied. */
export type UpdateOutcome = 'applied' | 'duplicate';

export interface FeatureWriterOptions {
  /** Items expire this long after their last update. @default 180 days */
  ttlSeconds?: number;
  /** Attempts when another writer changed the item between read and write. @default 5 */
  maxConflictRetries?: number;
  clock?: () => number;
}

/** Too many concurrent writers on one item; the event should be retried later. */
export class UpdateConflictError extends Error {
  override readonly name = 'UpdateConflictError';
}

/**
 * Applies events to feature items. Each item is updated on its own with a version
 * condition, and the event id is stored in the same write, so a redelivered event is seen
 * and skipped: counted once however often it arrives.
 */
export class DynamoFeatureWriter {
  private readonly ttlSeconds: number;
  private readonly maxConflictRetries: number;
  private readonly clock: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: FeatureWriterOptions = {},
  ) {
    this.ttlSeconds = options.ttlSeconds ?? 180 * 86_400;
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
    this.clock = options.clock ?? Date.now;
  }

  /** Applies the event to the card item (authorizations only) and the merchant item, and stores labels. */
  async apply(event: TransactionEvent): Promise<{ card: UpdateOutcome; merchant: UpdateOutcome }> {
    const card: UpdateOutcome =
      event.type === 'authorization'
        ? await this.update(
            cardKey(event.cardId),
            cardFromItem,
            cardToAttributes,
            (s: CardState | undefined) => applyCardEvent(s, event),
          )
        : 'duplicate';
    const merchant = await this.update(
      merchantKey(event.merchantId),
      merchantFromItem,
      merchantToAttributes,
      (s: MerchantState | undefined) => applyMerchantEvent(s, event),
    );
    if (event.type === 'label') await this.storeLabel(event);
    return { card, merchant };
  }

  private async update<S>(
    pk: string,
    decode: (item: Record<string, unknown>) => S,
    encode: (state: S) => Record<string, unknown>,
    apply: (state: S | undefined) => Applied<S>,
  ): Promise<UpdateOutcome> {
    for (let attempt = 0; attempt < this.maxConflictRetries; attempt += 1) {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
      );
      const version = typeof Item?.v === 'number' ? Item.v : 0;
      const result = apply(Item ? decode(Item) : undefined);
      if (!result.applied) return 'duplicate';
      const now = this.clock();
      const attributes: Record<string, unknown> = {
        ...encode(result.state),
        v: version + 1,
        updatedAt: now,
        ttl: Math.floor(now / 1000) + this.ttlSeconds,
      };
      const present = Object.entries(attributes).filter(([, value]) => value !== undefined);
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk },
            UpdateExpression: `SET ${present.map(([name]) => `#${name} = :${name}`).join(', ')}`,
            ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : '#v = :expected',
            ExpressionAttributeNames: Object.fromEntries(present.map(([name]) => [`#${name}`, name])),
            ExpressionAttributeValues: {
              ...Object.fromEntries(present.map(([name, value]) => [`:${name}`, value])),
              ...(version === 0 ? {} : { ':expected': version }),
            },
          }),
        );
        return 'applied';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another writer got there first: read again and re-apply on top of its result.
      }
    }
    throw new UpdateConflictError(`gave up on ${pk} after ${this.maxConflictRetries} conflicting writes`);
  }

  /** Labels are kept for monitoring and retraining; the first report of a transaction wins. */
  private async storeLabel(event: LabelEvent): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: labelKey(event.transactionId),
            label: event.label,
            cardId: event.cardId,
            merchantId: event.merchantId,
            reportedAt: event.timestamp,
            transactionTimestamp: event.transactionTimestamp,
            eventId: event.eventId,
            updatedAt: this.clock(),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
