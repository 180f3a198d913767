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
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { MarkerReadError, UpdateConflictError } from '#domain/errors';
import type { TransactionEvent } from '#domain/types';
import { bulkWrite } from './feature-bulk-loader';
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
  type ResolvedWriterOptions,
  resolveWriterOptions,
  single,
  versionedUpdate,
  versionOf,
} from './feature-writer';

/** `[eventId, markerTtlEpochSeconds]` of an event folded in by the item's last write. */
type PendingEntry = [string, number];

/** BatchGetItem's limit on keys per request. */
const MAX_BATCH_GET = 100;

export class MarkerFeatureWriter implements FeatureWriter {
  private readonly options: ResolvedWriterOptions;
  private readonly lock = new KeyedLock();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: FeatureWriterOptions = {},
  ) {
    this.options = resolveWriterOptions(options);
  }

  async apply(event: TransactionEvent) {
    return single(await this.applyBatch([event]));
  }

  async applyBatch(events: readonly TransactionEvent[]): Promise<BatchItemResult[]> {
    const { unique, canonical } = firstOccurrences(events);
    const groups = new Map<string, { codec: ItemCodec<unknown>; events: TransactionEvent[] }>();
    for (const event of unique) {
      for (const codec of CODECS) {
        const pk = codec.key(event);
        if (pk === undefined) continue;
        const group = groups.get(pk) ?? { codec, events: [] };
        group.events.push(event);
        groups.set(pk, group);
      }
    }
    // Items are independent here: each is updated once for all of its events, in parallel
    // with the others, and serialized with any other batch on the same item.
    const perItem = new Map<string, Map<string, ItemOutcome> | Error>();
    await Promise.all(
      [...groups].map(async ([pk, group]) => {
        try {
          perItem.set(pk, await this.lock.run([pk], () => this.applyToItem(pk, group.codec, group.events)));
        } catch (error) {
          perItem.set(pk, asError(error));
        }
      }),
    );
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
    return finishBatch(
      { client: this.client, tableName: this.tableName, now: this.options.clock() },
      events,
      { unique, canonical },
      results,
    );
  }

  /** One read-check-write cycle for all events of one item, retried on version conflicts. */
  private async applyToItem(
    pk: string,
    codec: ItemCodec<unknown>,
    events: readonly TransactionEvent[],
  ): Promise<Map<string, ItemOutcome>> {
    for (let attempt = 1; ; attempt += 1) {
      const outcome = new Map<string, ItemOutcome>();
      // 1. The item first: what it holds, its version, and the ids of its last write.
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
      );
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
      const state = foldItem(codec, Item ? codec.decode(Item) : undefined, fresh);
      const attributes = {
        ...codec.encode(state),
        pending: fresh.map((e): PendingEntry => [e.eventId, markerTtl]),
        updatedAt: now,
        ttl: Math.floor(now / 1000) + this.options.ttlSeconds,
      };
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk },
            ...versionedUpdate(attributes, versionOf(Item)),
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
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

  /** Which of `keys` exist, by strongly consistent reads. */
  private async existingMarkers(keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += MAX_BATCH_GET) {
      let pending: { pk: string }[] = keys.slice(i, i + MAX_BATCH_GET).map((pk) => ({ pk }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 5) throw new MarkerReadError(`${pending.length} marker reads left unprocessed`);
        if (attempt > 0) await this.options.sleep(Math.min(500, 10 * 2 ** attempt));
        const result = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: { Keys: pending, ConsistentRead: true, ProjectionExpression: 'pk' },
            },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) found.add(item.pk as string);
        pending = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as { pk: string }[];
      }
    }
    return found;
  }

  private async putMarkers(markers: readonly Record<string, unknown>[]): Promise<void> {
    if (markers.length === 0) return;
    await bulkWrite(this.client, this.tableName, markers, { sleep: this.options.sleep });
  }
}
