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
 * bucket starts. Returns a new array, ascending by start. Order-independent: the result is
 * the newest starts among all events ever added, each with the sum of its events.
 */
function addToBuckets<B extends number[]>(
  buckets: readonly B[],
  ms: number,
  width: number,
  keep: number,
  values: readonly number[],
): B[] {
  const start = bucketStart(ms, width);
  const next: B[] = [];
  let found = false;
  for (const b of buckets) {
    if (b[0] === start) {
      const merged = b.slice() as B;
      values.forEach((v, i) => {
        merged[i + 1] = ((merged[i + 1] as number | undefined) ?? 0) + v;
      });
      next.push(merged);
      found = true;
    } else {
      next.push(b.slice() as B);
    }
  }
  if (!found) next.push([start, ...values] as B);
  next.sort((a, b) => (a[0] as number) - (b[0] as number));
  const limit = keep + BUCKET_SLACK;
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/** Oldest first by time, then by value, so ties do not depend on arrival order. */
function byRecency(a: Recency, b: Recency): number {
  return a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/**
 * Records `value` as used at `ms` (keeping its latest use) and keeps the newest `limit`
 * values. A late use never evicts a newer one: it is the oldest entry and drops first.
 */
function touch(list: readonly Recency[], value: string, ms: number, limit: number): Recency[] {
  const previous = list.find(([v]) => v === value)?.[1] ?? Number.NEGATIVE_INFINITY;
  const next: Recency[] = list.filter(([v]) => v !== value).map(([v, t]) => [v, t]);
  next.push([value, Math.max(previous, ms)]);
  next.sort(byRecency);
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/**
 * Like {@link touch}, keeping the two newest uses of each merchant. (Exception to order
 * independence: a merchant evicted from a full list and used again loses its older use; that
 * only matters to requests dated before its newest use, with more than 64 merchants on a card.)
 */
function touchMerchant(list: readonly MerchantUse[], id: string, ms: number, limit: number): MerchantUse[] {
  const entry = list.find(([v]) => v === id);
  const times = [ms, ...(entry ? entry.slice(1) : [])] as number[];
  times.sort((a, b) => b - a);
  const [newest, previous] = times as [number, number | undefined];
  const next: MerchantUse[] = list.filter(([v]) => v !== id).map((e) => e.slice() as MerchantUse);
  next.push(previous === undefined ? [id, newest] : [id, newest, previous]);
  next.sort((a, b) => byRecency([a[0], a[1]], [b[0], b[1]]));
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/** The latest use of a merchant at or before `now`, if kept. */
export function merchantUseAtOrBefore(use: MerchantUse, now: number): number | undefined {
  if (use[1] <= now) return use[1];
  return use[2] !== undefined && use[2] <= now ? use[2] : undefined;
}

/** Inserts `ms` into an ascending list and keeps the newest `limit` entries. */
function insertTime(list: readonly number[], ms: number, limit: number): number[] {
  const next = [...list, ms].sort((a, b) => a - b);
  return next.length > limit ? next.slice(next.length - limit) : next;
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

/**
 * Applies an authorization to a card's state. Pure: returns a new state. Labels do not
 * touch the card. Not idempotent by itself: callers apply each event id once.
 */
export function applyCardEvent(state: CardState | undefined, event: TransactionEvent): Applied<CardState> {
  const current = state ?? emptyCardState();
  if (event.type !== 'authorization') return { state: current, applied: false };
  const ms = toEpochMs(event.timestamp);
  const hours = current.hours.slice();
  const hour = new Date(ms).getUTCHours();
  hours[hour] = (hours[hour] ?? 0) + 1;
  const values = [1, event.amount];
  return {
    applied: true,
    state: {
      firstSeen: Math.min(current.firstSeen, ms),
      lastSeen: Math.max(current.lastSeen, ms),
      total: [current.total[0] + 1, current.total[1] + event.amount],
      countries: touch(current.countries, event.country, ms, LIMITS.countries),
      devices:
        event.deviceId === undefined
          ? current.devices.map(([v, t]) => [v, t])
          : touch(current.devices, event.deviceId, ms, LIMITS.devices),
      merchants: touchMerchant(current.merchants, event.merchantId, ms, LIMITS.merchants),
      hours,
      recent: insertTime(current.recent, ms, LIMITS.recentTimes),
      m5: addToBuckets(current.m5, ms, WINDOWS.m5.width, WINDOWS.m5.keep, values),
      h1: addToBuckets(current.h1, ms, WINDOWS.h1.width, WINDOWS.h1.keep, values),
      d1: addToBuckets(current.d1, ms, WINDOWS.d1.width, WINDOWS.d1.keep, values),
      seq: applyToRing(current.seq, event).ring,
    },
  };
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
  if (event.type === 'label') return applyMerchantLabel(current, event);
  return applyMerchantAuthorization(current, event);
}

function applyMerchantAuthorization(
  current: MerchantState,
  event: AuthorizationEvent,
): Applied<MerchantState> {
  const ms = toEpochMs(event.timestamp);
  const { width, keep } = WINDOWS.merchantD1;
  return {
    applied: true,
    state: {
      firstSeen: Math.min(current.firstSeen, ms),
      lastSeen: Math.max(current.lastSeen, ms),
      h1: addToBuckets(current.h1, ms, WINDOWS.h1.width, WINDOWS.h1.keep, [1, event.amount]),
      d1: addToBuckets(current.d1, ms, width, keep, [1, event.amount, 0]),
    },
  };
}

function applyMerchantLabel(current: MerchantState, event: LabelEvent): Applied<MerchantState> {
  // A legitimate confirmation changes no aggregate, but it is still "applied": the writers
  // record its id like any other, so a redelivery is recognised.
  if (!isFraudLabel(event.label)) return { applied: true, state: current };
  const ms = toEpochMs(event.transactionTimestamp);
  const { width, keep } = WINDOWS.merchantD1;
  return {
    applied: true,
    state: { ...current, d1: addToBuckets(current.d1, ms, width, keep, [0, 0, 1]) },
  };
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
