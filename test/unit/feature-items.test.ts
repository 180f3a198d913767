/**
 * The card and merchant item layout: every bounded list written as one compact string
 * (`compact-lists.ts`), items written before in the list form read the same, and hostile
 * stored text reads as an empty list, never as a throw or a NaN feature.
 */
import fc from 'fast-check';
import { fromItem, toItem } from '#adapters/attribute-values';
import {
  cardFromItem,
  cardToAttributes,
  merchantFromItem,
  merchantToAttributes,
} from '#adapters/feature-items';
import {
  applyEvent,
  type Bucket,
  type CardState,
  type FeatureRequest,
  type FeatureState,
  featureVector,
  type LabelledBucket,
  type MerchantState,
  type MerchantUse,
  type Recency,
  WINDOWS,
} from '#domain/features';
import type { AuthorizationEvent, TransactionEvent } from '#domain/types';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const CARD_LISTS = [
  'total',
  'countries',
  'devices',
  'merchants',
  'hours',
  'recent',
  'm5',
  'h1',
  'd1',
] as const;
const MERCHANT_LISTS = ['h1', 'd1'] as const;

/** How the writers laid the state out before the compact form: each list as a DynamoDB list. */
function cardToListAttributes(state: CardState): Record<string, unknown> {
  const finite = (value: number) => (Number.isFinite(value) ? value : undefined);
  return {
    ...state,
    firstSeen: finite(state.firstSeen),
    lastSeen: finite(state.lastSeen),
    seq: undefined,
  };
}

function merchantToListAttributes(state: MerchantState): Record<string, unknown> {
  const finite = (value: number) => (Number.isFinite(value) ? value : undefined);
  return { ...state, firstSeen: finite(state.firstSeen), lastSeen: finite(state.lastSeen) };
}

/** Through DynamoDB's wire format and back, as the writers store and the store reads. */
const stored = (attributes: Record<string, unknown>) => fromItem(toItem(attributes), true);

// Any safe integer the format must carry, and strings with every separator the format uses.
const int = fc.integer({ min: -(2 ** 40), max: 2 ** 45 });
const time = fc.integer({ min: 0, max: T0 + 400 * DAY });
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('a,b', ';', '1:x', ':', '', 'é💳'));
const buckets = (width: number, fields: 3 | 4) =>
  fc
    .array(
      fc.tuple(
        fc.integer({ min: -5, max: 30_000_000 }),
        fc.array(int, { minLength: fields - 1, maxLength: fields - 1 }),
      ),
      { maxLength: 34 },
    )
    .map((drawn) => drawn.map(([units, values]) => [units * width, ...values]));
const recency = fc.array(fc.tuple(text, time), { maxLength: 16 });
const merchantUses = fc.array(
  fc.oneof(fc.tuple(text, time), fc.tuple(text, time, time)) as fc.Arbitrary<MerchantUse>,
  { maxLength: 64 },
);

const cardState: fc.Arbitrary<CardState> = fc.record({
  firstSeen: fc.oneof(time, fc.constant(Number.POSITIVE_INFINITY)),
  lastSeen: fc.oneof(time, fc.constant(Number.NEGATIVE_INFINITY)),
  total: fc.tuple(fc.nat(), fc.nat()),
  countries: recency,
  devices: recency,
  merchants: merchantUses,
  hours: fc.array(fc.nat({ max: 1_000_000 }), { minLength: 24, maxLength: 24 }),
  recent: fc.array(time, { maxLength: 4 }),
  m5: buckets(WINDOWS.m5.width, 3) as fc.Arbitrary<Bucket[]>,
  h1: buckets(WINDOWS.h1.width, 3) as fc.Arbitrary<Bucket[]>,
  d1: buckets(WINDOWS.d1.width, 3) as fc.Arbitrary<Bucket[]>,
});

const merchantState: fc.Arbitrary<MerchantState> = fc.record({
  firstSeen: fc.oneof(time, fc.constant(Number.POSITIVE_INFINITY)),
  lastSeen: fc.oneof(time, fc.constant(Number.NEGATIVE_INFINITY)),
  h1: buckets(WINDOWS.h1.width, 3) as fc.Arbitrary<Bucket[]>,
  d1: buckets(WINDOWS.merchantD1.width, 4) as fc.Arbitrary<LabelledBucket[]>,
});

