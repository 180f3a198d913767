/**
 * The bounded lists the feature state is made of, and the in-place operations that keep them:
 * time buckets (`[start, count, amount, …]`, the newest starts kept, ascending) and recency
 * lists (`[value, lastSeenMs, …]`, the newest values by last use, oldest first). Every
 * operation keeps the newest N by event time with ties broken by value, so any permutation of
 * the same events leaves the same list (see `features-state.ts`).
 */

/**
 * Buckets retained beyond a window's own: room for future-dated buckets (the events API
 * accepts at most a few minutes of clock skew, which reaches at most the next bucket) so
 * they never evict a bucket some current request still reads.
 */
export const BUCKET_SLACK = 2;

/** `[bucketStartMs, count, amountMinor]` */
export type Bucket = [number, number, number];
/** `[bucketStartMs, count, amountMinor, fraudLabels]` */
export type LabelledBucket = [number, number, number, number];
/** `[value, lastSeenMs]` */
export type Recency = [string, number];
/**
 * `[merchantId, lastSeenMs, previousSeenMs?]`: the use before the last is kept so a
 * future-dated use does not hide an earlier one from requests that precede it.
 */
export type MerchantUse = [string, number] | [string, number, number];

export function bucketStart(ms: number, width: number): number {
  return Math.floor(ms / width) * width;
}

/**
 * Sum of the buckets in the window that ends with the bucket holding `now`. Buckets that
 * start after `now`'s bucket are ignored, so an early event never counts against a request
 * that precedes it.
 */
export function windowSum<B extends number[]>(
  buckets: readonly B[],
  width: number,
  keep: number,
  now: number,
): { count: number; amount: number; extra: number } {
  const newest = bucketStart(now, width);
  const oldest = newest - (keep - 1) * width;
  let count = 0;
  let amount = 0;
  let extra = 0;
  for (const b of buckets) {
    const start = b[0] as number;
    if (start < oldest || start > newest) continue;
    count += b[1] as number;
    amount += b[2] as number;
    extra += (b[3] as number | undefined) ?? 0;
  }
  return { count, amount, extra };
}

/**
 * Adds `values` to the bucket holding `ms` and keeps the newest `keep + BUCKET_SLACK`
 * bucket starts, in place, ascending by start. Order-independent: the result is the newest
 * starts among all events ever added, each with the sum of its events.
 *
 * In-place folds (training export, backtests) call this three times per authorization, so it
 * touches as few buckets as it can: the search stops at the first older bucket (for events in
 * time order, at once), and a full list whose new bucket is the newest reuses the array of the
 * bucket it evicts instead of allocating one that lives for days of event time; every other
 * case is the plain push, sort and trim.
 */
export function addToBuckets<B extends number[]>(
  buckets: B[],
  ms: number,
  width: number,
  keep: number,
  values: readonly number[],
): void {
  const start = bucketStart(ms, width);
  const limit = keep + BUCKET_SLACK;
  const n = buckets.length;
  for (let i = n - 1; i >= 0; i -= 1) {
    const bucket = buckets[i] as B;
    if (bucket[0] === start) {
      for (let k = 0; k < values.length; k += 1) {
        bucket[k + 1] = ((bucket[k + 1] as number | undefined) ?? 0) + (values[k] as number);
      }
      dropOldest(buckets, limit);
      return;
    }
    // Ascending by start (every writer keeps it so): nothing further back can match.
    if ((bucket[0] as number) < start) break;
  }
  const evicted = buckets[0];
  const last = buckets[n - 1];
  let added: B;
  if (
    n === limit &&
    evicted !== undefined &&
    evicted.length === values.length + 1 &&
    ((last as B)[0] as number) < start
  ) {
    // What push-then-trim would do (no sort: the new bucket is the newest), in the evicted array.
    buckets.shift();
    added = evicted;
    added[0] = start;
  } else {
    added = [start] as B;
  }
  for (let k = 0; k < values.length; k += 1) added[k + 1] = values[k] as number;
  buckets.push(added);
  if (buckets.length > 1 && ((buckets[buckets.length - 2] as B)[0] as number) > start) {
    buckets.sort((x, y) => (x[0] as number) - (y[0] as number));
  }
  dropOldest(buckets, limit);
}

