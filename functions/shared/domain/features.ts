/**
 * The one feature definition shared by training and serving.
 *
 * Online state is kept per card and per merchant as time-bucketed counters, so velocity
 * features are computed at read time from one item. Training replays the simulated event
 * stream through {@link applyEvent} and asks {@link featureVector} for each authorization
 * *before* applying it; serving reads the same state from DynamoDB and calls the same
 * {@link featureVector}. Nothing here touches AWS, the clock or the environment.
 *
 * Window semantics (documented because they are not exact sliding windows):
 * - "1 h" = the current 5-minute bucket and the 11 before it (covers 55–60 minutes);
 * - "24 h" = the current hourly bucket and the 23 before it (23–24 hours);
 * - "7 d" = the current UTC day and the 6 before it;
 * - "30 d" (merchant) = the current UTC day and the 29 before it.
 * Buckets that start after `now` are ignored, so an event that arrives early (clock skew)
 * never counts against a request that precedes it.
 */
import type { AuthorizationEvent, Channel, LabelEvent, ScoreRequest, TransactionEvent } from './types';
import { CHANNELS, isFraudLabel } from './types';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Bucket widths and how many buckets each window keeps. */
export const WINDOWS = {
  m5: { width: 5 * MINUTE, keep: 12 },
  h1: { width: HOUR, keep: 24 },
  d1: { width: DAY, keep: 7 },
  merchantD1: { width: DAY, keep: 30 },
} as const;

/** Bounded sets keep an item far below DynamoDB's 400 KB limit. */
export const LIMITS = {
  countries: 16,
  devices: 8,
  merchants: 64,
  cardEventIds: 64,
  merchantEventIds: 512,
} as const;

/** `[bucketStartMs, count, amountMinor]` */
export type Bucket = [number, number, number];
/** `[bucketStartMs, count, amountMinor, fraudLabels]` */
export type LabelledBucket = [number, number, number, number];

/** Aggregates for one card (item `card#<token>`). */
export interface CardState {
  firstSeen: number;
  lastSeen: number;
  /** Lifetime count and amount, for the card's usual amount. */
  total: [number, number];
  /** Most recently used distinct countries, newest last. */
  countries: string[];
  /** Most recently used distinct device ids, newest last. */
  devices: string[];
  /** `[merchantId, lastSeenMs]`, newest last. */
  merchants: [string, number][];
  /** Lifetime authorizations per UTC hour of day (24 entries). */
  hours: number[];
  m5: Bucket[];
  h1: Bucket[];
  d1: Bucket[];
  /** Ids of recently applied events, so a redelivered event is counted once. */
  seen: string[];
}

/** Aggregates for one merchant (item `merchant#<id>`). */
export interface MerchantState {
  firstSeen: number;
  lastSeen: number;
  h1: Bucket[];
  /** Daily buckets by transaction time, with fraud labels counted in the bucket of the labelled transaction. */
  d1: LabelledBucket[];
  seen: string[];
}

/** Where a feature's value comes from, so serving knows which item it needs. */
export type FeatureSource = 'request' | 'card' | 'merchant';

/** One model input. */
export interface FeatureDefinition {
  name: string;
  source: FeatureSource;
  /**
   * The value used when the source is missing (unknown card, unreadable item). For request
   * features, which are never missing, it is the neutral reference used by reason codes.
   */
  default: number;
  description: string;
}

/** Merchant category codes that carry elevated fraud risk (quasi-cash, gambling, transfers, digital goods, electronics). */
const HIGH_RISK_MCC = new Set(['4829', '6051', '6211', '7995', '5967', '5816', '5732', '7801', '7802']);
/** Card-not-present heavy categories with moderate risk. */
const MEDIUM_RISK_MCC = new Set(['5942', '5999', '4511', '4722', '5045', '5094', '5944', '7011', '5311']);

/** 0 = low, 1 = medium, 2 = high. */
export function mccRiskTier(mcc: string): number {
  if (HIGH_RISK_MCC.has(mcc)) return 2;
  if (MEDIUM_RISK_MCC.has(mcc)) return 1;
  return 0;
}

/**
 * The model's inputs, in order. Changing names, order, defaults or semantics changes
 * {@link FEATURE_SPEC_VERSION}; a model trained on another version is refused at load.
 */