/** Authorizations and fraud labels on one card in the week before `T0 + 7 days`, in any order. */
const events: fc.Arbitrary<TransactionEvent[]> = fc
  .array(
    fc.record({
      offset: fc.integer({ min: 0, max: 8 * DAY }),
      merchant: fc.integer({ min: 0, max: 80 }),
      country: fc.constantFrom('DE', 'FR', 'US', 'GB', 'CA', 'JP', 'BR', 'ES', 'IT', 'NL'),
      device: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
      amount: fc.integer({ min: 1, max: 5_000_000 }),
      label: fc.boolean(),
    }),
    { minLength: 1, maxLength: 120 },
  )
  .map((drawn) =>
    drawn.map((d, i): TransactionEvent => {
      const timestamp = new Date(T0 + d.offset).toISOString();
      const merchantId = `m_${d.merchant}`;
      if (d.label && i % 5 === 0) {
        return {
          type: 'label',
          eventId: `lbl_${i}`,
          transactionId: `tx_${i}`,
          cardId: 'c',
          merchantId: 'm_0',
          label: 'chargeback',
          timestamp,
          transactionTimestamp: timestamp,
        };
      }
      const event: AuthorizationEvent = {
        type: 'authorization',
        eventId: `evt_${i}`,
        transactionId: `tx_${i}`,
        cardId: 'c',
        merchantId: d.merchant % 3 === 0 ? 'm_0' : merchantId,
        mcc: '5411',
        amount: d.amount,
        currency: 'EUR',
        country: d.country,
        channel: 'ecommerce',
        timestamp,
        outcome: 'approved',
      };
      if (d.device !== undefined) event.deviceId = `dev,;:${d.device}`;
      return event;
    }),
  );

const requestAt = fc.record({
  at: fc.integer({ min: T0 - DAY, max: T0 + 9 * DAY }),
  amount: fc.integer({ min: 1, max: 900_000 }),
  country: fc.constantFrom('DE', 'FR', 'XX'),
  merchantId: fc.constantFrom('m_0', 'm_1', 'm_7'),
  deviceId: fc.option(fc.constantFrom('dev,;:1', 'dev_new'), { nil: undefined }),
});

const request = (r: {
  amount: number;
  country: string;
  merchantId: string;
  deviceId?: string;
}): FeatureRequest => ({
  cardId: 'c',
  merchantId: r.merchantId,
  mcc: '5411',
  amount: r.amount,
  country: r.country,
  channel: 'ecommerce',
  ...(r.deviceId !== undefined && { deviceId: r.deviceId }),
});

