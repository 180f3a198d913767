/**
 * The export's fast event check (`event-line.ts`) against the real parser (`JSON.parse` and
 * the contract's zod schemas): on any line, hostile or not, `parseEventLine` must return what
 * `parseEventLineWithSchemas` returns (the same events with the same key order, or the same
 * reason), and the fast check must accept exactly the single valid events.
 */
import fc from 'fast-check';
import { type AuthorizationEvent, CHANNELS, LABELS, type LabelEvent } from '#domain/types';
import { plainEventOf } from '../../models/training/event-line';
import { parseEventLine, parseEventLineWithSchemas } from '../../models/training/event-source';

const authorization: AuthorizationEvent = {
  type: 'authorization',
  eventId: 'evt_tx_000_000000',
  transactionId: 'tx_000_000000',
  cardId: 'card_002926',
  merchantId: 'm_00151',
  mcc: '5816',
  amount: 597,
  currency: 'EUR',
  country: 'US',
  channel: 'ecommerce',
  timestamp: '2026-09-01T00:02:56.962Z',
  deviceId: 'dev_59b34fdacdc6',
  outcome: 'approved',
};
const label: LabelEvent = {
  type: 'label',
  eventId: 'lbl_tx_000_004900',
  transactionId: 'tx_000_004900',
  cardId: 'card_004306',
  merchantId: 'm_00142',
  label: 'confirmed_legitimate',
  timestamp: '2026-09-01T17:35:02.941Z',
  transactionTimestamp: '2026-09-01T15:39:20.272Z',
};
const FIELDS = [...new Set([...Object.keys(authorization), ...Object.keys(label)])];

/** Values near every rule's edge: each may be valid for one field and invalid for another. */
const tricky = fc.oneof(
  fc.constantFrom<unknown>(
    '',
    'a',
    'A.b_c:d-9',
    'x'.repeat(128),
    'x'.repeat(129),
    'with space',
    'ümlaut',
    'tab\t',
    '5411',
    '541',
    '54111',
    '٥٤١١',
    'EUR',
    'eur',
    'EURO',
    'DE',
    'D',
    ...CHANNELS,
    'ECOMMERCE',
    'approved',
    'declined',
    ...LABELS,
    'authorization',
    'label',
    '2026-09-01T00:02:56.962Z',
    '2026-09-01T00:02:56Z',
    '2026-09-01T00:02:56.123456789+05:30',
    '2026-09-01T00:02:56.962',
    '2026-09-01 00:02:56Z',
    '2026-02-29T00:00:00Z',
    '2024-02-29T00:00:00Z',
    '2026-09-31T00:00:00Z',
    '2026-09-01T24:00:00Z',
    '2026-09-01T00:02:56.962z',
    0,
    -0,
    1,
    -1,
    1.5,
    1e11,
    1e11 + 1,
    2 ** 53,
    597,
    true,
    false,
    null,
    [],
    {},
    ['a'],
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A valid event with some fields replaced, removed, or added (and maybe `kind`/`events` keys). */
const mutatedEvent = fc
  .record({
    base: fc.constantFrom<Record<string, unknown>>(
      { ...authorization },
      { ...label },
      { ...authorization, deviceId: undefined },
    ),
    replace: fc.dictionary(fc.constantFrom(...FIELDS), tricky, { maxKeys: 3 }),
    remove: fc.subarray(FIELDS, { maxLength: 2 }),
    extra: fc.dictionary(
      fc.oneof(
        fc.constantFrom('sim', 'kind', 'events', '__proto__', 'constructor', 'ip'),
        fc.string({ maxLength: 6 }),
      ),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 2 },
    ),
    shuffle: fc.boolean(),
  })
  .map(({ base, replace, remove, extra, shuffle }) => {
    const event: Record<string, unknown> = { ...extra, ...base, ...replace };
    for (const field of remove) delete event[field];
    const entries = Object.entries(event).filter(([, value]) => value !== undefined);
    return Object.fromEntries(shuffle ? entries.reverse() : entries);
  });

/** A line: a mutated event, as JSON (maybe spaced), or broken in one place, or any string. */
const line = fc.oneof(
  { weight: 6, arbitrary: mutatedEvent.map((event) => JSON.stringify(event)) },
  { weight: 1, arbitrary: mutatedEvent.map((event) => JSON.stringify(event, null, 1).replaceAll('\n', ' ')) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        mutatedEvent.map((event) => JSON.stringify(event)),
        fc.nat(),
        fc.string({ unit: 'binary-ascii', maxLength: 3 }),
      )
      .map(([text, at, insert]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + 1);
      }),
  },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

/** The real parser's output with key order made visible (`toEqual` ignores order). */
const withKeyOrder = (result: ReturnType<typeof parseEventLine>) =>
  'events' in result ? { events: result.events.map((event) => Object.entries(event)) } : result;

describe('plainEventOf (the export’s fast event check)', () => {
  it('gives every line exactly the real parser’s events or reason', () => {
    fc.assert(
      fc.property(line, (text) => {
        // prepare
        const real = parseEventLineWithSchemas(text);

        // act
        const fast = parseEventLine(text);

        // assert
        expect(withKeyOrder(fast)).toEqual(withKeyOrder(real));
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts exactly the values that hold one valid event, and nothing the schemas refuse', () => {
    fc.assert(
      fc.property(mutatedEvent, (value) => {
        // prepare
        const real = parseEventLineWithSchemas(JSON.stringify(value));
        const single = !('kind' in value) && !('events' in value);

        // act
        const fast = plainEventOf(JSON.parse(JSON.stringify(value)));

        // assert
        if (fast === undefined) expect(single && 'events' in real).toBe(false);
        else expect(withKeyOrder({ events: [fast] })).toEqual(withKeyOrder(real));
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the fast path for the simulator’s lines, with or without a device and extra keys', () => {
    // prepare
    const { deviceId: _, ...withoutDevice } = authorization;
    const values = [{ ...authorization, sim: { fraud: false, pattern: 'legit' } }, withoutDevice, label];

    const real = values.map((value) => parseEventLineWithSchemas(JSON.stringify(value)));

    // act
    const events = values.map((value) => plainEventOf(JSON.parse(JSON.stringify(value))));

    // assert
    expect(events).toEqual([authorization, withoutDevice, label]);
    expect(events.map((event) => withKeyOrder({ events: event === undefined ? [] : [event] }))).toEqual(
      real.map(withKeyOrder),
    );
  });

  it.each([
    ['a batch', { events: [authorization] }],
    ['an archive record', { kind: 'event', receivedAt: '2026-09-01T00:00:00Z', event: authorization }],
    ['an amount of zero', { ...authorization, amount: 0 }],
    ['a fractional amount', { ...authorization, amount: 5.5 }],
    ['an amount above 1e11', { ...authorization, amount: 1e11 + 1 }],
    ['a 129-character id', { ...authorization, cardId: 'c'.repeat(129) }],
    ['30 February', { ...authorization, timestamp: '2026-02-30T00:00:00Z' }],
    ['a time without offset', { ...label, transactionTimestamp: '2026-09-01T15:39:20' }],
    ['an unknown type', { ...label, type: 'refund' }],
    ['an array', [authorization]],
    ['null', null],
  ])('leaves %s to the real parser', (_, value) => {
    // prepare
    const json: unknown = JSON.parse(JSON.stringify(value));

    // act
    const fast = plainEventOf(json);

    // assert
    expect(fast).toBeUndefined();
  });
});
