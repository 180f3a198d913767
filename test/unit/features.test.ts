import {
  applyCardEvent,
  applyEvent,
  applyMerchantEvent,
  BUCKET_SLACK,
  FEATURE_DEFAULTS,
  FEATURE_NAMES,
  FEATURES,
  FeatureReplay,
  type FeatureRequest,
  type FeatureState,
  featureVector,
  LIMITS,
  WINDOWS,
} from '#domain/features';
import type { AuthorizationEvent, LabelEvent } from '#domain/types';
import { authorizationEvent, chargebackEvent } from '../support/events';

const T0 = Date.parse('2026-10-05T10:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

let counter = 0;
function auth(ms: number, overrides: Partial<AuthorizationEvent> = {}): AuthorizationEvent {
  counter += 1;
  return authorizationEvent({
    eventId: `evt_${counter}`,
    transactionId: `tx_${counter}`,
    amount: 1000,
    channel: 'card_present',
    timestamp: new Date(ms).toISOString(),
    ...overrides,
  });
}

function label(ms: number, txMs: number, overrides: Partial<LabelEvent> = {}): LabelEvent {
  counter += 1;
  return chargebackEvent({
    eventId: `lbl_${counter}`,
    transactionId: `tx_${counter}`,
    timestamp: new Date(ms).toISOString(),
    transactionTimestamp: new Date(txMs).toISOString(),
    ...overrides,
  });
}

const request: FeatureRequest = {
  cardId: 'card_1',
  merchantId: 'm_2',
  mcc: '5411',
  amount: 2000,
  country: 'DE',
  channel: 'ecommerce',
  deviceId: 'dev_1',
};

function replay(events: (AuthorizationEvent | LabelEvent)[]): FeatureState {
  return events.reduce<FeatureState>((state, event) => applyEvent(state, event), {});
}

function named(vector: number[]): Record<string, number> {
  return Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, vector[i] as number]));
}

describe('feature spec', () => {
  it('lists each feature once, grouped request → card → merchant', () => {
    // act
    const order = FEATURES.map((f) => f.source);
    const firstCard = order.indexOf('card');
    const firstMerchant = order.indexOf('merchant');
    // assert
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURES.length);
    expect(order.slice(0, firstCard).every((s) => s === 'request')).toBe(true);
    expect(order.slice(firstCard, firstMerchant).every((s) => s === 'card')).toBe(true);
    expect(order.slice(firstMerchant).every((s) => s === 'merchant')).toBe(true);
  });
});

