/**
 * The scoring path's DynamoDB store: ONE BatchGetItem that spans both tables (the card and
 * merchant feature items, eventually consistent, and the stored answer of the transactionId,
 * strongly consistent), and ONE conditional PutItem that stores an answer only if no live one
 * exists. Two round trips per answer, one of them a read; no write before scoring.
 *
 * It speaks DynamoDB's wire format (attribute values as `{ S: … }`) through a {@link DynamoCaller}
 * (signed HTTP by default, the SDK client with `DYNAMODB_CLIENT=sdk`; see `dynamo-http.ts`) and
 * (un)marshals its few attributes by hand: the document client walked every item through the
 * generic marshaller on the way in and out, which `npm run profile` showed as a measurable share
 * of the SDK's time per answer. Feature items decode with the updater's `attribute-values.ts` in
 * its lenient mode: a corrupted attribute reads as missing (an empty list), never as a failed
 * answer.
 */
import type {
  AttributeValue,
  BatchGetItemCommandOutput,
  DynamoDBClient,
  GetItemCommandOutput,
  KeysAndAttributes,
} from '@aws-sdk/client-dynamodb';
import { FeatureStoreError } from '#domain/errors';
import type { SaveAnswerResult, StoredAnswer } from '#domain/idempotency';
import type { ScoringKeys, ScoringLookup, ScoringStore } from '#domain/ports';
import { answerKey, cardKey, FEATURE_TABLE, IDEMPOTENCY_TABLE, merchantKey } from '#shared/table-schema';
import { fromItem } from './attribute-values';
import { asCaller, type DynamoCaller, isConditionFailure } from './dynamo-http';
import { cardFromItem, merchantFromItem, READ_PROJECTION } from './feature-items';

/** An item as DynamoDB's wire format has it: attribute name → typed value. */
export type RawItem = Record<string, AttributeValue>;

const PK = FEATURE_TABLE.partitionKey.name;
const ID = IDEMPOTENCY_TABLE.partitionKey.name;
const EXPIRES = IDEMPOTENCY_TABLE.ttlAttribute;
/** Names of the conditional put, built once: an expired answer (TTL deletion lags by up to days) may be replaced. */
export const PUT_CONDITION = {
  expression: 'attribute_not_exists(#id) OR #exp < :now',
  names: Object.freeze({ '#id': ID, '#exp': EXPIRES }),
} as const;

export interface DynamoScoringStoreOptions {
  readonly featureTableName: string;
  /** Table of stored answers; reads skip it when a request carries no transactionId. */
  readonly answerTableName: string;
  /** Wall clock in epoch ms, for item ages and answer expiry. @default Date.now */
  readonly clock?: () => number;
}

export class DynamoScoringStore implements ScoringStore {
  private readonly clock: () => number;
  private readonly dynamo: DynamoCaller;
  /** @param dynamo the caller (`createScoringCaller`), or an SDK client to call through */
  constructor(
    dynamo: DynamoCaller | DynamoDBClient,
    private readonly options: DynamoScoringStoreOptions,
  ) {
    this.dynamo = asCaller(dynamo);
    this.clock = options.clock ?? Date.now;
  }

  /** What to ask of each table for these keys: features projected and eventually consistent, the answer strongly. */
  private request(table: string, keys: RawItem[]): KeysAndAttributes {
    return table === this.options.featureTableName
      ? {
          Keys: keys,
          ProjectionExpression: READ_PROJECTION.expression,
          ExpressionAttributeNames: READ_PROJECTION.names,
          ConsistentRead: false,
        }
      : { Keys: keys, ConsistentRead: true };
  }

  async read(keys: ScoringKeys, signal?: AbortSignal): Promise<ScoringLookup> {
    const { featureTableName: features, answerTableName: answers } = this.options;
    const card = cardKey(keys.cardId);
    const merchant = merchantKey(keys.merchantId);
    let pending: Record<string, KeysAndAttributes> = {
      [features]: this.request(features, [{ [PK]: { S: card } }, { [PK]: { S: merchant } }]),
    };
    if (keys.transactionId !== undefined)
      pending[answers] = this.request(answers, [{ [ID]: { S: answerKey(keys.transactionId) } }]);
    let cardItem: RawItem | undefined;
    let merchantItem: RawItem | undefined;
    let answerItem: RawItem | undefined;
    // One request, plus at most one retry for keys DynamoDB left unprocessed.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const result = await this.dynamo.call<BatchGetItemCommandOutput>(
        'BatchGetItem',
        { RequestItems: pending },
        signal,
      );
      for (const item of result.Responses?.[features] ?? []) {
        const pk = item[PK]?.S;
        if (pk === card) cardItem = item;
        else if (pk === merchant) merchantItem = item;
      }
      answerItem ??= result.Responses?.[answers]?.[0];
      const unprocessed = result.UnprocessedKeys ?? {};
      pending = {};
      for (const table in unprocessed) {
        const left = unprocessed[table]?.Keys ?? [];
        if (left.length > 0) pending[table] = this.request(table, left);
      }
      if (Object.keys(pending).length === 0) break;
    }
    if (Object.keys(pending).length > 0) throw new FeatureStoreError('items left unprocessed after retry');
    const now = this.clock();
    const age = (item: RawItem | undefined) => {
      const updatedAt = item?.updatedAt?.N;
      return updatedAt === undefined ? undefined : Math.max(0, now - Number(updatedAt));
    };
    return {
      card: cardItem ? cardFromItem(fromItem(cardItem, true)) : undefined,
      merchant: merchantItem ? merchantFromItem(fromItem(merchantItem, true)) : undefined,
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
      await this.dynamo.call(
        'PutItem',
        {
          TableName: table,
          Item: {
            [ID]: { S: id },
            [EXPIRES]: { N: String(answer.expiresAt) },
            requestHash: { S: answer.requestHash },
            response: { S: JSON.stringify(answer.response) },
          },
          ConditionExpression: PUT_CONDITION.expression,
          ExpressionAttributeNames: PUT_CONDITION.names,
          ExpressionAttributeValues: { ':now': { N: String(Math.floor(this.clock() / 1000)) } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        signal,
      );
      return { stored: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // DynamoDB returns the winner's item with the failure; servers that do not (dynalite)
      // cost one consistent read, only on this rare race.
      const existing =
        (error as { Item?: RawItem }).Item ??
        (
          await this.dynamo.call<GetItemCommandOutput>(
            'GetItem',
            { TableName: table, Key: { [ID]: { S: id } }, ConsistentRead: true },
            signal,
          )
        ).Item;
      return { stored: false, existing: this.liveAnswer(existing) };
    }
  }

  /** The stored answer of an item, unless it has expired or is not one of ours. */
  private liveAnswer(item: RawItem | undefined): StoredAnswer | undefined {
    const response = item?.response?.S;
    const requestHash = item?.requestHash?.S;
    if (response === undefined || requestHash === undefined) return undefined;
    const expiresAt = Number(item?.[EXPIRES]?.N);
    if (!(expiresAt * 1000 > this.clock())) return undefined;
    return { requestHash, response: JSON.parse(response), expiresAt };
  }
}
