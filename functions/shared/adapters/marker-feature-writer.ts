/**
 * The feature writer for DynamoDB-compatible servers without transactions (dynalite, the
 * local stack). Each item is updated on its own, and the guarantee of the transactional
 * writer is kept with two records of "event X is in item I":
 * - `pending` in the item itself: the ids folded in by the item's last write, written in
 *   the same version-checked update as the aggregates (atomic with them);
 * - a marker item `applied#<I>#<X>` (TTL = dedupe time), written after that update.
 * Invariant: X is in I ⇔ X ∈ I.pending or marker(I, X) exists. An id leaves `pending` only
 * in a write whose writer first made sure its marker exists (reading it, or writing it
 * itself), so a crash between the two writes leaves X in `pending`, and the next writer or
 * the redelivery finishes the job. The item is read before the markers, so a marker written
 * before an id left `pending` is always visible to a reader that no longer sees the id.
 * Concurrent redeliveries race on the version check: one wins, the other re-reads and finds
 * the id. The full argument is in `docs/features.md`.
 */
import type {
  BatchGetItemCommandOutput,
  BatchWriteItemCommandOutput,
  DynamoDBClient,
  GetItemCommandOutput,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { BulkWriteError, MarkerReadError, UpdateConflictError } from '#domain/errors';
import type { LabelEvent, TransactionEvent } from '#domain/types';
import { type AttributeMap, fromItem, toItem } from './attribute-values';
import { asCaller, type DynamoCaller, isConditionFailure } from './dynamo-http';
import { appliedMarkerKey } from './feature-items';
import {
  asError,
  type BatchItemResult,
  CODECS,
  type FeatureWriter,
  type FeatureWriterOptions,
  finishBatch,
  firstOccurrences,
  foldItem,
  type ItemCodec,
  type ItemOutcome,
  KeyedLock,
  labelItem,
  type ResolvedWriterOptions,
  resolveWriterOptions,
  single,
  versionOf,
} from './feature-writer';

/** `[eventId, markerTtlEpochSeconds]` of an event folded in by the item's last write. */
type PendingEntry = [string, number];

/** The events of one batch that touch one item. */
interface ItemGroup {
  pk: string;
  codec: ItemCodec<unknown>;
  events: TransactionEvent[];
}

/** BatchGetItem's limit on keys per request. */
const MAX_BATCH_GET = 100;
/** BatchWriteItem's limit on items per request. */
const MAX_BATCH_WRITE = 25;
/** Retries of a marker write's unprocessed items, with exponential backoff. */
const MAX_WRITE_RETRIES = 8;
/** The two conditions of the version-checked put, built once. */
const CREATE_ONLY = 'attribute_not_exists(pk)';
const AT_VERSION = { expression: '#v = :expected', names: Object.freeze({ '#v': 'v' }) } as const;

export class MarkerFeatureWriter implements FeatureWriter {
  private readonly options: ResolvedWriterOptions;
  private readonly lock = new KeyedLock();
  private readonly dynamo: DynamoCaller;

  /**
   * @param dynamo the signed HTTP caller (`createScoringCaller`), or a raw SDK client to call
   *   through (one with `cacheMiddleware`, `createScoringClient`). This writer (un)marshals its
   *   items itself (`attribute-values.ts`): never a document client.
   */
  constructor(
    dynamo: DynamoCaller | DynamoDBClient,
    private readonly tableName: string,
    options: FeatureWriterOptions = {},
  ) {
    this.dynamo = asCaller(dynamo);
    this.options = resolveWriterOptions(options);
  }

  async apply(event: TransactionEvent) {
    return single(await this.applyBatch([event]));
  }

  async applyBatch(events: readonly TransactionEvent[]): Promise<BatchItemResult[]> {
    const { unique, canonical } = firstOccurrences(events);
    const groups = new Map<string, ItemGroup>();
    for (const event of unique) {
      for (const codec of CODECS) {
        const pk = codec.key(event);
        if (pk === undefined) continue;
        const group = groups.get(pk) ?? { pk, codec, events: [] };
        group.events.push(event);
        groups.set(pk, group);
      }
    }
    // All items of the batch at once, serialized with any other batch on the same items.
    const perItem = await this.lock.run([...groups.keys()], () => this.applyToItems([...groups.values()]));
    const results = new Map<string, BatchItemResult>();
    for (const event of unique) {
      const outcome = { card: 'skipped' as ItemOutcome, merchant: 'skipped' as ItemOutcome };
      let failure: Error | undefined;
      for (const codec of CODECS) {
        const pk = codec.key(event);
        if (pk === undefined) continue;
        const item = perItem.get(pk);
        if (item instanceof Error) failure ??= item;
        else outcome[codec.kind] = item?.get(event.eventId) ?? 'skipped';
      }
      results.set(event.eventId, failure ? { ok: false, error: failure } : { ok: true, outcome });
    }
    const now = this.options.clock();
    return finishBatch((label) => this.storeLabel(label, now), events, { unique, canonical }, results);
  }

  /**
   * The steps of {@link applyToItem} for every item of a batch together, so that each step is
   * one request for the whole batch instead of one per item (only the version-checked updates
   * stay one per item): 1. the items (one consistent BatchGetItem), 2. the markers of all
   * candidate and pending ids (one), 3. the missing markers of pending ids (one BatchWriteItem),
   * 4. the updates (in parallel), 5. the new markers (one BatchWriteItem). Step 1 completes
   * before step 2 starts, so the per-item read order the invariant needs is kept. An item whose
   * update meets a version conflict starts over alone ({@link applyToItem}); a failed step
   * fails only the items it was for.
   */
  private async applyToItems(
    groups: readonly ItemGroup[],
  ): Promise<Map<string, Map<string, ItemOutcome> | Error>> {
    const perItem = new Map<string, Map<string, ItemOutcome> | Error>();
    const fail = (pks: Iterable<string>, error: unknown) => {
      for (const pk of pks) perItem.set(pk, asError(error));
    };
    // 1. The items first.
    let items: Map<string, Record<string, unknown>>;
    try {
      items = await this.readItems(groups.map((g) => g.pk));
    } catch (error) {
      fail(
        groups.map((g) => g.pk),
        error,
      );
      return perItem;
    }
    const plans = groups.map((group) => {
      const item = items.get(group.pk);
      const pending = (Array.isArray(item?.pending) ? item.pending : []) as PendingEntry[];
      const inItem = new Set(pending.map(([id]) => id));
      const outcome = new Map<string, ItemOutcome>();
      const candidates = group.events.filter((event) => {
        if (inItem.has(event.eventId)) outcome.set(event.eventId, 'duplicate');
        return !inItem.has(event.eventId);
      });
      return { group, item, pending, outcome, candidates };
    });
    // 2. Then the markers of every item's candidates and pending ids.
    let present: Set<string>;
    try {
      present = await this.existingMarkers(
        plans.flatMap(({ group, candidates, pending }) => [
          ...candidates.map((e) => appliedMarkerKey(group.pk, e.eventId)),
          ...pending.map(([id]) => appliedMarkerKey(group.pk, id)),
        ]),
      );
    } catch (error) {
      fail(
        groups.map((g) => g.pk),
        error,
      );
      return perItem;
    }
    // 3. Finish what a crashed or concurrent writer left, for every item at once.
    const leftover = plans.filter(({ group, pending }) =>
      pending.some(([id]) => !present.has(appliedMarkerKey(group.pk, id))),
    );
    try {
      await this.putMarkers(
        leftover.flatMap(({ group, pending }) =>
          pending
            .filter(([id]) => !present.has(appliedMarkerKey(group.pk, id)))
            .map(([id, markerTtl]) => ({ pk: appliedMarkerKey(group.pk, id), ttl: markerTtl })),
        ),
      );
    } catch (error) {
      // Only these items may not drop their pending ids; the others go on.
      fail(
        leftover.map((p) => p.group.pk),
        error,
      );
    }
    // 4. One version-checked update per item with fresh events.
    const now = this.options.clock();
    const markerTtl = Math.floor(now / 1000) + this.options.dedupeSeconds;
    const written: { pk: string; fresh: TransactionEvent[]; outcome: Map<string, ItemOutcome> }[] = [];
    await Promise.all(
      plans.map(async ({ group, item, outcome, candidates }) => {
        if (perItem.has(group.pk)) return;
        const fresh = candidates.filter((event) => {
          const applied = present.has(appliedMarkerKey(group.pk, event.eventId));
          if (applied) outcome.set(event.eventId, 'duplicate');
          return !applied;
        });
        if (fresh.length === 0) {
          perItem.set(group.pk, outcome);
          return;
        }
        try {
          await this.update(group.pk, group.codec, item, fresh, now, markerTtl);
          written.push({ pk: group.pk, fresh, outcome });
        } catch (error) {
          if (!isConditionFailure(error)) return fail([group.pk], error);
          // Another process wrote the item since step 1: this item starts over on its own.
          try {
            if (this.options.maxConflictRetries <= 1) {
              throw new UpdateConflictError(`gave up on ${group.pk} after 1 conflicting write`, {
                cause: error,
              });
            }
            perItem.set(group.pk, await this.applyToItem(group.pk, group.codec, group.events, 2));
          } catch (retryError) {
            fail([group.pk], retryError);
          }
        }
      }),
    );
    // 5. The new markers of every written item; if this fails, their ids stay in `pending` (step 3).
    try {
      await this.putMarkers(
        written.flatMap(({ pk, fresh }) =>
          fresh.map((e) => ({ pk: appliedMarkerKey(pk, e.eventId), ttl: markerTtl })),
        ),
      );
      for (const { pk, fresh, outcome } of written) {
        for (const event of fresh) outcome.set(event.eventId, 'applied');
        perItem.set(pk, outcome);
      }
    } catch (error) {
      fail(
        written.map((w) => w.pk),
        error,
      );
    }
    return perItem;
  }

  /** One read-check-write cycle for all events of one item, retried on version conflicts. */
  private async applyToItem(
    pk: string,
    codec: ItemCodec<unknown>,
    events: readonly TransactionEvent[],
    firstAttempt = 1,
  ): Promise<Map<string, ItemOutcome>> {
    for (let attempt = firstAttempt; ; attempt += 1) {
      const outcome = new Map<string, ItemOutcome>();
      // 1. The item first: what it holds, its version, and the ids of its last write.
      const { Item: raw } = await this.dynamo.call<GetItemCommandOutput>('GetItem', {
        TableName: this.tableName,
        Key: { pk: { S: pk } },
        ConsistentRead: true,
      });
      const Item = raw ? fromItem(raw) : undefined;
      const pending = (Array.isArray(Item?.pending) ? Item.pending : []) as PendingEntry[];
      const inItem = new Set(pending.map(([id]) => id));
      const candidates = events.filter((event) => {
        if (inItem.has(event.eventId)) outcome.set(event.eventId, 'duplicate');
        return !inItem.has(event.eventId);
      });
      // 2. Then the markers of our events and of the item's pending ids.
      const present = await this.existingMarkers([
        ...candidates.map((e) => appliedMarkerKey(pk, e.eventId)),
        ...pending.map(([id]) => appliedMarkerKey(pk, id)),
      ]);
      const fresh = candidates.filter((event) => {
        const applied = present.has(appliedMarkerKey(pk, event.eventId));
        if (applied) outcome.set(event.eventId, 'duplicate');
        return !applied;
      });
      // 3. Finish what a crashed or concurrent writer left: markers for pending ids, so our
      //    write may drop them from `pending`.
      await this.putMarkers(
        pending
          .filter(([id]) => !present.has(appliedMarkerKey(pk, id)))
          .map(([id, markerTtl]) => ({ pk: appliedMarkerKey(pk, id), ttl: markerTtl })),
      );
      if (fresh.length === 0) return outcome;
      // 4. Aggregates and the new pending ids in one version-checked update.
      const now = this.options.clock();
      const markerTtl = Math.floor(now / 1000) + this.options.dedupeSeconds;
      try {
        await this.update(pk, codec, Item, fresh, now, markerTtl);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Another process wrote the item since step 1: start over from its new version.
        if (attempt >= this.options.maxConflictRetries) {
          throw new UpdateConflictError(`gave up on ${pk} after ${attempt} conflicting writes`, {
            cause: error,
          });
        }
        continue;
      }
      // 5. Our own markers; if we crash before this, the ids stay in `pending` (step 3).
      await this.putMarkers(fresh.map((e) => ({ pk: appliedMarkerKey(pk, e.eventId), ttl: markerTtl })));
      for (const event of fresh) outcome.set(event.eventId, 'applied');
      return outcome;
    }
  }

  /** Step 4: the aggregates with `fresh` folded in and the new pending ids, in one version-checked update. */
  private async update(
    pk: string,
    codec: ItemCodec<unknown>,
    item: Record<string, unknown> | undefined,
    fresh: readonly TransactionEvent[],
    now: number,
    markerTtl: number,
  ): Promise<void> {
    const state = foldItem(codec, item ? codec.decode(item) : undefined, fresh);
    const attributes = {
      ...codec.encode(state),
      pending: fresh.map((e): PendingEntry => [e.eventId, markerTtl]),
      updatedAt: now,
      ttl: Math.floor(now / 1000) + this.options.ttlSeconds,
    };
    // The whole item, as the bulk loader writes it: a conditional put costs dynalite less than an
    // update expression that sets every attribute, and leaves the same item.
    const version = versionOf(item);
    await this.dynamo.call('PutItem', {
      TableName: this.tableName,
      Item: toItem({ pk, ...attributes, v: version + 1 }),
      ...(version === 0
        ? { ConditionExpression: CREATE_ONLY }
        : {
            ConditionExpression: AT_VERSION.expression,
            ExpressionAttributeNames: AT_VERSION.names,
            ExpressionAttributeValues: { ':expected': { N: String(version) } },
          }),
    });
  }

  /** The items with these keys that exist, by strongly consistent reads (absent keys are left out). */
  private async readItems(keys: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    await this.batchRead(keys, (item) => found.set(item.pk?.S as string, fromItem(item)));
    return found;
  }

  /**
   * Which of `keys` exist, by strongly consistent reads. Whole marker items (`pk` and `ttl`), not
   * a projection of `pk`: the same read capacity for an item this small, and dynalite parses a
   * projection expression on every request.
   */
  private async existingMarkers(keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    await this.batchRead(keys, (item) => found.add(item.pk?.S as string));
    return found;
  }

  /** Consistent BatchGetItem of `keys` in chunks of 100, unprocessed keys retried with backoff. */
  private async batchRead(keys: readonly string[], onItem: (item: AttributeMap) => void): Promise<void> {
    for (let i = 0; i < keys.length; i += MAX_BATCH_GET) {
      let pending: AttributeMap[] = keys.slice(i, i + MAX_BATCH_GET).map((pk) => ({ pk: { S: pk } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 5) throw new MarkerReadError(`${pending.length} consistent reads left unprocessed`);
        if (attempt > 0) await this.options.sleep(Math.min(500, 10 * 2 ** attempt));
        const result = await this.dynamo.call<BatchGetItemCommandOutput>('BatchGetItem', {
          RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
        });
        for (const item of result.Responses?.[this.tableName] ?? []) onItem(item);
        pending = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
  }

  /** Marker items in BatchWriteItems of 25, unprocessed items retried with backoff. */
  private async putMarkers(markers: readonly { pk: string; ttl: number }[]): Promise<void> {
    for (let i = 0; i < markers.length; i += MAX_BATCH_WRITE) {
      let requests: WriteRequest[] = markers.slice(i, i + MAX_BATCH_WRITE).map(({ pk, ttl }) => ({
        PutRequest: { Item: { pk: { S: pk }, ttl: { N: String(ttl) } } },
      }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt > MAX_WRITE_RETRIES) {
          throw new BulkWriteError(
            `${requests.length} markers still unprocessed after ${MAX_WRITE_RETRIES} retries`,
          );
        }
        if (attempt > 0) await this.options.sleep(Math.min(2000, 25 * 2 ** attempt));
        const result = await this.dynamo.call<BatchWriteItemCommandOutput>('BatchWriteItem', {
          RequestItems: { [this.tableName]: requests },
        });
        requests = result.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  /** {@link storeLabel}'s item, written through this writer's caller. */
  private async storeLabel(event: LabelEvent, now: number): Promise<void> {
    try {
      await this.dynamo.call('PutItem', {
        TableName: this.tableName,
        Item: toItem(labelItem(event, now)),
        ConditionExpression: CREATE_ONLY,
      });
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
