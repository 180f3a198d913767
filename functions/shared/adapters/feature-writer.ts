/**
 * What both feature writers share: the writer port the updater calls, the per-item codecs,
 * a per-key lock that serializes writes to one item inside a process, and the label store.
 *
 * Two writers implement the port with the same guarantee: every event id is applied to its
 * card and merchant items exactly once, however many events come between a delivery and a
 * redelivery (within the marker lifetime), with no count-bounded id list in the item.
 * - {@link TransactionalFeatureWriter} (AWS): one `TransactWriteItems` per batch with a
 *   conditional marker item per event and version-checked aggregate updates.
 * - {@link MarkerFeatureWriter} (dynalite, which has no transactions): per-item markers and
 *   a pending-id list in the aggregate item, so a crash between writes is recoverable.
 * The design and its failure analysis are in `docs/features.md`.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  type Applied,
  applyCardEvent,
  applyMerchantEvent,
  type CardState,
  type MerchantState,
} from '#domain/features';
import type { LabelEvent, TransactionEvent } from '#domain/types';
import { cardKey, labelKey, merchantKey } from '#shared/table-schema';
import { cardFromItem, cardToAttributes, merchantFromItem, merchantToAttributes } from './feature-items';

/** What happened to one item: the event changed it, was already in it, or does not concern it. */
export type ItemOutcome = 'applied' | 'duplicate' | 'skipped';

/** What happened to the two items an event touches. */
export interface EventOutcome {
  card: ItemOutcome;
  merchant: ItemOutcome;
}

/** One result per event of a batch, in input order. */
export type BatchItemResult = { ok: true; outcome: EventOutcome } | { ok: false; error: Error };

/** Applies transaction events to the feature items, each event id once. */
export interface FeatureWriter {
  /** Applies a batch; events on the same item are folded into one write, never raced. */
  applyBatch(events: readonly TransactionEvent[]): Promise<BatchItemResult[]>;
  /** Applies one event; throws what {@link applyBatch} would report for it. */
  apply(event: TransactionEvent): Promise<EventOutcome>;
}

