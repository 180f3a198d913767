/**
 * The hand-written attribute-value codec against `@aws-sdk/util-dynamodb`, the library routine
 * it replaces on the updater's path: the same output on generated feature items and on hostile
 * values, and the documented differences where the library would guess or corrupt.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { fromAttribute, fromItem, toAttribute, toItem } from '#adapters/attribute-values';
import { cardToAttributes, merchantToAttributes } from '#adapters/feature-items';
import { applyCardEvent, applyMerchantEvent, type CardState, type MerchantState } from '#domain/features';
import type { AuthorizationEvent, LabelEvent } from '#domain/types';

const MARSHALL = { removeUndefinedValues: true } as const;

/** Strings a card token, device id or event id could carry: empty, unicode, lone surrogates, JSON look-alikes. */
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-0',
    '1e21',
    'NaN',
    'null',
    'true',
    '{"S":"x"}',
    '\u0000',
    '\ud800',
    '__proto__',
  ),
);

/** Numbers DynamoDB can hold exactly: integers to the safe limit, -0, tiny and huge fractions. */
const storableNumber = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e-7, 5e-324, 0.1, 1.5e15),
  fc.double({
    noNaN: true,
    noDefaultInfinity: true,
    min: -Number.MAX_SAFE_INTEGER,
    max: Number.MAX_SAFE_INTEGER,
  }),
);

/** Plain values of every type the writers store, nested, with `undefined` where `marshall` drops it. */
const { value: plainValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    storableNumber,
    hostileString,
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(tie('value'), fc.constant(undefined)), { maxLength: 6 }),
    fc.dictionary(
      hostileString.filter((key) => key !== '__proto__'),
      fc.oneof(tie('value'), fc.constant(undefined)),
      { maxKeys: 6 },
    ),
  ),
}));

const plainItem = fc.dictionary(
  hostileString.filter((key) => key !== '__proto__'),
  fc.oneof(plainValue, fc.constant(undefined)),
  { maxKeys: 10 },
);

/** Attribute values as DynamoDB sends them back, of the supported types. */
const { attribute } = fc.letrec((tie) => ({
  attribute: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .oneof(
        storableNumber.map(String),
        fc.constantFrom('-0', '1e+15', '0.000001', '1E3', '00012', '-1.50', '5e-324'),
      )
      .map((N): AttributeValue => ({ N })),
    hostileString.map((S): AttributeValue => ({ S })),
    fc.boolean().map((BOOL): AttributeValue => ({ BOOL })),
    fc.constant<AttributeValue>({ NULL: true }),
    fc.array(tie('attribute'), { maxLength: 6 }).map((L) => ({ L }) as AttributeValue),
    fc
      .dictionary(
        hostileString.filter((key) => key !== '__proto__'),
        tie('attribute'),
        { maxKeys: 6 },
      )
      .map((M) => ({ M }) as AttributeValue),
  ),
}));

const T0 = Date.parse('2026-11-20T12:00:00.000Z');