export const FEATURES: readonly FeatureDefinition[] = Object.freeze([
  {
    name: 'amount_log',
    source: 'request',
    default: Math.log1p(2500),
    description: 'ln(1 + amount in minor units)',
  },
  { name: 'hour_of_day', source: 'request', default: 12, description: 'UTC hour of the authorization, 0–23' },
  {
    name: 'channel_code',
    source: 'request',
    default: 0,
    description: 'card_present=0, ecommerce=1, moto=2, contactless=3',
  },
  {
    name: 'mcc_risk_tier',
    source: 'request',
    default: 0,
    description: 'merchant category risk: 0 low, 1 medium, 2 high',
  },
  { name: 'has_device', source: 'request', default: 0, description: '1 if the request carries a deviceId' },
  {
    name: 'card_count_1h',
    source: 'card',
    default: 0,
    description: 'authorizations on the card in the last hour',
  },
  {
    name: 'card_amount_1h',
    source: 'card',
    default: 0,
    description: 'amount on the card in the last hour (minor units)',
  },
  {
    name: 'card_count_24h',
    source: 'card',
    default: 0,
    description: 'authorizations on the card in the last 24 h',
  },
  { name: 'card_amount_24h', source: 'card', default: 0, description: 'amount on the card in the last 24 h' },
  {
    name: 'card_count_7d',
    source: 'card',
    default: 0,
    description: 'authorizations on the card in the last 7 days',
  },
  {
    name: 'card_amount_7d',
    source: 'card',
    default: 0,
    description: 'amount on the card in the last 7 days',
  },
  {
    name: 'card_distinct_merchants_1h',
    source: 'card',
    default: 0,
    description: 'distinct merchants the card used in the last hour (exact)',
  },
  {
    name: 'card_distinct_merchants_24h',
    source: 'card',
    default: 0,
    description: 'distinct merchants the card used in the last 24 h (exact)',
  },
  {
    name: 'card_seconds_since_last',
    source: 'card',
    default: -1,
    description: 'seconds since the card’s previous authorization; -1 if none',
  },
  {
    name: 'card_amount_ratio',
    source: 'card',
    default: -1,
    description: 'amount ÷ the card’s lifetime mean amount; -1 if no history',
  },
  {
    name: 'card_new_country',
    source: 'card',
    default: -1,
    description: '1 if the country is not among the card’s recent countries, 0 if it is, -1 if no history',
  },
  {
    name: 'card_new_device',
    source: 'card',
    default: -1,
    description:
      '1 if the deviceId is not among the card’s devices, 0 if it is, -1 if no history or no deviceId',
  },
  { name: 'card_age_days', source: 'card', default: 0, description: 'days since the card was first seen' },
  {
    name: 'card_hour_share',
    source: 'card',
    default: -1,
    description: 'share of the card’s authorizations within ±1 h of this hour of day; -1 if no history',
  },
  {
    name: 'merchant_count_24h',
    source: 'merchant',
    default: 0,
    description: 'authorizations at the merchant in 24 h',
  },
  {
    name: 'merchant_fraud_rate_30d',
    source: 'merchant',
    default: -1,
    description: 'fraud labels ÷ authorizations at the merchant over 30 days; -1 if none',
  },
]);

/** Bump when FEATURES or their semantics change. */
export const FEATURE_SPEC_VERSION = 'fs-2026-11-23.1';

export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);
export const FEATURE_DEFAULTS: readonly number[] = FEATURES.map((f) => f.default);

const defaultsOf = (source: FeatureSource) =>
  FEATURES.filter((f) => f.source === source).map((f) => f.default);
const CARD_DEFAULTS = defaultsOf('card');
const MERCHANT_DEFAULTS = defaultsOf('merchant');

/** Online state for one request: either item may be missing. */
export interface FeatureState {
  card?: CardState;
  merchant?: MerchantState;
}

/** The request fields the feature vector reads, with time already parsed. */
export type FeatureRequest = Pick<
  ScoreRequest,
  'cardId' | 'merchantId' | 'mcc' | 'amount' | 'country' | 'channel'
> & {
  deviceId?: string;
};

/** Milliseconds since the epoch of an ISO timestamp; throws on garbage so bad data is never silently bucketed. */
export function toEpochMs(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`invalid timestamp: ${iso}`);
  return ms;
}

function bucketStart(ms: number, width: number): number {
  return Math.floor(ms / width) * width;
}

