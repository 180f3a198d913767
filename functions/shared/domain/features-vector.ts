/**
 * What the model reads: the feature definitions (names, order, defaults, meaning) and
 * {@link featureVector}, which computes them for one request from the state in
 * `features-state.ts`. Training and serving both call this; nothing here touches AWS, the
 * clock or the environment.
 *
 * Window semantics (documented because they are not exact sliding windows):
 * - "1 h" = the current 5-minute bucket and the 11 before it (covers 55–60 minutes);
 * - "24 h" = the current hourly bucket and the 23 before it (23–24 hours);
 * - "7 d" = the current UTC day and the 6 before it;
 * - "30 d" (merchant) = the current UTC day and the 29 before it.
 * Buckets that start after `now` are ignored, so an event that arrives early (clock skew)
 * never counts against a request that precedes it; likewise "seconds since last" and the
 * distinct-merchant counts read only uses at or before `now`.
 */
import {
  type CardState,
  DAY,
  type FeatureState,
  HOUR,
  lastAuthorizationAtOrBefore,
  type MerchantState,
  type MerchantUse,
  merchantUseAtOrBefore,
  type Recency,
  utcHour,
  WINDOWS,
} from './features-state';
import type { Channel, ScoreRequest } from './types';
import { CHANNELS } from './types';

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

/** The request fields the feature vector reads, with time already parsed. */
export type FeatureRequest = Pick<
  ScoreRequest,
  'cardId' | 'merchantId' | 'mcc' | 'amount' | 'country' | 'channel'
> & {
  deviceId?: string;
};

function channelCode(channel: Channel): number {
  const index = CHANNELS.indexOf(channel);
  return Math.max(index, 0);
}

/**
 * The model input for one request, in {@link FEATURES} order. Missing state yields the
 * documented defaults. `now` is the authorization time in epoch ms (the request's own
 * timestamp), so replaying history gives exactly what serving saw.
 *
 * Written as straight loops into one array: training folds millions of events through it,
 * and closures, spreads and per-window objects were most of the export's time.
 */
export function featureVector(state: FeatureState, request: FeatureRequest, now: number): number[] {
  const hour = utcHour(now);
  const vector = new Array<number>(FEATURES.length);
  vector[0] = Math.log1p(request.amount);
  vector[1] = hour;
  vector[2] = channelCode(request.channel);
  vector[3] = mccRiskTier(request.mcc);
  vector[4] = request.deviceId ? 1 : 0;
  cardFeatures(vector, 5, state.card, request, now, hour);
  merchantFeatures(vector, 5 + CARD_DEFAULTS.length, state.merchant, now);
  return vector;
}

/**
 * Sums of the window ending with `now`'s bucket (as `windowSum` in features-state.ts), written
 * to the scratch fields. Walks from the newest bucket back and stops at the first one older
 * than the window: bucket lists are ascending by start (every fold keeps them so), and a bucket
 * is a separate heap object, so each one skipped is a cache miss saved. The sums are of
 * integers, exact in any order.
 */
const sum = { count: 0, amount: 0, extra: 0 };
function windowInto(buckets: readonly number[][], width: number, keep: number, now: number): void {
  const newest = Math.floor(now / width) * width;
  const oldest = newest - (keep - 1) * width;
  let count = 0;
  let amount = 0;
  let extra = 0;
  for (let i = buckets.length - 1; i >= 0; i -= 1) {
    const b = buckets[i] as number[];
    const start = b[0] as number;
    if (start > newest) continue;
    if (start < oldest) break;
    count += b[1] as number;
    amount += b[2] as number;
    extra += b[3] ?? 0;
  }
  sum.count = count;
  sum.amount = amount;
  sum.extra = extra;
}

/**
 * Merchants used in (since, now]. Walks from the most recently used back and stops at the
 * first whose newest use is at or before `since`: the list is ascending by newest use and each
 * entry's earlier use is older still (the fold keeps both so), so no entry before it counts.
 */
function distinctMerchantsSince(merchants: readonly MerchantUse[], now: number, since: number): number {
  let n = 0;
  for (let i = merchants.length - 1; i >= 0; i -= 1) {
    const use = merchants[i] as MerchantUse;
    if (use[1] <= since) break;
    if ((merchantUseAtOrBefore(use, now) ?? since) > since) n += 1;
  }
  return n;
}

function hasValue(list: readonly Recency[], value: string): boolean {
  for (let i = 0; i < list.length; i += 1) if ((list[i] as Recency)[0] === value) return true;
  return false;
}

function cardFeatures(
  out: number[],
  at: number,
  card: CardState | undefined,
  request: FeatureRequest,
  now: number,
  hour: number,
): void {
  if (!card || card.total[0] === 0) {
    for (let i = 0; i < CARD_DEFAULTS.length; i += 1) out[at + i] = CARD_DEFAULTS[i] as number;
    return;
  }
  windowInto(card.m5, WINDOWS.m5.width, WINDOWS.m5.keep, now);
  out[at] = sum.count;
  out[at + 1] = sum.amount;
  windowInto(card.h1, WINDOWS.h1.width, WINDOWS.h1.keep, now);
  out[at + 2] = sum.count;
  out[at + 3] = sum.amount;
  windowInto(card.d1, WINDOWS.d1.width, WINDOWS.d1.keep, now);
  out[at + 4] = sum.count;
  out[at + 5] = sum.amount;
  out[at + 6] = distinctMerchantsSince(card.merchants, now, now - HOUR);
  out[at + 7] = distinctMerchantsSince(card.merchants, now, now - DAY);
  const previous = lastAuthorizationAtOrBefore(card, now);
  out[at + 8] = previous === undefined ? -1 : (now - previous) / 1000;
  const mean = card.total[1] / card.total[0];
  out[at + 9] = mean > 0 ? request.amount / mean : -1;
  out[at + 10] = hasValue(card.countries, request.country) ? 0 : 1;
  out[at + 11] = request.deviceId === undefined ? -1 : hasValue(card.devices, request.deviceId) ? 0 : 1;
  out[at + 12] = Math.max(0, (now - card.firstSeen) / DAY);
  let total = 0;
  for (let i = 0; i < card.hours.length; i += 1) total += card.hours[i] as number;
  const near =
    0 +
    (card.hours[(hour - 1 + 24) % 24] ?? 0) +
    (card.hours[(hour + 24) % 24] ?? 0) +
    (card.hours[(hour + 1 + 24) % 24] ?? 0);
  out[at + 13] = total > 0 ? near / total : -1;
}

function merchantFeatures(out: number[], at: number, merchant: MerchantState | undefined, now: number): void {
  if (!merchant || merchant.d1.length === 0) {
    for (let i = 0; i < MERCHANT_DEFAULTS.length; i += 1) out[at + i] = MERCHANT_DEFAULTS[i] as number;
    return;
  }
  windowInto(merchant.h1, WINDOWS.h1.width, WINDOWS.h1.keep, now);
  out[at] = sum.count;
  windowInto(merchant.d1, WINDOWS.merchantD1.width, WINDOWS.merchantD1.keep, now);
  out[at + 1] = sum.count > 0 ? sum.extra / sum.count : -1;
}
