/**
 * Card numbers and ids for the PAN detector's property tests, the fuzz suite and
 * `scripts/pan-measure.ts`: the networks' published test card numbers, the id formats callers
 * really send, and every way a card number gets written down.
 */
import fc from 'fast-check';

/**
 * Published test card numbers per network (all Luhn-valid). Sources: Stripe "Testing" (Visa,
 * Mastercard incl. 2-series, Amex, Discover, Diners, JCB, UnionPay), Mastercard Gateway "Test
 * card numbers by brand" (Visa, Mastercard, Diners, JCB, Discover, 19-digit Maestro), TabaPay
 * sandbox cards, Braintree sandbox (Maestro UK), PayU India (RuPay), Paystack (Verve, 19
 * digits). No public Mir test number was reachable offline: the two Mir numbers are built in
 * the published range (2200–2204) with a valid check digit.
 */
export const TEST_CARDS: Readonly<Record<string, readonly string[]>> = {
  Visa: [
    '4111111111111111',
    '4012888888881881',
    '4222222222222',
    '4242424242424242',
    '4000056655665556',
    '4508750015741019',
  ],
  Mastercard: ['5555555555554444', '5105105105105100', '5200828282828210', '5123450000000008'],
  'Mastercard 2-series': ['2223003122003222', '2223000000000007'],
  'American Express': ['378282246310005', '371449635398431', '378734493671000'],
  Discover: ['6011111111111117', '6011000990139424', '6011981111111113', '6011003179988686'],
  'Diners Club': [
    '30569309025904',
    '38520000023237',
    '3056930009020004',
    '36227206271667',
    '30123400000000',
    '36259600000012',
  ],
  JCB: ['3566002020360505', '3530111333300000', '3528000000000007'],
  UnionPay: ['6200000000000005', '6205500000000000004'],
  Maestro: ['6759649826438453', '5000000000000000005'],
  RuPay: ['6082015309577308'],
  Verve: ['5060666666666666666'],
  Mir: ['2200000000000004', '2201382000000013'],
};

export const ALL_TEST_CARDS: readonly string[] = Object.values(TEST_CARDS).flat();

export const SEPARATORS = [' ', '-', '.', '_', ':', '/'] as const;

/** The groupings printed on cards and typed by people, as group sizes (the rest forms a last group). */
const PRINTED_GROUPINGS: readonly (readonly number[])[] = [
  [4, 4, 4, 4],
  [4, 6, 5],
  [4, 6, 4],
  [8, 8],
  [6, 13],
  [4],
];

/** Splits digits into groups of the given sizes; what is left forms one last group. */
export function group(digits: string, sizes: readonly number[], separator: string): string {
  const parts: string[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= digits.length) break;
    parts.push(digits.slice(at, at + size));
    at += size;
  }
  if (at < digits.length) parts.push(digits.slice(at));
  return parts.join(separator);
}

/** Every printed grouping with every separator, plus the bare digit run. */
export function printedForms(pan: string): string[] {
  return [pan, ...SEPARATORS.flatMap((s) => PRINTED_GROUPINGS.map((sizes) => group(pan, sizes, s)))];
}

/** Any grouping at all: random group sizes (1–8 digits), one separator throughout. */
export const anyGrouping: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...ALL_TEST_CARDS),
    fc.constantFrom(...SEPARATORS),
    fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 19 }),
  )
  .map(([pan, separator, sizes]) => group(pan, sizes, separator));

/** How a written card number sits in a string: alone or in a sentence. */
export const inContext: (written: string) => fc.Arbitrary<string> = (written) =>
  fc
    .constantFrom(
      (w: string) => w,
      (w: string) => `card ${w}`,
      (w: string) => `${w} exp 12/27`,
      (w: string) => `(${w})`,
      (w: string) => `pan=${w};`,
      (w: string) => `"${w}"`,
      (w: string) => `card number: ${w}, cvv 123`,
    )
    .map((wrap) => wrap(written));

/** UUID version 4, lower or upper case. */
export const uuidV4 = fc
  .tuple(fc.uuid({ version: 4 }), fc.boolean())
  .map(([id, upper]) => (upper ? id.toUpperCase() : id));

const HEX = '0123456789abcdef'.split('');
/** 32 hex digits (a UUID without dashes, a hash prefix), lower or upper case. */
export const hex32 = fc
  .tuple(fc.array(fc.constantFrom(...HEX), { minLength: 32, maxLength: 32 }), fc.boolean())
  .map(([chars, upper]) => (upper ? chars.join('').toUpperCase() : chars.join('')));

export const ulid = fc.ulid();

/**
 * `tx-<epoch>-<n>`: epoch in milliseconds or seconds (2001-09-09 up to 2096-10-02), and a
 * sequence number. The range stops where epoch milliseconds reach 4·10¹²: from then on the
 * 13-digit run starts with 4 and one in ten is a Luhn-valid Visa 13-digit number.
 */
export const txId = fc
  .tuple(
    fc.oneof(
      fc.integer({ min: 1_000_000_000_000, max: 3_999_999_999_999 }),
      fc.integer({ min: 1_000_000_000, max: 3_999_999_999 }),
    ),
    fc.nat({ max: 2_147_483_647 }),
  )
  .map(([epoch, n]) => `tx-${epoch}-${n}`);

export const ID_TYPES = { uuidV4, hex32, ulid, txId } as const;

/** Purely numeric ids of 13–19 digits: the collisions no rule can avoid. */
export const numericId = fc
  .integer({ min: 13, max: 19 })
  .chain((length) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length }))
  .map((digits) => digits.join(''));
