/**
 * The AWS feature writer: one `TransactWriteItems` per batch holds a conditional marker
 * item per event (`event#<id>`, must not exist, expires after the dedupe time) and the
 * version-checked update of every card and merchant item the batch touches. Either all of
 * it lands or none of it does, so an event is counted exactly once however late it is
 * redelivered, and a crash can never leave an aggregate updated without its marker.
 *
 * IAM: a transaction's Put and Update are authorized as `dynamodb:PutItem` and
 * `dynamodb:UpdateItem` (no ConditionCheck action is used); reads are `dynamodb:GetItem`.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { UpdateConflictError } from '#domain/errors';
import type { TransactionEvent } from '#domain/types';
import { eventMarkerKey } from './feature-items';
import {
  asError,
  type BatchItemResult,
  CODECS,
  type EventOutcome,
  type FeatureWriter,
  type FeatureWriterOptions,
  finishBatch,
  firstOccurrences,
  foldItem,
  KeyedLock,
  type ResolvedWriterOptions,
  resolveWriterOptions,
  single,
  storeLabel,
  versionedUpdate,
  versionOf,
} from './feature-writer';

/** DynamoDB's limit on actions in one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

/** Items an event touches: its card (authorizations only) and its merchant. */
function keysOf(event: TransactionEvent): string[] {
  return CODECS.map((codec) => codec.key(event)).filter((k): k is string => k !== undefined);
}

/** Splits events so each chunk's markers plus distinct items fit one transaction. */
export function transactionChunks(
  events: readonly TransactionEvent[],
  limit = MAX_TRANSACTION_ITEMS,
): TransactionEvent[][] {
  const chunks: TransactionEvent[][] = [];
  let current: TransactionEvent[] = [];
  let keys = new Set<string>();
  for (const event of events) {
    const added = keysOf(event).filter((k) => !keys.has(k));
    if (current.length > 0 && current.length + 1 + keys.size + added.length > limit) {
      chunks.push(current);
      current = [];
      keys = new Set();
    }
    current.push(event);
    for (const k of keysOf(event)) keys.add(k);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const outcomeOf = (event: TransactionEvent, result: 'applied' | 'duplicate'): EventOutcome => ({
  card: event.type === 'authorization' ? result : 'skipped',
  merchant: result,
});

export class TransactionalFeatureWriter implements FeatureWriter {
  private readonly options: ResolvedWriterOptions;
  private readonly lock = new KeyedLock();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: FeatureWriterOptions = {},
  ) {
    this.options = resolveWriterOptions(options);
  }

  async apply(event: TransactionEvent): Promise<EventOutcome> {
    return single(await this.applyBatch([event]));
  }

  async applyBatch(events: readonly TransactionEvent[]): Promise<BatchItemResult[]> {
    const { unique, canonical } = firstOccurrences(events);
    const results = new Map<string, BatchItemResult>();
    // Chunks run one after another: a later chunk may touch an item of an earlier one.
    for (const chunk of transactionChunks(unique)) {
      try {
        const outcomes = await this.lock.run(chunk.flatMap(keysOf), () => this.commit(chunk));
        for (const event of chunk) {
          results.set(event.eventId, { ok: true, outcome: outcomes.get(event.eventId) as EventOutcome });
        }
      } catch (error) {
        for (const event of chunk) results.set(event.eventId, { ok: false, error: asError(error) });
      }
    }
    const now = this.options.clock();
    return finishBatch(
      (label) => storeLabel(this.client, this.tableName, label, now),
      events,
      { unique, canonical },
      results,
    );
  }

  /** Reads, folds and commits one chunk; drops events whose marker exists and retries the rest. */
  private async commit(chunk: readonly TransactionEvent[]): Promise<Map<string, EventOutcome>> {
    const outcomes = new Map<string, EventOutcome>();
    let pending = chunk.slice();
    let conflicts = 0;
    while (pending.length > 0) {
      const keys = [...new Set(pending.flatMap(keysOf))];
      const items = await Promise.all(
        keys.map(async (pk) => {
          const { Item } = await this.client.send(
            new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
          );
          return Item;
        }),
      );
      const now = this.options.clock();
      const ttl = Math.floor(now / 1000) + this.options.ttlSeconds;
      const markerTtl = Math.floor(now / 1000) + this.options.dedupeSeconds;
      const updates = keys.map((pk, i) => {
        const codec = CODECS.find((c) => pending.some((e) => c.key(e) === pk));
        if (!codec) throw new Error(`no codec for ${pk}`);
        const item = items[i];
        const touching = pending.filter((e) => codec.key(e) === pk);
        const state = foldItem(codec, item ? codec.decode(item) : undefined, touching);
        return {
          Update: {
            TableName: this.tableName,
            Key: { pk },
            ...versionedUpdate({ ...codec.encode(state), updatedAt: now, ttl }, versionOf(item)),
          },
        };
      });
      const markers = pending.map((event) => ({
        Put: {
          TableName: this.tableName,
          Item: { pk: eventMarkerKey(event.eventId), ttl: markerTtl, appliedAt: now },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      }));
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: [...markers, ...updates] }));
        for (const event of pending) outcomes.set(event.eventId, outcomeOf(event, 'applied'));
        return outcomes;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        if (
          reasons.some((code) => !['None', 'ConditionalCheckFailed', 'TransactionConflict'].includes(code))
        ) {
          throw error;
        }
        // A marker that already exists: that event was applied before (a redelivery).
        const duplicates = pending.filter((_, i) => reasons[i] === 'ConditionalCheckFailed');
        for (const event of duplicates) outcomes.set(event.eventId, outcomeOf(event, 'duplicate'));
        pending = pending.filter((_, i) => reasons[i] !== 'ConditionalCheckFailed');
        // A version that moved or a concurrent transaction: another process wrote an item.
        const raced =
          reasons.slice(markers.length).some((code) => code !== 'None') ||
          reasons.slice(0, markers.length).includes('TransactionConflict');
        if (raced) {
          conflicts += 1;
          if (conflicts >= this.options.maxConflictRetries) {
            throw new UpdateConflictError(
              `gave up on ${keys.join(', ')} after ${conflicts} conflicting transactions`,
              { cause: error },
            );
          }
          await this.options.sleep(Math.min(1000, 10 * 2 ** conflicts * Math.random()));
        } else if (duplicates.length === 0) {
          throw error;
        }
      }
    }
    return outcomes;
  }
}
