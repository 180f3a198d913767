/**
 * Properties of the feature state under hostile arrival: any order, redeliveries, and events
 * dated after the requests that read the state.
 */
import fc from 'fast-check';
import {
  applyCardEvent,
  applyEvent,
  emptyCardState,
  FEATURE_NAMES,
  FEATURES,
  FeatureReplay,
  type FeatureRequest,
  type FeatureState,
  featureVector,
  foldCardAggregates,
  WINDOWS,
} from '#domain/features';
import { RING_SIZE } from '#domain/sequence';
import type { AuthorizationEvent, LabelEvent, TransactionEvent } from '#domain/types';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-11-20T00:00:00.000Z');
/** The events API's default allowance for clocks running ahead. */
const SKEW = 5 * MIN;

/** Countries and devices beyond the state's limits, so eviction is exercised too. */
const COUNTRIES = Array.from({ length: 20 }, (_, i) => `C${String.fromCharCode(65 + i)}`);
const DEVICES = Array.from({ length: 12 }, (_, i) => `dev_${i}`);
const MERCHANTS = ['m_0', 'm_1', 'm_2', 'm_3', 'm_4'];

const requestTime = fc.integer({ min: T0, max: T0 + DAY });

function authorization(ms: number, i: number, fields: Partial<AuthorizationEvent>): AuthorizationEvent {
  return {
    type: 'authorization',
    eventId: `evt_${i}`,
    transactionId: `tx_${i}`,
    cardId: 'card_p',
    merchantId: 'm_0',
    mcc: '5411',
    amount: 1000,
    currency: 'EUR',
    country: 'CA',
    channel: 'ecommerce',
    timestamp: new Date(ms).toISOString(),
    outcome: 'approved',
    ...fields,
  };
}

/** Authorizations (and some fraud labels) dated inside the 7 days before `now`. */
function eventsBefore(now: number, maxLength = 40): fc.Arbitrary<TransactionEvent[]> {
  const one = fc.record({
    offset: fc.integer({ min: 0, max: 7 * DAY - 1 }),
    merchantId: fc.constantFrom(...MERCHANTS),
    country: fc.constantFrom(...COUNTRIES),
    deviceId: fc.option(fc.constantFrom(...DEVICES), { nil: undefined }),
    amount: fc.integer({ min: 1, max: 500_000 }),
    label: fc.boolean(),
  });
  return fc.array(one, { minLength: 1, maxLength }).map((drawn) =>
    drawn.map((d, i): TransactionEvent => {
      const ms = now - d.offset;
      if (d.label && i % 4 === 0) {
        const label: LabelEvent = {
          type: 'label',
          eventId: `lbl_${i}`,
          transactionId: `tx_${i}`,
          cardId: 'card_p',
          merchantId: d.merchantId,
          label: 'chargeback',
          timestamp: new Date(now).toISOString(),
          transactionTimestamp: new Date(ms).toISOString(),
        };
        return label;
      }
      const fields: Partial<AuthorizationEvent> = {
        merchantId: d.merchantId,
        country: d.country,
        amount: d.amount,
      };
      if (d.deviceId !== undefined) fields.deviceId = d.deviceId;
      return authorization(ms, i, fields);
    }),
  );
}

const fold = (events: readonly TransactionEvent[]) =>
  events.reduce<FeatureState>((state, event) => applyEvent(state, event), {});

function replayed(events: readonly TransactionEvent[]): FeatureState {
  const replay = new FeatureReplay();
  for (const event of events) replay.add(event);
  return replay.stateFor('card_p', 'm_0');
}

/** Requests that read every card feature one way or another. */
const requests: FeatureRequest[] = [
  { cardId: 'card_p', merchantId: 'm_0', mcc: '5411', amount: 2500, country: 'CA', channel: 'ecommerce' },
  {
    cardId: 'card_p',
    merchantId: 'm_0',
    mcc: '7995',
    amount: 90_000,
    country: 'CT',
    channel: 'moto',
    deviceId: 'dev_3',
  },
];

const named = (vector: number[]) => Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, vector[i] as number]));