/** Removes the first entries of `list` beyond `limit`, in place (one over, the common case, without allocating). */
function dropOldest(list: unknown[], limit: number): void {
  if (list.length === limit + 1) list.shift();
  else if (list.length > limit) list.splice(0, list.length - limit);
}

/** Oldest first by time, then by value, so ties do not depend on arrival order. */
function byRecency(a: Recency | MerchantUse, b: Recency | MerchantUse): number {
  return a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/** Appends `entry` to a list kept in {@link byRecency} order and drops the oldest beyond `limit`, in place. */
function pushByRecency<E extends Recency | MerchantUse>(list: E[], entry: E, limit: number): void {
  list.push(entry);
  const n = list.length;
  if (n > 1 && byRecency(list[n - 2] as E, entry) > 0) list.sort(byRecency);
  dropOldest(list, limit);
}

/**
 * Moves the entry at `index` to the end of `list` (what `splice` then `push` does, without the
 * array `splice` returns), re-sorts if it is out of order there, and trims to `limit`.
 */
function moveToEnd<E extends Recency | MerchantUse>(list: E[], index: number, limit: number): void {
  const entry = list[index] as E;
  const n = list.length;
  for (let i = index; i < n - 1; i += 1) list[i] = list[i + 1] as E;
  list[n - 1] = entry;
  if (n > 1 && byRecency(list[n - 2] as E, entry) > 0) list.sort(byRecency);
  dropOldest(list, limit);
}

function indexOfValue(list: readonly (Recency | MerchantUse)[], value: string): number {
  for (let i = 0; i < list.length; i += 1) if ((list[i] as Recency | MerchantUse)[0] === value) return i;
  return -1;
}

/**
 * Records `value` as used at `ms` (keeping its latest use) and keeps the newest `limit`
 * values, in place. A late use never evicts a newer one: it is the oldest entry and drops first.
 * A value already listed keeps its entry (updated and moved), so a fold allocates only for new values.
 */
export function touch(list: Recency[], value: string, ms: number, limit: number): void {
  const index = indexOfValue(list, value);
  if (index < 0) {
    pushByRecency(list, [value, ms], limit);
    return;
  }
  const entry = list[index] as Recency;
  entry[1] = Math.max(entry[1], ms);
  moveToEnd(list, index, limit);
}

/**
 * Like {@link touch}, keeping the two newest uses of each merchant. (Exception to order
 * independence: a merchant evicted from a full list and used again loses its older use; that
 * only matters to requests dated before its newest use, with more than 64 merchants on a card.)
 */
export function touchMerchant(list: MerchantUse[], id: string, ms: number, limit: number): void {
  const index = indexOfValue(list, id);
  if (index < 0) {
    pushByRecency(list, [id, ms], limit);
    return;
  }
  // The two newest of `ms` and the kept uses (a third, if any, is dropped).
  const entry = list[index] as MerchantUse;
  const kept = entry[1];
  const before = entry[2];
  const low = Math.min(ms, kept);
  const high = Math.max(ms, kept);
  if (before === undefined) {
    entry[1] = high;
    entry[2] = low;
  } else {
    entry[1] = Math.max(high, before);
    entry[2] = Math.max(low, Math.min(high, before));
  }
  moveToEnd(list, index, limit);
}

/** The latest use of a merchant at or before `now`, if kept. */
export function merchantUseAtOrBefore(use: MerchantUse, now: number): number | undefined {
  if (use[1] <= now) return use[1];
  return use[2] !== undefined && use[2] <= now ? use[2] : undefined;
}

/** Inserts `ms` into an ascending list and keeps the newest `limit` entries, in place. */
export function insertTime(list: number[], ms: number, limit: number): void {
  list.push(ms);
  const n = list.length;
  if (n > 1 && (list[n - 2] as number) > ms) list.sort((a, b) => a - b);
  dropOldest(list, limit);
}