export interface FeatureWriterOptions {
  /** Feature items expire this long after their last update. @default 180 days */
  ttlSeconds?: number;
  /**
   * How long an applied event id is remembered (marker TTL): a redelivery within this time
   * is counted once. Must exceed the queue's message retention and any client retry horizon.
   * @default 30 days
   */
  dedupeSeconds?: number;
  /** Attempts when another process changed an item between read and write. @default 5 */
  maxConflictRetries?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Options with defaults applied. */
export interface ResolvedWriterOptions {
  readonly ttlSeconds: number;
  readonly dedupeSeconds: number;
  readonly maxConflictRetries: number;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export function resolveWriterOptions(options: FeatureWriterOptions): ResolvedWriterOptions {
  return Object.freeze({
    ttlSeconds: options.ttlSeconds ?? 180 * 86_400,
    dedupeSeconds: options.dedupeSeconds ?? 30 * 86_400,
    maxConflictRetries: options.maxConflictRetries ?? 5,
    clock: options.clock ?? Date.now,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
  });
}

/** How one kind of item is keyed, decoded, folded and encoded. */
export interface ItemCodec<S> {
  readonly kind: 'card' | 'merchant';
  key(event: TransactionEvent): string | undefined;
  decode(item: Record<string, unknown>): S;
  encode(state: S): Record<string, unknown>;
  apply(state: S | undefined, event: TransactionEvent): Applied<S>;
}

export const CARD_CODEC: ItemCodec<CardState> = {
  kind: 'card',
  key: (event) => (event.type === 'authorization' ? cardKey(event.cardId) : undefined),
  decode: cardFromItem,
  encode: cardToAttributes,
  apply: applyCardEvent,
};

export const MERCHANT_CODEC: ItemCodec<MerchantState> = {
  kind: 'merchant',
  key: (event) => merchantKey(event.merchantId),
  decode: merchantFromItem,
  encode: merchantToAttributes,
  apply: applyMerchantEvent,
};

/** Both codecs, widened for code that handles either item kind. */
export const CODECS = [CARD_CODEC, MERCHANT_CODEC] as unknown as readonly ItemCodec<unknown>[];

/** Folds events into an item's decoded state. */
export function foldItem<S>(codec: ItemCodec<S>, state: S | undefined, events: readonly TransactionEvent[]) {
  let next = state;
  for (const event of events) next = codec.apply(next, event).state;
  return next as S;
}

/**
 * The `UpdateItem` parts that write `attributes` with a version check: the item must still
 * be at `version` (or absent when 0), and is left at `version + 1`.
 */
export function versionedUpdate(attributes: Record<string, unknown>, version: number) {
  const present = Object.entries({ ...attributes, v: version + 1 }).filter(([, v]) => v !== undefined);
  return {
    UpdateExpression: `SET ${present.map(([name]) => `#${name} = :${name}`).join(', ')}`,
    ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : '#v = :expected',
    ExpressionAttributeNames: Object.fromEntries(present.map(([name]) => [`#${name}`, name])),
    ExpressionAttributeValues: {
      ...Object.fromEntries(present.map(([name, value]) => [`:${name}`, value])),
      ...(version === 0 ? {} : { ':expected': version }),
    },
  };
}

/** The version attribute of an item read back, 0 when absent. */
export const versionOf = (item: Record<string, unknown> | undefined): number =>
  typeof item?.v === 'number' ? item.v : 0;

/**
 * Serializes work per key inside one process: a batch that touches an item waits for the
 * previous batch on that item instead of racing it and retrying blind. Keys are taken in
 * sorted order, so two holders of overlapping key sets cannot deadlock.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of sorted) releases.push(await this.acquire(key));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      // Forget the key once nobody queued behind us, so the map does not grow per card.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}

/** First occurrence of each event id, and for every input index the index of that first occurrence. */
export function firstOccurrences(events: readonly TransactionEvent[]) {
  const firstIndex = new Map<string, number>();
  const canonical = events.map((event, i) => {
    const seen = firstIndex.get(event.eventId);
    if (seen !== undefined) return seen;
    firstIndex.set(event.eventId, i);
    return i;
  });
  return { unique: [...firstIndex.values()].map((i) => events[i] as TransactionEvent), canonical };
}

/**
 * Maps results of the unique events back onto the input: a repeated id inside one batch is
 * a duplicate of its first occurrence (or fails with it).
 */
export function spreadResults(
  events: readonly TransactionEvent[],
  canonical: readonly number[],
  resultOf: (event: TransactionEvent) => BatchItemResult,
): BatchItemResult[] {
  return events.map((_, i) => {
    const result = resultOf(events[canonical[i] as number] as TransactionEvent);
    if (canonical[i] === i || !result.ok) return result;
    return {
      ok: true,
      outcome: {
        card: result.outcome.card === 'skipped' ? 'skipped' : 'duplicate',
        merchant: result.outcome.merchant === 'skipped' ? 'skipped' : 'duplicate',
      },
    } satisfies BatchItemResult;
  });
}

/** Throws the error of a one-event batch, or returns its outcome. */
export function single(results: readonly BatchItemResult[]): EventOutcome {
  const [result] = results;
  if (!result) throw new Error('no result for the event');
  if (!result.ok) throw result.error;
  return result.outcome;
}

/**
 * The common end of a batch, whichever writer applied it: stores the label record of every
 * label event that was applied (with the writer's `store`, {@link storeLabel}'s rule; a failed
 * store fails that event, so it is redelivered), then answers in input order, repeated ids as
 * duplicates of their first occurrence.
 */
export async function finishBatch(
  store: (event: LabelEvent) => Promise<void>,
  events: readonly TransactionEvent[],
  batch: { unique: readonly TransactionEvent[]; canonical: readonly number[] },
  results: Map<string, BatchItemResult>,
): Promise<BatchItemResult[]> {
  await Promise.all(
    batch.unique.map(async (event) => {
      if (event.type !== 'label' || !results.get(event.eventId)?.ok) return;
      try {
        await store(event);
      } catch (error) {
        results.set(event.eventId, { ok: false, error: asError(error) });
      }
    }),
  );
  return spreadResults(events, batch.canonical, (e) => results.get(e.eventId) as BatchItemResult);
}

/** The label record of a label event, as {@link storeLabel} writes it. */
export function labelItem(event: LabelEvent, now: number): Record<string, unknown> {
  return {
    pk: labelKey(event.transactionId),
    label: event.label,
    cardId: event.cardId,
    merchantId: event.merchantId,
    reportedAt: event.timestamp,
    transactionTimestamp: event.transactionTimestamp,
    eventId: event.eventId,
    updatedAt: now,
  };
}

/**
 * Stores a label for monitoring and retraining; the first report of a transaction wins.
 * Runs for applied *and* duplicate label events, so a crash after the aggregate write but
 * before this put is repaired by the redelivery.
 */
export async function storeLabel(
  client: DynamoDBDocumentClient,
  tableName: string,
  event: LabelEvent,
  now: number,
): Promise<void> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: labelItem(event, now),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** Turns anything thrown into an Error. */
export const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
