/**
 * The scoring path's DynamoDB store: ONE BatchGetItem that spans both tables (the card and
 * merchant feature items, eventually consistent, and the stored answer of the transactionId,
 * strongly consistent), and ONE conditional PutItem that stores an answer only if no live one
 * exists. Two round trips per answer, one of them a read; no write before scoring.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { FeatureStoreError } from '#domain/errors';
import type { SaveAnswerResult, StoredAnswer } from '#domain/idempotency';
import type { ScoringKeys, ScoringLookup, ScoringStore } from '#domain/ports';
import { answerKey, cardKey, IDEMPOTENCY_TABLE, merchantKey } from '#shared/table-schema';
import { cardFromItem, merchantFromItem, READ_PROJECTION } from './feature-items';

type Item = Record<string, unknown>;

const ID = IDEMPOTENCY_TABLE.partitionKey.name;
const EXPIRES = IDEMPOTENCY_TABLE.ttlAttribute;

export interface DynamoScoringStoreOptions {
  featureTableName: string;
  /** Table of stored answers; reads skip it when a request carries no transactionId. */
  answerTableName: string;
  /** Wall clock in epoch ms, for item ages and answer expiry. @default Date.now */
  clock?: () => number;
}

export class DynamoScoringStore implements ScoringStore {
  private readonly clock: () => number;
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoScoringStoreOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  async read(keys: ScoringKeys, signal?: AbortSignal): Promise<ScoringLookup> {
    const { featureTableName: features, answerTableName: answers } = this.options;
    const card = cardKey(keys.cardId);
    const merchant = merchantKey(keys.merchantId);
    let pending: Record<string, { Keys: Item[] }> = {
      [features]: { Keys: [{ pk: card }, { pk: merchant }] },
    };
    if (keys.transactionId !== undefined)
      pending[answers] = { Keys: [{ [ID]: answerKey(keys.transactionId) }] };
    const found: Item[] = [];
    let answerItem: Item | undefined;
    // One request, plus at most one retry for keys DynamoDB left unprocessed.
    for (let attempt = 0; attempt < 2 && Object.keys(pending).length > 0; attempt += 1) {
      const requestItems: NonNullable<BatchGetCommandInput['RequestItems']> = {};
      if (pending[features]) {
        requestItems[features] = {
          Keys: pending[features].Keys,
          ProjectionExpression: READ_PROJECTION.expression,
          ExpressionAttributeNames: READ_PROJECTION.names,
          ConsistentRead: false,
        };
      }
      if (pending[answers]) requestItems[answers] = { Keys: pending[answers].Keys, ConsistentRead: true };
      const result = await this.client.send(new BatchGetCommand({ RequestItems: requestItems }), {
        abortSignal: signal,
      });
      found.push(...(result.Responses?.[features] ?? []));
      answerItem ??= result.Responses?.[answers]?.[0];
      pending = (result.UnprocessedKeys ?? {}) as typeof pending;
    }
    if (Object.keys(pending).length > 0) throw new FeatureStoreError('items left unprocessed after retry');
    const now = this.clock();
    const cardItem = found.find((i) => i.pk === card);
    const merchantItem = found.find((i) => i.pk === merchant);
    const age = (item: Item | undefined) =>
      item && typeof item.updatedAt === 'number' ? Math.max(0, now - item.updatedAt) : undefined;
    return {
      card: cardItem ? cardFromItem(cardItem) : undefined,
      merchant: merchantItem ? merchantFromItem(merchantItem) : undefined,
      ageMs: { card: age(cardItem), merchant: age(merchantItem) },
      answer: this.liveAnswer(answerItem),
    };
  }

  async saveAnswer(
    transactionId: string,
    answer: StoredAnswer,
    signal?: AbortSignal,
  ): Promise<SaveAnswerResult> {
    const table = this.options.answerTableName;
    const id = answerKey(transactionId);
    try {
      await this.client.send(
        new PutCommand({
          TableName: table,
          Item: {
            [ID]: id,
            [EXPIRES]: answer.expiresAt,
            requestHash: answer.requestHash,
            response: JSON.stringify(answer.response),
          },
          // An expired answer (TTL deletion lags by up to days) may be replaced.
          ConditionExpression: 'attribute_not_exists(#id) OR #exp < :now',
          ExpressionAttributeNames: { '#id': ID, '#exp': EXPIRES },
          ExpressionAttributeValues: { ':now': Math.floor(this.clock() / 1000) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      return { stored: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // DynamoDB returns the winner's item with the failure; servers that do not (dynalite)
      // cost one consistent read, only on this rare race.
      const existing = error.Item
        ? unmarshall(error.Item)
        : (
            await this.client.send(
              new GetCommand({ TableName: table, Key: { [ID]: id }, ConsistentRead: true }),
              {
                abortSignal: signal,
              },
            )
          ).Item;
      return { stored: false, existing: this.liveAnswer(existing) };
    }
  }

  /** The stored answer of an item, unless it has expired or is not one of ours. */
  private liveAnswer(item: Item | undefined): StoredAnswer | undefined {
    if (!item || typeof item.response !== 'string' || typeof item.requestHash !== 'string') return undefined;
    const expiresAt = Number(item[EXPIRES]);
    if (!(expiresAt * 1000 > this.clock())) return undefined;
    return { requestHash: item.requestHash, response: JSON.parse(item.response), expiresAt };
  }
}
