/**
 * Offline → online materialization: folds events into card and merchant state in memory
 * with the shared domain functions, then writes whole items with BatchWriteItem.
 * Rerunning with the same file writes the same items (safe to rerun); a later event
 * through the updater applies on top, because the updater re-reads and version-checks.
 * Bulk-loaded events get no per-event markers: a file is loaded instead of, not as well
 * as, sending its events through the updater.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BulkWriteError } from '#domain/errors';
import { FeatureReplay } from '#domain/features';
import type { TransactionEvent } from '#domain/types';
import { cardKey, merchantKey } from '#shared/table-schema';
import { cardToAttributes, merchantToAttributes } from './feature-items';

/** Holds state for every card and merchant seen while folding a stream of events (each event id once). */
export class FeatureAccumulator extends FeatureReplay {
  /** Events offered, duplicates included. */
  events = 0;

  override add(event: TransactionEvent): boolean {
    this.events += 1;
    return super.add(event);
  }

  /** Items ready to write, cards first. */
  items(now: number, ttlSeconds: number): Record<string, unknown>[] {
    const meta = { v: 1, updatedAt: now, ttl: Math.floor(now / 1000) + ttlSeconds };
    return [
      ...[...this.cards].map(([id, state]) => ({ pk: cardKey(id), ...cardToAttributes(state), ...meta })),
      ...[...this.merchants].map(([id, state]) => ({
        pk: merchantKey(id),
        ...merchantToAttributes(state),
        ...meta,
      })),
    ];
  }
}

export interface BulkWriteOptions {
  /** Retries for unprocessed items, with exponential backoff. @default 8 */
  maxRetries?: number;
  /** Called after each batch with the number of items written so far. */
  onProgress?: (written: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** Writes items in batches of 25, retrying unprocessed items with backoff. */
export function bulkWrite(
  client: DynamoDBDocumentClient,
  tableName: string,
  items: readonly Record<string, unknown>[],
  options: BulkWriteOptions = {},
): Promise<number> {
  return batchWrite(
    client,
    tableName,
    items.map((Item) => ({ PutRequest: { Item } })),
    options,
  );
}

/**
 * Deletes the items with these keys, in batches of 25 like {@link bulkWrite} (absent keys are no
 * error). The local stack removes what its priming events wrote with it.
 */
export function bulkDelete(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  options: BulkWriteOptions = {},
): Promise<number> {
  return batchWrite(
    client,
    tableName,
    keys.map((Key) => ({ DeleteRequest: { Key } })),
    options,
  );
}

type WriteRequest =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

/** Sends `all` in BatchWriteItems of 25, retrying unprocessed requests with backoff; resolves with how many went through. */
async function batchWrite(
  client: DynamoDBDocumentClient,
  tableName: string,
  all: readonly WriteRequest[],
  options: BulkWriteOptions,
): Promise<number> {
  const maxRetries = options.maxRetries ?? 8;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let written = 0;
  for (let i = 0; i < all.length; i += 25) {
    let requests = all.slice(i, i + 25);
    for (let attempt = 0; requests.length > 0; attempt += 1) {
      if (attempt > maxRetries) {
        throw new BulkWriteError(`${requests.length} items still unprocessed after ${maxRetries} retries`);
      }
      if (attempt > 0) await sleep(Math.min(2000, 25 * 2 ** attempt));
      const result = await client.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: [...requests] } }),
      );
      const left = (result.UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
      written += requests.length - left.length;
      requests = left;
    }
    options.onProgress?.(written);
  }
  return written;
}
