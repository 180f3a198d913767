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
import {
  addToBuckets,
  BUCKET_SLACK,
  type Bucket,
  insertTime,
  type LabelledBucket,
  type MerchantUse,
  merchantUseAtOrBefore,
  type Recency,
  touch,
  touchMerchant,
  windowSum,
} from './features-lists';
import { applyToRing, type RingStep } from './sequence';

export {
  BUCKET_SLACK,
  type Bucket,
  type LabelledBucket,
  type MerchantUse,
  merchantUseAtOrBefore,
  type Recency,
  windowSum,
};

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

/** Bounded lists keep an item far below DynamoDB's 400 KB limit. */
export const LIMITS = {
  countries: 16,
  devices: 8,
  merchants: 64,
  /** Newest authorization times kept for "seconds since last". */
  recentTimes: 4,
} as const;

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