describe('card and merchant items', () => {
  it('store every list of any card state as one string and read back the same state, as the list form did', () => {
    fc.assert(
      fc.property(cardState, (state) => {
        // prepare
        const expected = cardFromItem(stored(cardToListAttributes(state)));
        // act
        const attributes = cardToAttributes(state);
        const read = cardFromItem(stored(attributes));
        // assert
        for (const name of CARD_LISTS) expect(typeof attributes[name]).toBe('string');
        expect(read).toEqual(expected);
        expect(read).toEqual({ ...state, seq: undefined });
      }),
    );
  });

  it('store every list of any merchant state as one string and read back the same state, as the list form did', () => {
    fc.assert(
      fc.property(merchantState, (state) => {
        // prepare
        const expected = merchantFromItem(stored(merchantToListAttributes(state)));
        // act
        const attributes = merchantToAttributes(state);
        const read = merchantFromItem(stored(attributes));
        // assert
        for (const name of MERCHANT_LISTS) expect(typeof attributes[name]).toBe('string');
        expect(read).toEqual(expected);
        expect(read).toEqual(state);
      }),
    );
  });

  it('give the same feature vector from either stored form of a folded state', () => {
    fc.assert(
      fc.property(events, fc.array(requestAt, { minLength: 1, maxLength: 4 }), (stream, requests) => {
        // prepare
        const state = stream.reduce<FeatureState>((s, e) => applyEvent(s, e), {});
        const card = state.card as CardState;
        const merchant = state.merchant as MerchantState;
        // act
        const compact: FeatureState = {
          card: cardFromItem(stored(cardToAttributes(card))),
          merchant: merchantFromItem(stored(merchantToAttributes(merchant))),
        };
        const listed: FeatureState = {
          card: { ...cardFromItem(stored(cardToListAttributes(card))), seq: card.seq },
          merchant: merchantFromItem(stored(merchantToListAttributes(merchant))),
        };
        // assert
        expect(compact).toEqual(state);
        expect(listed).toEqual(state);
        for (const r of requests) {
          expect(featureVector(compact, request(r), r.at)).toEqual(featureVector(state, request(r), r.at));
          expect(featureVector(listed, request(r), r.at)).toEqual(featureVector(state, request(r), r.at));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('writes the documented text for a small card', () => {
    // prepare
    const hour = WINDOWS.h1.width;
    const state: CardState = {
      firstSeen: T0,
      lastSeen: T0 + 3 * hour,
      total: [3, 4500],
      countries: [
        ['DE', T0 + hour],
        ['FR', T0 + 3 * hour],
      ],
      devices: [],
      merchants: [['m_1', T0 + 3 * hour, T0]],
      hours: [...new Array(23).fill(0), 3],
      recent: [T0, T0 + hour, T0 + 3 * hour],
      m5: [],
      h1: [
        [T0, 1, 1000],
        [T0 + hour, 1, 1500],
        [T0 + 3 * hour, 1, 2000],
      ],
      d1: [[T0, 3, 4500]],
    };
    // act
    const attributes = cardToAttributes(state);
    // assert
    expect(attributes).toMatchObject({
      total: '3,3h0',
      countries: '2:DE,mwo9v340;2:FR,4abk0',
      devices: '',
      merchants: '3:m_1,mwoe5eo0,6fhc0',
      hours: `${'0,'.repeat(23)}3`,
      recent: 'mwo7pxc0,255s0,4abk0',
      m5: '',
      h1: 'aorc,1,rs;1,1,15o;2,1,1jk',
      d1: 'g15,3,3h0',
    });
  });

  it('keeps the list form only for a list the text cannot hold exactly, and reads it back', () => {
    // prepare
    const state: CardState = {
      ...cardFromItem({}),
      total: [2 ** 60, 1],
      h1: [[T0 + 1, 1, 1]],
      recent: [T0, T0 + 0.5],
    };
    // act
    const attributes = cardToAttributes(state);
    // assert
    expect(attributes.total).toEqual([2 ** 60, 1]);
    expect(attributes.h1).toEqual([[T0 + 1, 1, 1]]);
    expect(attributes.recent).toEqual([T0, T0 + 0.5]);
    expect(typeof attributes.m5).toBe('string');
    expect(cardFromItem(attributes)).toEqual({ ...state, seq: undefined });
  });
});

/** Ways stored text goes wrong: cut, extended, separators swapped, non-digits, huge numbers. */
function mutate(textValue: string): fc.Arbitrary<string> {
  const at = fc.integer({ min: 0, max: textValue.length });
  return fc.oneof(
    at.map((i) => textValue.slice(0, i)),
    fc.string({ maxLength: 6 }).map((tail) => `${textValue}${tail}`),
    fc
      .tuple(at, fc.constantFrom(',', ';', ':', '-', ' ', 'Z', '.', '+', '\u0000'))
      .map(([i, c]) => `${textValue.slice(0, i)}${c}${textValue.slice(i + 1)}`),
    fc
      .tuple(at, fc.constantFrom('zzzzzzzzzzzz', '99999999999', '1e3', 'NaN', 'Infinity', '-', ''))
      .map(([i, n]) => `${textValue.slice(0, i)}${n}${textValue.slice(i)}`),
    fc.string({ maxLength: 40 }),
  );
}

const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const wellFormed = (list: unknown[], check: (entry: unknown) => boolean) => list.every(check);
const tupleOf = (n: number) => (e: unknown) => Array.isArray(e) && e.length === n && e.every(isNumber);

describe('hostile stored text', () => {
  const card: CardState = {
    firstSeen: T0,
    lastSeen: T0 + DAY,
    total: [5, 9000],
    countries: [
      ['DE', T0],
      ['FR', T0 + DAY],
    ],
    devices: [['d;1', T0]],
    merchants: [
      ['m:1', T0 + 10, T0],
      ['m_2', T0 + DAY],
    ],
    hours: new Array(24).fill(1),
    recent: [T0, T0 + 10, T0 + DAY],
    m5: [
      [T0, 1, 10],
      [T0 + WINDOWS.m5.width, 2, 20],
    ],
    h1: [[T0, 3, 30]],
    d1: [
      [T0, 5, 9000],
      [T0 + DAY, 1, 5],
    ],
  };
  const good = cardToAttributes(card) as Record<(typeof CARD_LISTS)[number], string>;

  it.each(CARD_LISTS)(
    'reads a corrupted %s as an empty list (or a valid one), never a throw or a NaN',
    (name) => {
      fc.assert(
        fc.property(mutate(good[name]), requestAt, (corrupted, r) => {
          // prepare
          const item = stored({ ...good, [name]: corrupted });
          // act
          const read = cardFromItem(item);
          const vector = featureVector({ card: read }, request(r), r.at);
          // assert
          expect(vector.every(Number.isFinite)).toBe(true);
          expect(read.total).toHaveLength(2);
          expect(read.hours).toHaveLength(24);
          expect(wellFormed(read.m5, tupleOf(3)) && wellFormed(read.h1, tupleOf(3))).toBe(true);
          expect(wellFormed(read.d1, tupleOf(3)) && wellFormed(read.recent, isNumber)).toBe(true);
          for (const list of [read.countries, read.devices, read.merchants]) {
            expect(
              wellFormed(list, (e) => Array.isArray(e) && typeof e[0] === 'string' && isNumber(e[1])),
            ).toBe(true);
          }
        }),
        { numRuns: 150 },
      );
    },
  );

  it.each(MERCHANT_LISTS)(
    'reads a corrupted merchant %s as an empty list (or a valid one), never a NaN',
    (name) => {
      const merchant: MerchantState = {
        firstSeen: T0,
        lastSeen: T0 + DAY,
        h1: [
          [T0, 3, 30],
          [T0 + WINDOWS.h1.width, 1, 5],
        ],
        d1: [
          [T0, 5, 9000, 1],
          [T0 + DAY, 1, 5, 0],
        ],
      };
      const text = merchantToAttributes(merchant) as Record<(typeof MERCHANT_LISTS)[number], string>;
      fc.assert(
        fc.property(mutate(text[name]), requestAt, (corrupted, r) => {
          // prepare
          const item = stored({ ...text, [name]: corrupted });
          // act
          const read = merchantFromItem(item);
          const vector = featureVector({ card: card, merchant: read }, request(r), r.at);
          // assert
          expect(vector.every(Number.isFinite)).toBe(true);
          expect(wellFormed(read.h1, tupleOf(3)) && wellFormed(read.d1, tupleOf(4))).toBe(true);
        }),
        { numRuns: 150 },
      );
    },
  );

  it.each([
    ['cut inside an entry as an empty list', 'h1', 'aorc,1,rs;1,1', []],
    ['a trailing separator as an empty list', 'h1', 'aorc,1,rs;', []],
    ['a field too many as an empty list', 'h1', 'aorc,1,rs,4', []],
    ['a comma for a semicolon as an empty list', 'm5', 'aorc,1,rs,1,1,15o', []],
    ['upper-case digits as an empty list', 'd1', 'G15,3,3h0', []],
    ['a number beyond the safe range as an empty list', 'recent', 'zzzzzzzzzzz', []],
    ['twelve digits as an empty list', 'recent', '000000000001', []],
    ['a sum beyond the safe range as an empty list', 'recent', '2gosa7pa2gv,2gosa7pa2gv', []],
    ['a string length past the end as an empty list', 'countries', '9:DE,1', []],
    ['a negative string length as an empty list', 'devices', '-1:a,1', []],
    ['a missing time as an empty list', 'merchants', '3:m_1', []],
    ['hours one short as no hours', 'hours', `${'1,'.repeat(22)}1`, new Array(24).fill(0)],
    ['a total of three as no total', 'total', '1,2,3', [0, 0]],
    ['a list cut between entries as the shorter list', 'h1', 'aorc,1,rs', [[T0, 1, 1000]]],
  ] as const)('reads %s', (_case, name, value, expected) => {
    // prepare
    const item = { ...good, [name]: value };
    // act
    const read = cardFromItem(item) as unknown as Record<string, unknown>;
    // assert
    expect(read[name]).toEqual(expected);
  });

  it('reads a malformed list-form attribute as empty, as the text form', () => {
    // prepare
    const item = {
      m5: [['a', 1, 2]],
      h1: [[T0, 1]],
      d1: 'not a list',
      countries: [['DE']],
      merchants: [[1, 2]],
      recent: [T0, null],
      hours: new Array(24).fill('1'),
      total: [1, Number.NaN],
    };
    // act
    const read = cardFromItem(item);
    // assert
    expect(read).toMatchObject({
      m5: [],
      h1: [],
      d1: [],
      countries: [],
      merchants: [],
      recent: [],
      total: [0, 0],
    });
    expect(read.hours).toEqual(new Array(24).fill(0));
  });

  it('still reads the bare country and device values of the oldest items as oldest uses', () => {
    // prepare
    const item = { countries: ['DE', 'FR'], devices: ['d1', ['d2', T0]] };
    // act
    const read = cardFromItem(item);
    // assert
    expect(read.countries).toEqual([
      ['DE', 0],
      ['FR', 0],
    ] satisfies Recency[]);
    expect(read.devices).toEqual([
      ['d1', 0],
      ['d2', T0],
    ] satisfies Recency[]);
  });
});