/** Sum of buckets in the window ending with the bucket that holds `now`. */
function windowSum<B extends number[]>(buckets: readonly B[], width: number, keep: number, now: number) {
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
 * Adds `values` to the bucket holding `ms`, keeping only `keep` buckets back from the
 * newest one. Returns a new array; an event older than the retained window is dropped
 * (it can no longer affect any window) and `false` is returned for it.
 */
function addToBuckets<B extends number[]>(
  buckets: readonly B[],
  ms: number,
  width: number,
  keep: number,
  values: readonly number[],
): { buckets: B[]; kept: boolean } {
  const start = bucketStart(ms, width);
  const newest = Math.max(start, ...buckets.map((b) => b[0] as number));
  const oldest = newest - (keep - 1) * width;
  if (start < oldest) return { buckets: buckets.slice(), kept: false };
  const next: B[] = [];
  let found = false;
  for (const b of buckets) {
    if ((b[0] as number) < oldest) continue;
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
  return { buckets: next, kept: true };
}

/** Moves `value` to the end of a bounded most-recent-last list. */
function touch<T>(list: readonly T[], value: T, limit: number): T[] {
  const next = list.filter((v) => v !== value);
  next.push(value);
  return next.length > limit ? next.slice(next.length - limit) : next;
}

function remember(seen: readonly string[], eventId: string, limit: number): string[] {
  const next = [...seen, eventId];
  return next.length > limit ? next.slice(next.length - limit) : next;
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
    m5: [],
    h1: [],
    d1: [],
    seen: [],
  };
}

export function emptyMerchantState(): MerchantState {
  return {
    firstSeen: Number.POSITIVE_INFINITY,
    lastSeen: Number.NEGATIVE_INFINITY,
    h1: [],
    d1: [],
    seen: [],
  };
}

/** Result of applying one event to one item's state. */
export interface Applied<S> {
  state: S;
  /** False when the event was a duplicate (already in `seen`) or changed nothing. */
  applied: boolean;
}

/**
 * Applies an event to a card's state. Pure: returns a new state. Idempotent per event id
 * within the last {@link LIMITS.cardEventIds} events of the card. Out-of-order events land
 * in their own buckets; "last seen" fields only move forward in time.
 */
export function applyCardEvent(state: CardState | undefined, event: TransactionEvent): Applied<CardState> {
  const current = state ?? emptyCardState();
  if (event.type !== 'authorization' || current.seen.includes(event.eventId)) {
    return { state: current, applied: false };
  }
  const ms = toEpochMs(event.timestamp);
  const isNewest = ms >= current.lastSeen;
  const hours = current.hours.slice();
  const hour = new Date(ms).getUTCHours();
  hours[hour] = (hours[hour] ?? 0) + 1;
  const merchantSeen =
    current.merchants.find(([id]) => id === event.merchantId)?.[1] ?? Number.NEGATIVE_INFINITY;
  const merchants = current.merchants.filter(([id]) => id !== event.merchantId);
  merchants.push([event.merchantId, Math.max(ms, merchantSeen)]);
  merchants.sort((a, b) => a[1] - b[1]);
  const values = [1, event.amount];
  return {
    applied: true,
    state: {
      firstSeen: Math.min(current.firstSeen, ms),
      lastSeen: Math.max(current.lastSeen, ms),
      total: [current.total[0] + 1, current.total[1] + event.amount],
      countries: isNewest
        ? touch(current.countries, event.country, LIMITS.countries)
        : addIfRoom(current.countries, event.country, LIMITS.countries),
      devices:
        event.deviceId === undefined
          ? current.devices.slice()
          : isNewest
            ? touch(current.devices, event.deviceId, LIMITS.devices)
            : addIfRoom(current.devices, event.deviceId, LIMITS.devices),
      merchants:
        merchants.length > LIMITS.merchants
          ? merchants.slice(merchants.length - LIMITS.merchants)
          : merchants,
      hours,
      m5: addToBuckets(current.m5, ms, WINDOWS.m5.width, WINDOWS.m5.keep, values).buckets,
      h1: addToBuckets(current.h1, ms, WINDOWS.h1.width, WINDOWS.h1.keep, values).buckets,
      d1: addToBuckets(current.d1, ms, WINDOWS.d1.width, WINDOWS.d1.keep, values).buckets,
      seen: remember(current.seen, event.eventId, LIMITS.cardEventIds),
    },
  };
}

/** A late event must not evict newer entries from a bounded recency list. */
function addIfRoom<T>(list: readonly T[], value: T, limit: number): T[] {
  if (list.includes(value) || list.length >= limit) return list.slice();
  return [value, ...list];
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
  if (current.seen.includes(event.eventId)) return { state: current, applied: false };
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
      h1: addToBuckets(current.h1, ms, WINDOWS.h1.width, WINDOWS.h1.keep, [1, event.amount]).buckets,
      d1: addToBuckets(current.d1, ms, width, keep, [1, event.amount, 0]).buckets,
      seen: remember(current.seen, event.eventId, LIMITS.merchantEventIds),
    },
  };
}