describe('featureVector', () => {
  it('returns the documented defaults for card and merchant when state is missing', () => {
    // act
    const vector = featureVector({}, request, T0);
    // assert
    expect(vector).toHaveLength(FEATURES.length);
    FEATURES.forEach((f, i) => {
      if (f.source !== 'request') expect(vector[i]).toBe(f.default);
    });
    const v = named(vector);
    expect(v.amount_log).toBeCloseTo(Math.log1p(2000), 12);
    expect(v.hour_of_day).toBe(10);
    expect(v.channel_code).toBe(1);
    expect(v.has_device).toBe(1);
  });

  it('counts the current 5-minute bucket and the 11 before it as the last hour', () => {
    // prepare: one event in the oldest bucket of the window, one just outside it
    const bucketNow = Math.floor(T0 / WINDOWS.m5.width) * WINDOWS.m5.width;
    const oldestInWindow = bucketNow - 11 * WINDOWS.m5.width;
    const state = replay([auth(oldestInWindow - 1), auth(oldestInWindow, { amount: 700 })]);
    // act
    const v = named(featureVector(state, request, T0));
    // assert
    expect(v.card_count_1h).toBe(1);
    expect(v.card_amount_1h).toBe(700);
    expect(v.card_count_24h).toBe(2);
  });

  it('drops an hourly bucket exactly when the 24 h window rolls past it', () => {
    // prepare
    const event = auth(T0);
    const state = replay([event]);
    const bucketEnd = Math.floor(T0 / HOUR) * HOUR;
    // act
    const lastInWindow = named(featureVector(state, request, bucketEnd + 24 * HOUR - 1));
    const rolledPast = named(featureVector(state, request, bucketEnd + 24 * HOUR));
    // assert
    expect(lastInWindow.card_count_24h).toBe(1);
    expect(rolledPast.card_count_24h).toBe(0);
  });

  it('reads 7 daily buckets and forgets older ones as new days arrive (keeping a little slack)', () => {
    // prepare
    const events = Array.from({ length: 12 }, (_, day) => auth(T0 + day * DAY - 3 * DAY));
    // act
    const state = replay(events);
    const v = named(featureVector(state, request, T0 + 8 * DAY + MIN));
    // assert
    expect(state.card?.d1).toHaveLength(WINDOWS.d1.keep + BUCKET_SLACK);
    expect(v.card_count_7d).toBe(7);
    expect(v.card_age_days).toBeCloseTo(11 + 1 / (24 * 60), 9);
  });

  it('ignores buckets that start after the request time', () => {
    // prepare
    const state = replay([auth(T0 + 10 * MIN)]);
    // act
    const v = named(featureVector(state, request, T0));
    // assert
    expect(v.card_count_1h).toBe(0);
    // No authorization at or before the request: "none" (it was 0, "just now", before the
    // state kept the newest times; a future event then zeroed it for every earlier request).
    expect(v.card_seconds_since_last).toBe(-1);
  });

  it('computes request-time features against the card’s history', () => {
    // prepare
    const state = replay([
      auth(T0 - 2 * HOUR, { amount: 1000, country: 'DE', deviceId: 'dev_1', merchantId: 'm_a' }),
      auth(T0 - 30 * MIN, { amount: 3000, country: 'FR', deviceId: 'dev_1', merchantId: 'm_b' }),
    ]);
    // act
    const v = named(featureVector(state, { ...request, amount: 8000, country: 'US', deviceId: 'dev_9' }, T0));
    const known = named(featureVector(state, { ...request, country: 'FR', deviceId: 'dev_1' }, T0));
    const noDevice = named(featureVector(state, { ...request, deviceId: undefined }, T0));
    // assert
    expect(v.card_seconds_since_last).toBe(30 * 60);
    expect(v.card_amount_ratio).toBeCloseTo(8000 / 2000, 12);
    expect(v.card_new_country).toBe(1);
    expect(v.card_new_device).toBe(1);
    expect(v.card_distinct_merchants_1h).toBe(1);
    expect(v.card_distinct_merchants_24h).toBe(2);
    // of 08:00 and 09:30, only 09:30 falls in the hours 9–11 UTC around the request's 10:00
    expect(v.card_hour_share).toBeCloseTo(0.5, 12);
    expect(known.card_new_country).toBe(0);
    expect(known.card_new_device).toBe(0);
    expect(noDevice.card_new_device).toBe(-1);
  });

  it('computes the merchant fraud rate from labels in the bucket of the labelled transaction', () => {
    // prepare
    const tx = auth(T0 - 3 * DAY, { merchantId: 'm_2' });
    const state = replay([tx, auth(T0 - 2 * DAY, { merchantId: 'm_2' }), label(T0 - DAY, T0 - 3 * DAY)]);
    // act
    const v = named(featureVector(state, request, T0));
    // assert
    expect(v.merchant_fraud_rate_30d).toBeCloseTo(0.5, 12);
    expect(v.merchant_count_24h).toBe(0);
  });
});

