/**
 * Online feature state: the per-card and per-merchant aggregates and the pure fold
 * {@link applyEvent} that moves them forward. What the model reads from this state is in
 * `features-vector.ts`; both are re-exported by `features.ts`.
 *
 * The state is designed so the arrival order of events does not matter:
 * - every bounded list keeps the *newest N by event time* (ties broken by value), and every
 *   counter is a sum, so any permutation of the same events yields the same state;
 * - bucket lists are bounded by count, never pruned relative to the newest bucket: a
 *   future-dated event adds one bucket and can evict only the oldest one, which
 *   {@link BUCKET_SLACK} keeps outside every current window. (Pruning anchored on the newest
 *   bucket let one event dated two hours ahead erase the last hour for every request before
 *   it.) Which buckets count for a request is decided at read time from the request's own
 *   time;
 * - "seconds since last" reads the newest authorization *at or before* the request, from a
 *   short list of the newest authorization times, so a future event cannot zero it.
 *
 * Late events land in their own buckets. An event older than every retained bucket of a
 * full list is dropped from that list (it can no longer fall in any window) but still counts
 * in the lifetime fields (`total`, `hours`, `firstSeen`).
 *
 * Exactly-once is not this module's job: {@link applyEvent} is a plain fold and counts an
 * event each time it is given one. The writers keep one durable marker per applied event id
 * (see `docs/features.md`); {@link FeatureReplay} does the same in memory for offline folds.
 */
import { applyToRing, type RingStep } from './sequence';
import type { AuthorizationEvent, LabelEvent, TransactionEvent } from './types';
import { isFraudLabel } from './types';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Bucket widths and how many buckets each window reads. */
export const WINDOWS = {
  m5: { width: 5 * MINUTE, keep: 12 },
  h1: { width: HOUR, keep: 24 },
  d1: { width: DAY, keep: 7 },
  merchantD1: { width: DAY, keep: 30 },
} as const;

/**
 * Buckets retained beyond a window's own: room for future-dated buckets (the events API
 * accepts at most a few minutes of clock skew, which reaches at most the next bucket) so
 * they never evict a bucket some current request still reads.
 */
export const BUCKET_SLACK = 2;

/** Bounded lists keep an item far below DynamoDB's 400 KB limit. */
export const LIMITS = {
  countries: 16,
  devices: 8,
  merchants: 64,
  /** Newest authorization times kept for "seconds since last". */
  recentTimes: 4,
} as const;

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

/** Aggregates for one card (item `card#<token>`). */
export interface CardState {
  firstSeen: number;
  lastSeen: number;
  /** Lifetime count and amount, for the card's usual amount. */
  total: [number, number];
  /** The newest distinct countries by last use, oldest first. */
  countries: Recency[];
  /** The newest distinct device ids by last use, oldest first. */
  devices: Recency[];
  /** The newest distinct merchants by last use, oldest first. */
  merchants: MerchantUse[];
  /** Lifetime authorizations per UTC hour of day (24 entries). */
  hours: number[];
  /** The newest authorization times, ascending. */
  recent: number[];
  m5: Bucket[];
  h1: Bucket[];
  d1: Bucket[];
  /**
   * The newest authorizations as compact steps, for the sequence model (`sequence.ts`).
   * Kept by the same fold as the aggregates, so every writer and the training replay build
   * the same ring; absent on items written before the ring existed (read as empty).
   */
  seq?: RingStep[];
}

/** Aggregates for one merchant (item `merchant#<id>`). */
export interface MerchantState {
  firstSeen: number;
  lastSeen: number;
  h1: Bucket[];
  /** Daily buckets by transaction time, with fraud labels counted in the bucket of the labelled transaction. */
  d1: LabelledBucket[];
}

/** Online state for one request: either item may be missing. */
export interface FeatureState {
  card?: CardState;
  merchant?: MerchantState;
}

/** Milliseconds since the epoch of an ISO timestamp; throws on garbage so bad data is never silently bucketed. */
export function toEpochMs(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`invalid timestamp: ${iso}`);
  return ms;
}

