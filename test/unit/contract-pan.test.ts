import fc from 'fast-check';
import {
  cardNetwork,
  containsPan,
  findPan,
  IIN_RANGES,
  isCardNumber,
  luhnValid,
  REDACTED,
  redactPans,
  safeFieldPath,
} from '#domain/pan';
import { validRequest } from '../support/fakes';
import {
  ALL_TEST_CARDS,
  anyGrouping,
  ID_TYPES,
  inContext,
  printedForms,
  TEST_CARDS,
} from '../support/pan-arbitraries';

/** Ids per type in the unit run; `npm run pan:measure` runs 1,000,000 per type. */
const IDS_PER_TYPE = 10_000;

describe('PAN candidates', () => {
  it.each([
    ['4111111111111111', true],
    ['4111 1111 1111 1111', true],
    ['4111-1111-1111-1111', true],
    ['4111.1111.1111.1111', true],
    ['4111_1111_1111_1111', true],
    ['4111:1111:1111:1111', true],
    ['4111/1111/1111/1111', true],
    ['41111111-11111111', true],
    ['3782 822463 10005', true], // Amex as printed, 4-6-5
    ['tx-4111111111111111', true], // a bare run only has to keep clear of letters and digits
    ['card 4111 1111 1111 1111 exp 12 27', true], // space-separated words: the card's groups are found inside
    ['4111111111111112', false], // fails Luhn
    ['123456789012', false], // 12 digits
    ['8000000000000003', false], // Luhn-valid, no network issues 8000…
    ['135410014004955', false], // UATP: left out, epoch timestamps share its prefix (see IIN_TABLE)
    ['6568333747228c6f0a1b', false], // hex id: the run touches a letter
    ['a4111111111111111', false],
    ['6031deed-6167-5578-5976-8546f60fa75c', false], // UUID: the dashed chain runs into letters
    ['tx-1795426770881-10', false], // epoch ms + sequence: one identifier with tx
    ['tx-20261123-000001', false],
    ['2026-11-23T10:00:00.000Z', false],
    ['4111-1111 1111-1111', false], // no single separator throughout
  ])('containsPan(%p) is %p', (value, expected) => {
    // act
    const found = containsPan(value);
    // assert
    expect(found).toBe(expected);
  });

  it('knows every network the issue names, with sourced ranges', () => {
    // prepare
    const networks = new Set(IIN_RANGES.map((r) => r.network));
    // act / assert
    for (const name of [
      'Visa',
      'Mastercard',
      'American Express',
      'Discover',
      'JCB',
      'Diners Club International',
    ]) {
      expect(networks).toContain(name);
    }
    for (const name of ['UnionPay', 'Maestro', 'Mir', 'RuPay', 'Verve']) expect(networks).toContain(name);
    for (const range of IIN_RANGES) expect(range.from.length).toBe(range.to.length);
    expect(cardNetwork('2221000000000009')).toBe('Mastercard');
    expect(cardNetwork('2720990000000007')).toBe('Mastercard');
    expect(cardNetwork('2721000000000008')).toBeUndefined();
  });

  it('implements Luhn', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});

describe('published test card numbers', () => {
  it.each(Object.entries(TEST_CARDS))(
    '%s: every number is a card number in every printed grouping and context',
    (_network, pans) => {
      for (const pan of pans) {
        // prepare
        const forms = printedForms(pan);
        // act / assert
        expect(isCardNumber(pan)).toBe(true);
        for (const written of forms) {
          for (const text of [written, `card ${written} exp 12/27`, `pan=${written};`, `(${written})`]) {
            expect({ text, found: containsPan(text) }).toEqual({ text, found: true });
            expect(redactPans(text)).not.toMatch(/\d{4}/);
            expect(findPan({ ...validRequest, note: text })).toBe('note');
            expect(findPan({ ...validRequest, [text]: 'x' })).toBe(REDACTED);
          }
        }
      }
    },
  );

  it('detects any grouping with one separator, in values and in keys (property)', () => {
    fc.assert(
      fc.property(anyGrouping.chain(inContext), (text) => {
        // act
        const inValue = findPan({ ...validRequest, note: { text } });
        const inKey = findPan({ ...validRequest, note: { [text]: 1 } });
        // assert
        return inValue === 'note.text' && inKey === `note.${REDACTED}`;
      }),
      { numRuns: 10_000 },
    );
  });

  it('detects a card number sent as a JSON number', () => {
    expect(findPan({ ...validRequest, cardNumber: 4111111111111111 })).toBe('cardNumber');
    // 19 digits do not fit a double exactly: the rounded value is refused too, digits unknown.
    expect(findPan({ ...validRequest, cardNumber: JSON.parse('6205500000000000004') })).toBe('cardNumber');
    expect(findPan({ ...validRequest, score: 0.4111111111111111 })).toBeUndefined();
  });
});

describe('real ids are never candidates', () => {
  it.each(Object.entries(ID_TYPES))(
    `%s: ${IDS_PER_TYPE} random ids, 0 rejected (property)`,
    (_type, arbitrary) => {
      fc.assert(
        fc.property(arbitrary, (id) => {
          // act / assert
          return !containsPan(id) && findPan({ ...validRequest, transactionId: id, [id]: id }) === undefined;
        }),
        { numRuns: IDS_PER_TYPE },
      );
    },
  );
});

describe('findPan', () => {
  it('names the field at any depth with card numbers in keys redacted', () => {
    expect(findPan({ ...validRequest, note: { text: 'card 4111111111111111 used' } })).toBe('note.text');
    expect(findPan({ ...validRequest, list: ['x', '5500005555555559'] })).toBe('list.1');
    expect(findPan({ '4111111111111111': 'x' })).toBe(REDACTED);
    expect(findPan({ meta: { '4111 1111 1111 1111': { deeper: 1 } } })).toBe(`meta.${REDACTED}`);
    expect(findPan({ meta: { '4111111111111111': { deeper: '5500005555555559' } } })).toBe(
      `meta.${REDACTED}`,
    );
    expect(findPan('4111111111111111')).toBe('(body)');
    expect(findPan(validRequest)).toBeUndefined();
  });

  it('walks 100,000 levels without recursion', () => {
    // prepare
    let deep: unknown = '4111111111111111';
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    // act
    const field = findPan(deep);
    // assert
    expect(field?.split('.')).toHaveLength(100_000);
  });
});

describe('safeFieldPath', () => {
  it('redacts path elements holding a card number and keeps the rest', () => {
    expect(safeFieldPath(['events', 0, 'cardId'])).toBe('events.0.cardId');
    expect(safeFieldPath(['meta', '4111-1111-1111-1111', 'x'])).toBe(`meta.${REDACTED}.x`);
    expect(safeFieldPath([])).toBeUndefined();
  });

  it('catches a card number that only appears when the path is joined', () => {
    // prepare: neither key alone is a candidate; joined with dots they are
    const path = ['4111.1111', '1111.1111'];
    // act
    const field = safeFieldPath(path);
    // assert
    expect(field).toBe(`${REDACTED}.${REDACTED}`);
    expect(containsPan(path.join('.'))).toBe(true);
  });

  it('never returns a string holding a candidate (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.stringMatching(/^[0-9. _:/-]{0,12}$/), fc.nat({ max: 30 }), anyGrouping), {
          maxLength: 8,
        }),
        (path) => !containsPan(safeFieldPath(path) ?? ''),
      ),
      { numRuns: 5_000 },
    );
  });
});

it('all published test numbers are distinct and Luhn-valid', () => {
  expect(new Set(ALL_TEST_CARDS).size).toBe(ALL_TEST_CARDS.length);
  for (const pan of ALL_TEST_CARDS) expect(luhnValid(pan)).toBe(true);
});