function applyMerchantLabel(current: MerchantState, event: LabelEvent): Applied<MerchantState> {
  if (!isFraudLabel(event.label)) {
    return {
      applied: true,
      state: { ...current, seen: remember(current.seen, event.eventId, LIMITS.merchantEventIds) },
    };
  }
  const ms = toEpochMs(event.transactionTimestamp);
  const { width, keep } = WINDOWS.merchantD1;
  return {
    applied: true,
    state: {
      ...current,
      d1: addToBuckets(current.d1, ms, width, keep, [0, 0, 1]).buckets,
      seen: remember(current.seen, event.eventId, LIMITS.merchantEventIds),
    },
  };
}

/** Applies an event to both items it touches. */
export function applyEvent(state: FeatureState, event: TransactionEvent): FeatureState {
  return {
    card: applyCardEvent(state.card, event).state,
    merchant: applyMerchantEvent(state.merchant, event).state,
  };
}

function channelCode(channel: Channel): number {
  const index = CHANNELS.indexOf(channel);
  return Math.max(index, 0);
}

/**
 * The model input for one request, in {@link FEATURES} order. Missing state yields the
 * documented defaults. `now` is the authorization time in epoch ms (the request's own
 * timestamp), so replaying history gives exactly what serving saw.
 */
export function featureVector(state: FeatureState, request: FeatureRequest, now: number): number[] {
  const hour = new Date(now).getUTCHours();
  const vector: number[] = [
    Math.log1p(request.amount),
    hour,
    channelCode(request.channel),
    mccRiskTier(request.mcc),
    request.deviceId ? 1 : 0,
    ...cardFeatures(state.card, request, now, hour),
    ...merchantFeatures(state.merchant, now),
  ];
  return vector;
}

function cardFeatures(
  card: CardState | undefined,
  request: FeatureRequest,
  now: number,
  hour: number,
): number[] {
  if (!card || card.total[0] === 0) return CARD_DEFAULTS.slice();
  const m5 = windowSum(card.m5, WINDOWS.m5.width, WINDOWS.m5.keep, now);
  const h1 = windowSum(card.h1, WINDOWS.h1.width, WINDOWS.h1.keep, now);
  const d1 = windowSum(card.d1, WINDOWS.d1.width, WINDOWS.d1.keep, now);
  const distinctSince = (since: number) => card.merchants.filter(([, t]) => t > since && t <= now).length;
  const total = card.hours.reduce((a, b) => a + b, 0);
  const near = [-1, 0, 1].reduce((sum, d) => sum + (card.hours[(hour + d + 24) % 24] ?? 0), 0);
  const mean = card.total[1] / card.total[0];
  return [
    m5.count,
    m5.amount,
    h1.count,
    h1.amount,
    d1.count,
    d1.amount,
    distinctSince(now - HOUR),
    distinctSince(now - DAY),
    card.lastSeen <= now ? (now - card.lastSeen) / 1000 : 0,
    mean > 0 ? request.amount / mean : -1,
    card.countries.includes(request.country) ? 0 : 1,
    request.deviceId === undefined ? -1 : card.devices.includes(request.deviceId) ? 0 : 1,
    Math.max(0, (now - card.firstSeen) / DAY),
    total > 0 ? near / total : -1,
  ];
}

function merchantFeatures(merchant: MerchantState | undefined, now: number): number[] {
  if (!merchant || merchant.d1.length === 0) return MERCHANT_DEFAULTS.slice();
  const h1 = windowSum(merchant.h1, WINDOWS.h1.width, WINDOWS.h1.keep, now);
  const d30 = windowSum(merchant.d1, WINDOWS.merchantD1.width, WINDOWS.merchantD1.keep, now);
  return [h1.count, d30.count > 0 ? d30.extra / d30.count : -1];
}