function bucketStart(ms: number, width: number): number {
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
function addToBuckets<B extends number[]>(
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
function touch(list: Recency[], value: string, ms: number, limit: number): void {
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
function touchMerchant(list: MerchantUse[], id: string, ms: number, limit: number): void {
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
function insertTime(list: number[], ms: number, limit: number): void {
  list.push(ms);
  const n = list.length;
  if (n > 1 && (list[n - 2] as number) > ms) list.sort((a, b) => a - b);
  dropOldest(list, limit);
}

/** The newest authorization at or before `now`, or undefined when none is known. */
export function lastAuthorizationAtOrBefore(card: CardState, now: number): number | undefined {
  for (let i = card.recent.length - 1; i >= 0; i -= 1) {
    const t = card.recent[i] as number;
    if (t <= now) return t;
  }
  // Older than every kept time: only possible when `recent` is full of later events.
  return card.recent.length < LIMITS.recentTimes && card.lastSeen <= now ? card.lastSeen : undefined;
}

export function emptyCardState(): CardState {
  return {
    firstSeen: Number.POSITIVE_INFINITY,
    lastSeen: Number.NEGATIVE_INFINITY,
    total: [0, 0],
    countries: [],
    devices: [],
    merchants: [],
    hours: new Array(24).fill(0),
    recent: [],
    m5: [],
    h1: [],
    d1: [],
  };
}

export function emptyMerchantState(): MerchantState {
  return {
    firstSeen: Number.POSITIVE_INFINITY,
    lastSeen: Number.NEGATIVE_INFINITY,
    h1: [],
    d1: [],
  };
}

/** Result of applying one event to one item's state. */
export interface Applied<S> {
  state: S;
  /** False when the event does not concern this item (a label on a card). */
  applied: boolean;
}

/** A deep copy of a card's state, so the pure folds below never touch their input. */
export function cloneCardState(card: CardState): CardState {
  return {
    firstSeen: card.firstSeen,
    lastSeen: card.lastSeen,
    total: [card.total[0], card.total[1]],
    countries: card.countries.map(([v, t]) => [v, t]),
    devices: card.devices.map(([v, t]) => [v, t]),
    merchants: card.merchants.map((use) => use.slice() as MerchantUse),
    hours: card.hours.slice(),
    recent: card.recent.slice(),
    m5: card.m5.map((b) => b.slice() as Bucket),
    h1: card.h1.map((b) => b.slice() as Bucket),
    d1: card.d1.map((b) => b.slice() as Bucket),
    ...(card.seq !== undefined && { seq: card.seq.slice() }),
  };
}

/** A deep copy of a merchant's state. */
export function cloneMerchantState(merchant: MerchantState): MerchantState {
  return {
    firstSeen: merchant.firstSeen,
    lastSeen: merchant.lastSeen,
    h1: merchant.h1.map((b) => b.slice() as Bucket),
    d1: merchant.d1.map((b) => b.slice() as LabelledBucket),
  };
}

/**
 * Applies an authorization to a card's state. Pure: returns a new state. Labels do not
 * touch the card. Not idempotent by itself: callers apply each event id once.
 */
export function applyCardEvent(state: CardState | undefined, event: TransactionEvent): Applied<CardState> {
  const current = state ?? emptyCardState();
  if (event.type !== 'authorization') return { state: current, applied: false };
  const ms = toEpochMs(event.timestamp);
  const next = state === undefined ? current : cloneCardState(current);
  foldCardAuthorization(next, event, ms);
  return { applied: true, state: next };
}

/**
 * The mutating core of {@link applyCardEvent}: applies an authorization dated `ms` to `card`
 * in place. For offline folds that own their state (training export, backtests), where
 * copying every list per event would dominate; everything else uses the pure form, which
 * runs this same code on a copy, so both give identical states.
 */
export function foldCardAuthorization(card: CardState, event: AuthorizationEvent, ms: number): void {
  foldCardAggregates(card, event, ms);
  card.seq = applyToRing(card.seq, event).ring;
}

/** The fields of an authorization that the card aggregates read. */
export type CardAuthorization = Pick<AuthorizationEvent, 'amount' | 'country' | 'deviceId' | 'merchantId'>;

/**
 * {@link foldCardAuthorization} without the sequence ring (`seq`): every aggregate the tree
 * features read, and nothing else. For offline folds that never read the ring (the tree
 * model's training export): the ring copies up to 32 steps per authorization (about 6 µs of
 * CPU each, measured), garbage the export has no use for. The aggregates are the same code
 * either way.
 */
export function foldCardAggregates(card: CardState, event: CardAuthorization, ms: number): void {
  const hour = utcHour(ms);
  card.hours[hour] = (card.hours[hour] ?? 0) + 1;
  card.firstSeen = Math.min(card.firstSeen, ms);
  card.lastSeen = Math.max(card.lastSeen, ms);
  card.total[0] += 1;
  card.total[1] += event.amount;
  touch(card.countries, event.country, ms, LIMITS.countries);
  if (event.deviceId !== undefined) touch(card.devices, event.deviceId, ms, LIMITS.devices);
  touchMerchant(card.merchants, event.merchantId, ms, LIMITS.merchants);
  insertTime(card.recent, ms, LIMITS.recentTimes);
  const values = [1, event.amount];
  addToBuckets(card.m5, ms, WINDOWS.m5.width, WINDOWS.m5.keep, values);
  addToBuckets(card.h1, ms, WINDOWS.h1.width, WINDOWS.h1.keep, values);
  addToBuckets(card.d1, ms, WINDOWS.d1.width, WINDOWS.d1.keep, values);
}

/** UTC hour of day of epoch milliseconds (same as `new Date(ms).getUTCHours()`, without the allocation). */
export function utcHour(ms: number): number {
  return ((Math.floor(ms / HOUR) % 24) + 24) % 24;
}

/**
 * Applies an event to a merchant's state: authorizations count into hourly and daily
 * buckets; fraud labels count into the daily bucket of the labelled transaction's time.
 */
export function applyMerchantEvent(
  state: MerchantState | undefined,
  event: TransactionEvent,
): Applied<MerchantState> {
  const current = state ?? emptyMerchantState();
  if (event.type === 'label') {
    // A legitimate confirmation changes no aggregate, but it is still "applied": the writers
    // record its id like any other, so a redelivery is recognised.
    if (!isFraudLabel(event.label)) return { applied: true, state: current };
    const next = state === undefined ? current : cloneMerchantState(current);
    foldMerchantLabel(next, event, toEpochMs(event.transactionTimestamp));
    return { applied: true, state: next };
  }
  const next = state === undefined ? current : cloneMerchantState(current);
  foldMerchantAuthorization(next, event, toEpochMs(event.timestamp));
  return { applied: true, state: next };
}

/** The mutating core of {@link applyMerchantEvent} for an authorization dated `ms` (see {@link foldCardAuthorization}). */
export function foldMerchantAuthorization(
  merchant: MerchantState,
  event: AuthorizationEvent,
  ms: number,
): void {
  merchant.firstSeen = Math.min(merchant.firstSeen, ms);
  merchant.lastSeen = Math.max(merchant.lastSeen, ms);
  addToBuckets(merchant.h1, ms, WINDOWS.h1.width, WINDOWS.h1.keep, [1, event.amount]);
  addToBuckets(merchant.d1, ms, WINDOWS.merchantD1.width, WINDOWS.merchantD1.keep, [1, event.amount, 0]);
}

/**
 * The mutating core of {@link applyMerchantEvent} for a label whose transaction is dated
 * `transactionMs`: a fraud label counts into that day's bucket; other labels change nothing.
 */
export function foldMerchantLabel(merchant: MerchantState, event: LabelEvent, transactionMs: number): void {
  if (!isFraudLabel(event.label)) return;
  addToBuckets(merchant.d1, transactionMs, WINDOWS.merchantD1.width, WINDOWS.merchantD1.keep, [0, 0, 1]);
}

/** Applies an event to both items it touches. */
export function applyEvent(state: FeatureState, event: TransactionEvent): FeatureState {
  return {
    card: applyCardEvent(state.card, event).state,
    merchant: applyMerchantEvent(state.merchant, event).state,
  };
}

/**
 * Folds a stream of events into per-card and per-merchant state in memory, applying each
 * event id once however often it appears: the offline counterpart of the writers' durable
 * per-event markers (bulk loading, tests). The id set is unbounded; it lives only as long
 * as one fold.
 */
export class FeatureReplay {
  readonly cards = new Map<string, CardState>();
  readonly merchants = new Map<string, MerchantState>();
  private readonly applied = new Set<string>();

  /** Applies `event` unless its id was applied before; returns whether it was applied. */
  add(event: TransactionEvent): boolean {
    if (this.applied.has(event.eventId)) return false;
    this.applied.add(event.eventId);
    if (event.type === 'authorization') {
      this.cards.set(event.cardId, applyCardEvent(this.cards.get(event.cardId), event).state);
    }
    this.merchants.set(
      event.merchantId,
      applyMerchantEvent(this.merchants.get(event.merchantId), event).state,
    );
    return true;
  }

  /** The state a request on this card and merchant would read. */
  stateFor(cardId: string, merchantId: string): FeatureState {
    return { card: this.cards.get(cardId), merchant: this.merchants.get(merchantId) };
  }
}