describe('applyCardEvent', () => {
  it('counts a duplicated event once when folded through FeatureReplay', () => {
    // prepare
    const event = auth(T0);
    const replay = new FeatureReplay();
    // act
    const once = replay.add(event);
    const twice = replay.add(event);
    // assert
    expect(once).toBe(true);
    expect(twice).toBe(false);
    expect(replay.cards.get('card_1')?.total).toEqual([1, 1000]);
  });

  it('gives the same aggregates whatever the arrival order', () => {
    // prepare
    const events = [auth(T0 - 50 * MIN), auth(T0 - 3 * HOUR, { country: 'FR' }), auth(T0 - 5 * MIN)];
    // act
    const inOrder = replay([...events].sort((a, b) => a.timestamp.localeCompare(b.timestamp)));
    const shuffled = replay([events[2], events[0], events[1]] as AuthorizationEvent[]);
    // assert
    expect(featureVector(shuffled, request, T0)).toEqual(featureVector(inOrder, request, T0));
  });

  it('does not let a late event move "last seen" backwards', () => {
    // act
    const state = replay([auth(T0 - MIN, { country: 'FR' }), auth(T0 - HOUR, { country: 'ES' })]);
    // assert
    expect(state.card?.lastSeen).toBe(T0 - MIN);
    expect(state.card?.countries.at(-1)?.[0]).toBe('FR');
  });

  it('drops an event older than the retained window from the buckets but still counts it in totals', () => {
    // prepare: a full week of daily buckets, then one event a month late
    const week = Array.from({ length: WINDOWS.d1.keep + BUCKET_SLACK }, (_, i) => auth(T0 - i * DAY));
    // act
    const state = replay([...week, auth(T0 - 30 * DAY)]);
    // assert
    expect(state.card?.d1).toHaveLength(WINDOWS.d1.keep + BUCKET_SLACK);
    expect(state.card?.d1.every(([start]) => start > Math.floor(T0 / DAY) * DAY - 30 * DAY)).toBe(true);
    expect(state.card?.total[0]).toBe(week.length + 1);
  });

  it('bounds every list in the state, whatever the number of events', () => {
    // prepare
    const many = Array.from({ length: 500 }, (_, i) =>
      auth(T0 + i * 7 * MIN, { merchantId: `m_${i}`, country: `C${i % 40}`, deviceId: `d_${i}` }),
    );
    // act
    const card = replay(many).card;
    // assert
    expect(card?.countries).toHaveLength(LIMITS.countries);
    expect(card?.devices).toHaveLength(LIMITS.devices);
    expect(card?.merchants).toHaveLength(LIMITS.merchants);
    expect(card?.recent).toHaveLength(LIMITS.recentTimes);
    expect(card?.m5).toHaveLength(WINDOWS.m5.keep + BUCKET_SLACK);
  });

  it('ignores label events', () => {
    // act
    const result = applyCardEvent(undefined, label(T0, T0 - DAY));
    // assert
    expect(result.applied).toBe(false);
  });

  it('rejects an unparseable timestamp instead of bucketing it at NaN', () => {
    // prepare
    const event = auth(T0, { timestamp: 'yesterday' });
    // act
    const apply = () => applyCardEvent(undefined, event);
    // assert
    expect(apply).toThrow(RangeError);
  });
});

describe('applyMerchantEvent', () => {
  it('counts a redelivered label once and ignores legitimate confirmations in the fraud count', () => {
    // prepare
    const tx = auth(T0 - DAY, { merchantId: 'm_2' });
    const lbl = label(T0, T0 - DAY);
    const replay = new FeatureReplay();
    replay.add(tx);
    replay.add(lbl);
    // act
    const again = replay.add(lbl);
    const legit = applyMerchantEvent(
      replay.merchants.get('m_1'),
      label(T0, T0 - DAY, { label: 'confirmed_legitimate' }),
    ).state;
    // assert
    expect(again).toBe(false);
    expect(legit.d1.reduce((sum, b) => sum + b[3], 0)).toBe(1);
  });

  it('keeps defaults for a merchant that has only seen labels', () => {
    // prepare
    const state = { merchant: applyMerchantEvent(undefined, label(T0, T0 - 40 * DAY)).state };
    // act
    const v = named(featureVector(state, request, T0));
    // assert
    expect(v.merchant_fraud_rate_30d).toBe(-1);
  });
});

it('exports defaults aligned with names', () => {
  // assert
  expect(FEATURE_DEFAULTS).toHaveLength(FEATURE_NAMES.length);
});