/** A card and a merchant grown from generated authorizations and labels, as the writers fold them. */
const featureStates = fc
  .array(
    fc.record({
      card: hostileString,
      merchant: hostileString,
      device: fc.option(hostileString, { nil: undefined }),
      country: fc.constantFrom('DE', 'FR', 'US', ''),
      amount: fc.integer({ min: 0, max: 1_000_000_000 }),
      ageMs: fc.integer({ min: -300_000, max: 40 * 86_400_000 }),
      label: fc.boolean(),
      id: hostileString,
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((draws) => {
    let card: CardState | undefined;
    let merchant: MerchantState | undefined;
    draws.forEach((d, i) => {
      const timestamp = new Date(T0 - d.ageMs).toISOString();
      if (d.label) {
        const label: LabelEvent = {
          type: 'label',
          eventId: `${d.id}#${i}`,
          transactionId: `t${i}`,
          cardId: 'c',
          merchantId: d.merchant,
          label: 'chargeback',
          timestamp: new Date(T0).toISOString(),
          transactionTimestamp: timestamp,
        };
        merchant = applyMerchantEvent(merchant, label).state;
        return;
      }
      const auth: AuthorizationEvent = {
        type: 'authorization',
        eventId: `${d.id}#${i}`,
        transactionId: `t${i}`,
        cardId: 'c',
        merchantId: d.merchant,
        mcc: '5411',
        amount: d.amount,
        currency: 'EUR',
        country: d.country,
        channel: 'ecommerce',
        ...(d.device === undefined ? {} : { deviceId: d.device }),
        timestamp,
        outcome: 'approved',
      };
      card = applyCardEvent(card, auth).state;
      merchant = applyMerchantEvent(merchant, auth).state;
    });
    return { card, merchant };
  });

describe('toItem / toAttribute', () => {
  it('marshal generated values exactly as util-dynamodb marshall does', () => {
    fc.assert(
      fc.property(plainItem, (item) => {
        // act
        const ours = toItem(item);
        // assert
        expect(ours).toEqual(marshall(item, MARSHALL));
      }),
      { numRuns: 500 },
    );
  });

  it('marshal card and merchant items exactly as util-dynamodb marshall does', () => {
    fc.assert(
      fc.property(featureStates, ({ card, merchant }) => {
        // prepare: the whole items the marker writer puts
        const items = [
          ...(card ? [{ pk: 'card#c', ...cardToAttributes(card), pending: [['e', 1]], v: 3 }] : []),
          ...(merchant ? [{ pk: 'merchant#m', ...merchantToAttributes(merchant), v: 1, ttl: 1 }] : []),
        ];
        for (const item of items) {
          // act
          const ours = toItem(item);
          // assert
          expect(ours).toEqual(marshall(item, MARSHALL));
          expect(fromItem(ours)).toEqual(unmarshall(ours));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('writes numbers with the text marshall writes (-0, exponents, fractions)', () => {
    // prepare
    const numbers = [-0, 1e15, 1e-7, 0.1 + 0.2, -123.456, Number.MAX_SAFE_INTEGER];
    // act
    const texts = numbers.map((n) => toAttribute(n).N);
    // assert
    expect(texts).toEqual(numbers.map((n) => (marshall({ n }) as { n: { N: string } }).n.N));
    expect(texts).toEqual([
      '0',
      '1000000000000000',
      '1e-7',
      '0.30000000000000004',
      '-123.456',
      '9007199254740991',
    ]);
  });

  it('refuses what DynamoDB cannot store exactly, as marshall does', () => {
    for (const value of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** 53,
      -(2 ** 60),
      1e300,
    ]) {
      // act / assert
      expect(() => toAttribute(value)).toThrow(RangeError);
      expect(() => marshall({ value })).toThrow();
    }
  });

  it('refuses types a feature item never holds instead of guessing', () => {
    // prepare
    const odd = [
      new Set([1]),
      new Map([['a', 1]]),
      new Uint8Array([1]),
      10n,
      new Date(0),
      undefined,
      Symbol('s'),
    ];
    for (const value of odd) {
      // act / assert
      expect(() => toAttribute(value)).toThrow(TypeError);
    }
  });

  it('keeps a __proto__ key as an own attribute and never touches Object.prototype', () => {
    // prepare
    const hostile = JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}') as Record<string, unknown>;
    // act
    const item = toItem(hostile);
    const back = fromItem(item);
    // assert
    expect(Object.keys(item)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(item, '__proto__')?.value).toEqual({
      M: { polluted: { N: '1' } },
    });
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('fromItem / fromAttribute', () => {
  it('unmarshal generated attribute values exactly as util-dynamodb unmarshall does', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          hostileString.filter((k) => k !== '__proto__'),
          attribute,
          { maxKeys: 10 },
        ),
        (item) => {
          // act
          const ours = fromItem(item);
          // assert
          expect(ours).toEqual(unmarshall(item));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('round-trips every generated plain value', () => {
    fc.assert(
      fc.property(plainItem, (item) => {
        // act
        const back = fromItem(toItem(item));
        // assert: as marshall then unmarshall would leave it
        expect(back).toEqual(unmarshall(marshall(item, MARSHALL)));
      }),
      { numRuns: 300 },
    );
  });

  it('throws on a number beyond the safe range where unmarshall would return a BigInt', () => {
    // prepare
    const big: AttributeValue = { N: '9007199254740993' };
    // act / assert
    expect(() => fromAttribute(big)).toThrow(RangeError);
    expect(typeof unmarshall({ big }).big).toBe('bigint');
  });

  it('throws on sets, binary and unknown members instead of reading them as something else', () => {
    const odd: AttributeValue[] = [
      { SS: ['a'] },
      { NS: ['1'] },
      { B: new Uint8Array([1]) },
      { $unknown: ['X', 1] } as AttributeValue,
      {} as AttributeValue,
    ];
    for (const value of odd) {
      // act / assert
      expect(() => fromAttribute(value)).toThrow(TypeError);
    }
  });
});
