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
  merchantUseAtOrBefore,
  WINDOWS,
  windowSum,
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
  const distinctSince = (since: number) =>
    card.merchants.filter((use) => (merchantUseAtOrBefore(use, now) ?? since) > since).length;
  const total = card.hours.reduce((a, b) => a + b, 0);
  const near = [-1, 0, 1].reduce((sum, d) => sum + (card.hours[(hour + d + 24) % 24] ?? 0), 0);
  const mean = card.total[1] / card.total[0];
  const previous = lastAuthorizationAtOrBefore(card, now);
  return [
    m5.count,
    m5.amount,
    h1.count,
    h1.amount,
    d1.count,
    d1.amount,
    distinctSince(now - HOUR),
    distinctSince(now - DAY),
    previous === undefined ? -1 : (now - previous) / 1000,
    mean > 0 ? request.amount / mean : -1,
    card.countries.some(([c]) => c === request.country) ? 0 : 1,
    request.deviceId === undefined ? -1 : card.devices.some(([d]) => d === request.deviceId) ? 0 : 1,
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