describe('applyEvent properties', () => {
  it('yields the same state and features for any permutation of the same events', () => {
    const arbitrary = requestTime.chain((now) =>
      eventsBefore(now).chain((events) =>
        fc.tuple(
          fc.constant(now),
          fc.constant(events),
          fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        ),
      ),
    );
    fc.assert(
      fc.property(arbitrary, ([now, events, permuted]) => {
        // prepare
        const inOrder = fold(events);
        // act
        const shuffled = fold(permuted);
        // assert
        expect(shuffled).toEqual(inOrder);
        for (const request of requests) {
          for (const at of [now, now - 30 * MIN, now - 2 * DAY]) {
            expect(featureVector(shuffled, request, at)).toEqual(featureVector(inOrder, request, at));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never lets a duplicate change state or features (FeatureReplay applies each id once)', () => {
    const arbitrary = requestTime.chain((now) =>
      eventsBefore(now).chain((events) =>
        fc.tuple(
          fc.constant(now),
          fc.constant(events),
          // Redeliveries: any events again, anywhere in the stream.
          fc.array(fc.tuple(fc.nat(events.length - 1), fc.nat(events.length)), {
            minLength: 1,
            maxLength: 20,
          }),
        ),
      ),
    );
    fc.assert(
      fc.property(arbitrary, ([now, events, redeliveries]) => {
        // prepare
        const stream = [...events];
        for (const [which, where] of redeliveries) {
          stream.splice(Math.min(where, stream.length), 0, events[which] as TransactionEvent);
        }
        // act
        const withDuplicates = replayed(stream);
        // assert
        const once = replayed(events);
        expect(withDuplicates).toEqual(once);
        for (const request of requests) {
          expect(featureVector(withDuplicates, request, now)).toEqual(featureVector(once, request, now));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('lets one event dated after a request change that request’s features by its own contribution only', () => {
    const arbitrary = requestTime.chain((now) =>
      fc.tuple(
        fc.constant(now),
        eventsBefore(now),
        // Within the API's skew, and far beyond it (the state must not depend on the check).
        fc.oneof(fc.integer({ min: 1, max: SKEW }), fc.integer({ min: SKEW, max: 3 * DAY })),
        fc.constantFrom(...MERCHANTS),
        fc.integer({ min: 1, max: 500_000 }),
      ),
    );
    fc.assert(
      fc.property(arbitrary, ([now, events, ahead, merchantId, amount]) => {
        // prepare
        const future = authorization(now + ahead, 9999, { merchantId, amount, country: 'CA' });
        const before = fold(events);
        // act
        const after = fold([...events, future]);
        // assert
        for (const request of requests) {
          const was = named(featureVector(before, request, now));
          const is = named(featureVector(after, request, now));
          const sameBucket = (width: number) => Math.floor((now + ahead) / width) === Math.floor(now / width);
          // Windowed sums move only when the future event shares the request's bucket.
          const m5 = sameBucket(WINDOWS.m5.width) ? 1 : 0;
          const h1 = sameBucket(WINDOWS.h1.width) ? 1 : 0;
          const d1 = sameBucket(WINDOWS.d1.width) ? 1 : 0;
          expect(is.card_count_1h).toBe((was.card_count_1h ?? 0) + m5);
          expect(is.card_amount_1h).toBe((was.card_amount_1h ?? 0) + m5 * amount);
          expect(is.card_count_24h).toBe((was.card_count_24h ?? 0) + h1);
          expect(is.card_amount_24h).toBe((was.card_amount_24h ?? 0) + h1 * amount);
          expect(is.card_count_7d).toBe((was.card_count_7d ?? 0) + d1);
          expect(is.card_amount_7d).toBe((was.card_amount_7d ?? 0) + d1 * amount);
          if (merchantId === 'm_0') expect(is.merchant_count_24h).toBe((was.merchant_count_24h ?? 0) + h1);
          // Read "at or before the request": untouched by a later event.
          expect(is.card_seconds_since_last).toBe(was.card_seconds_since_last);
          expect(is.card_distinct_merchants_1h).toBe(was.card_distinct_merchants_1h);
          expect(is.card_distinct_merchants_24h).toBe(was.card_distinct_merchants_24h);
          expect(is.card_age_days).toBe(was.card_age_days);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('a future-dated authorization (issue: one event wiped a card’s last hour)', () => {
  it('leaves the 1 h features of earlier requests as they were', () => {
    // prepare: a busy last hour, then an authorization dated two hours ahead
    const now = T0 + 12 * HOUR;
    const lastHour = Array.from({ length: 12 }, (_, i) =>
      authorization(now - i * 5 * MIN, i, { amount: 100 }),
    );
    const before = fold(lastHour);
    // act
    const after = fold([...lastHour, authorization(now + 2 * HOUR, 99, { amount: 100 })]);
    // assert
    const request = requests[0] as FeatureRequest;
    const was = named(featureVector(before, request, now + MIN));
    const is = named(featureVector(after, request, now + MIN));
    expect(was.card_count_1h).toBe(12);
    expect(is.card_count_1h).toBe(12);
    expect(is.card_amount_1h).toBe(1200);
    expect(is.card_seconds_since_last).toBe(60);
  });
});

describe('what the training export relies on (export-pipeline.ts)', () => {
  it('lets every feature read only its own source: the card-side and merchant-side vectors merge into the whole', () => {
    const arbitrary = requestTime.chain((now) =>
      fc.tuple(
        fc.constant(now),
        eventsBefore(now),
        fc.constantFrom(...requests),
        fc.integer({ min: 0, max: DAY }),
      ),
    );
    fc.assert(
      fc.property(arbitrary, ([now, events, request, back]) => {
        // prepare
        const state = fold(events);
        const at = now - back;
        // act
        const cardSide = featureVector({ card: state.card }, request, at);
        const merchantSide = featureVector({ merchant: state.merchant }, request, at);
        // assert
        const merged = FEATURES.map((feature, i) =>
          feature.source === 'merchant' ? merchantSide[i] : cardSide[i],
        );
        expect(merged).toEqual(featureVector(state, request, at));
      }),
      { numRuns: 300 },
    );
  });

  it('folds the same card aggregates without the sequence ring as with it', () => {
    fc.assert(
      fc.property(
        requestTime.chain((now) => eventsBefore(now)),
        (events) => {
          // prepare
          const authorizations = events.filter((e): e is AuthorizationEvent => e.type === 'authorization');
          const withRing = authorizations.reduce(
            (card, event) => applyCardEvent(card, event).state,
            emptyCardState(),
          );
          // act
          const withoutRing = emptyCardState();
          for (const event of authorizations)
            foldCardAggregates(withoutRing, event, Date.parse(event.timestamp));
          // assert
          const { seq, ...aggregates } = withRing;
          expect(seq?.length ?? 0).toBe(Math.min(authorizations.length, RING_SIZE));
          expect(withoutRing.seq).toBeUndefined();
          expect(withoutRing).toEqual(aggregates);
        },
      ),
      { numRuns: 200 },
    );
  });
});
