import fc from 'fast-check';
import {
  applyToRing,
  fnv1a,
  MCC_GROUPS,
  mccGroup,
  RING_SIZE,
  type RingStep,
  ringFromStored,
  ringItemBytes,
  ringToStored,
  SEQUENCE_FEATURES,
  SEQUENCE_STEPS,
  SEQUENCE_WIDTH,
  type SequenceRing,
  sequenceTensor,
} from '#domain/sequence';
import { type AuthorizationEvent, CHANNELS } from '#domain/types';
import { authorizationEvent, chargebackEvent } from '../support/events';

const T0 = Date.parse('2026-10-05T10:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

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

function fold(events: readonly AuthorizationEvent[], ring?: SequenceRing): RingStep[] {
  let current = ring ?? [];
  for (const event of events) current = applyToRing(current, event).ring;
  return current.slice();
}

/** Row `j` (0-based, padding included) of the tensor as a name → value map. */
function step(data: Float32Array, j: number): Record<string, number> {
  const row: Record<string, number> = {};
  SEQUENCE_FEATURES.forEach((f, i) => {
    row[f.name] = data[j * SEQUENCE_WIDTH + i] as number;
  });
  return row;
}

const request = (overrides: Partial<AuthorizationEvent> = {}) => auth(T0 + 10 * HOUR, overrides);

describe('applyToRing', () => {
  it('keeps steps in event-time order whatever the arrival order', () => {
    // prepare
    const late = auth(T0 + 2 * MIN);
    const early = auth(T0 + MIN);
    // act
    const ring = fold([late, early]);
    // assert
    expect(ring.map((s) => s[7])).toEqual([early.eventId, late.eventId]);
  });

  it('ignores a redelivered event and says so', () => {
    // prepare
    const event = auth(T0);
    const ring = fold([event]);
    // act
    const again = applyToRing(ring, event);
    // assert
    expect(again.applied).toBe(false);
    expect(again.ring).toEqual(ring);
  });

  it('ignores labels: the ring holds authorizations only', () => {
    // prepare
    const label = chargebackEvent({
      eventId: 'lbl_1',
      transactionId: 'tx_1',
      timestamp: new Date(T0).toISOString(),
      transactionTimestamp: new Date(T0).toISOString(),
    });
    // act
    const result = applyToRing([], label);
    // assert
    expect(result).toEqual({ ring: [], applied: false });
  });

  it('keeps the newest RING_SIZE steps and drops an event older than a full ring', () => {
    // prepare
    const events = Array.from({ length: RING_SIZE + 5 }, (_, i) => auth(T0 + i * MIN));
    const full = fold(events);
    // act
    const old = applyToRing(full, auth(T0 - HOUR));
    // assert
    expect(full).toHaveLength(RING_SIZE);
    expect(full[0]?.[7]).toBe(events[5]?.eventId);
    expect(old.applied).toBe(false);
    expect(old.ring).toEqual(full);
  });

  it('stores compact numbers: time, amount, mcc, channel and hashed keys', () => {
    // prepare
    const event = auth(T0, {
      amount: 4599,
      mcc: '5732',
      channel: 'ecommerce',
      deviceId: 'dev-9',
      merchantId: 'm_7',
    });
    // act
    const [stored] = fold([event]);
    // assert
    expect(stored).toEqual([T0, 4599, 5732, 1, fnv1a('DE'), fnv1a('dev-9'), fnv1a('m_7'), event.eventId]);
  });

  it('throws on an unparseable timestamp rather than filing it somewhere', () => {
    // prepare
    const event = { ...auth(T0), timestamp: 'yesterday' };
    // act
    const act = () => applyToRing([], event);
    // assert
    expect(act).toThrow(RangeError);
  });

  const arbitraryEvents = fc
    .array(
      fc.record({
        offset: fc.integer({ min: 0, max: 48 * 60 }),
        id: fc.integer({ min: 0, max: 80 }),
        amount: fc.integer({ min: 1, max: 1_000_000 }),
        merchant: fc.integer({ min: 0, max: 5 }),
      }),
      { maxLength: 80 },
    )
    .map((rows) => {
      // One event per id: the same id always carries the same content, as in the event stream.
      const byId = new Map(rows.map((r) => [r.id, r]));
      return [...byId.values()].map((r) => ({
        ...auth(T0 + r.offset * MIN, { amount: r.amount, merchantId: `m_${r.merchant}` }),
        eventId: `evt_p${r.id}`,
      }));
    });

  it('is a function of the set of events: any order, any duplicates, same ring (property)', () => {
    fc.assert(
      fc.property(
        arbitraryEvents.chain((events) =>
          fc.tuple(
            fc.constant(events),
            fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
            fc.array(fc.nat({ max: Math.max(0, events.length - 1) }), { maxLength: 20 }),
          ),
        ),
        ([events, shuffled, duplicates]) => {
          // prepare
          const redelivered = [...shuffled, ...duplicates.flatMap((i) => (events[i] ? [events[i]] : []))];
          // act
          const inOrder = fold(events);
          const anyOrder = fold(redelivered);
          // assert
          expect(anyOrder).toEqual(inOrder);
          expect(inOrder.length).toBe(Math.min(RING_SIZE, events.length));
          for (let i = 1; i < inOrder.length; i++) {
            expect((inOrder[i] as RingStep)[0]).toBeGreaterThanOrEqual((inOrder[i - 1] as RingStep)[0]);
          }
        },
      ),
    );
  });
});

describe('sequenceTensor', () => {
  it('puts the request last and left-pads the rest with zeros', () => {
    // prepare
    const ring = fold([auth(T0), auth(T0 + HOUR)]);
    // act
    const input = sequenceTensor(ring, request(), T0 + 10 * HOUR);
    // assert
    expect(input.length).toBe(3);
    expect(input.data).toHaveLength(SEQUENCE_STEPS * SEQUENCE_WIDTH);
    expect(
      Array.from(input.data.subarray(0, (SEQUENCE_STEPS - 3) * SEQUENCE_WIDTH)).every((v) => v === 0),
    ).toBe(true);
    expect(step(input.data, SEQUENCE_STEPS - 1).is_current).toBe(1);
    expect(step(input.data, SEQUENCE_STEPS - 2).is_current).toBe(0);
    expect(step(input.data, SEQUENCE_STEPS - 3).valid).toBe(1);
    expect(step(input.data, SEQUENCE_STEPS - 3).first).toBe(1);
  });

  it('an unknown card sends the request alone', () => {
    // act
    const input = sequenceTensor(undefined, request({ amount: 2500 }), T0 + 10 * HOUR);
    const last = step(input.data, SEQUENCE_STEPS - 1);
    // assert
    expect(input.length).toBe(1);
    expect(last.first).toBe(1);
    expect(last.amount_log).toBeCloseTo(Math.log1p(2500) / 10, 6);
    expect(last.amount_vs_usual).toBe(0);
    expect(last.new_country).toBe(0);
  });

  it('flags a new country, device and merchant against the earlier steps only', () => {
    // prepare
    const ring = fold([auth(T0, { deviceId: 'dev-a' }), auth(T0 + MIN, { deviceId: 'dev-a' })]);
    // act
    const known = step(
      sequenceTensor(ring, request({ deviceId: 'dev-a' }), T0 + 10 * HOUR).data,
      SEQUENCE_STEPS - 1,
    );
    const fresh = step(
      sequenceTensor(ring, request({ deviceId: 'dev-b', country: 'NG', merchantId: 'm_9' }), T0 + 10 * HOUR)
        .data,
      SEQUENCE_STEPS - 1,
    );
    // assert
    expect([known.new_country, known.new_device, known.new_merchant, known.has_device]).toEqual([0, 0, 0, 1]);
    expect([fresh.new_country, fresh.new_device, fresh.new_merchant, fresh.has_device]).toEqual([1, 1, 1, 1]);
  });

  it('measures the gap to the previous step and the amount against the usual amount', () => {
    // prepare
    const ring = fold([auth(T0, { amount: 1000 }), auth(T0 + HOUR, { amount: 1000 })]);
    // act
    const last = step(
      sequenceTensor(ring, request({ amount: 20_000 }), T0 + HOUR + 90_000).data,
      SEQUENCE_STEPS - 1,
    );
    // assert
    expect(last.gap_log).toBeCloseTo(Math.log1p(90) / 10, 6);
    expect(last.amount_vs_usual).toBeCloseTo(Math.log1p(20_000) - Math.log1p(1000), 5);
  });

  it('ignores ring steps after the request time (a clock-skewed event never leaks backwards)', () => {
    // prepare
    const ring = fold([auth(T0), auth(T0 + 20 * HOUR)]);
    // act
    const input = sequenceTensor(ring, request(), T0 + 10 * HOUR);
    // assert
    expect(input.length).toBe(2);
  });

  it('one-hot encodes channel and merchant category group', () => {
    // act
    const last = step(
      sequenceTensor(undefined, request({ channel: 'ecommerce', mcc: '7995' }), T0).data,
      SEQUENCE_STEPS - 1,
    );
    // assert
    expect(CHANNELS.map((c) => last[`channel_${c}`])).toEqual([0, 1, 0, 0]);
    expect(MCC_GROUPS.map((g) => last[`mcc_${g}`])).toEqual(
      MCC_GROUPS.map((g) => (g === 'gambling' ? 1 : 0)),
    );
  });

  it('groups merchant categories by code, then by ISO 18245 range', () => {
    // act
    const groups = [5411, 5541, 4511, 3012, 5999, 5732, 5816, 7995, 6051, 8999].map(mccGroup);
    // assert
    expect(groups).toEqual([
      'grocery_dining',
      'fuel_auto',
      'travel',
      'travel',
      'retail',
      'electronics',
      'digital_goods',
      'gambling',
      'money_transfer',
      'other',
    ]);
  });

  it('every value is finite and bounded, for hostile amounts and times (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            offset: fc.integer({ min: -1e9, max: 1e9 }),
            amount: fc.integer({ min: 0, max: 2 ** 40 }),
          }),
          {
            maxLength: 40,
          },
        ),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (rows, amount) => {
          // prepare
          const ring = fold(rows.map((r) => auth(T0 + r.offset, { amount: r.amount })));
          // act
          const input = sequenceTensor(ring, request({ amount }), T0);
          // assert
          expect(input.length).toBeGreaterThanOrEqual(1);
          expect(input.length).toBeLessThanOrEqual(SEQUENCE_STEPS);
          const bad = Array.from(input.data).filter((v) => !Number.isFinite(v) || Math.abs(v) > 5);
          expect(bad).toEqual([]);
        },
      ),
      { numRuns: 50 },
    );
  });
});

/** Rings as the fold builds them, from events with hostile ids, devices and merchants. */
const rings = fc
  .array(
    fc.record({
      minutes: fc.integer({ min: -600_000, max: 600_000 }),
      amount: fc.integer({ min: 1, max: 1_000_000_000 }),
      mcc: fc.oneof(fc.constantFrom('5411', '0000', '9999', 'abcd', ''), fc.string({ maxLength: 4 })),
      id: fc.oneof(
        fc.string(),
        fc.string({ unit: 'binary' }),
        fc.constantFrom('', ',', ':', '1:', 'a,b,c,d,e,f,g,1:x', '\ud800', '\u0000'),
      ),
      device: fc.option(fc.string({ unit: 'grapheme' }), { nil: undefined }),
      merchant: fc.string(),
    }),
    { maxLength: 45 },
  )
  .map((draws) =>
    fold(
      draws.map((d, i) =>
        auth(T0 + d.minutes * MIN, {
          eventId: `${d.id}${i}`,
          amount: d.amount,
          mcc: d.mcc,
          merchantId: d.merchant,
          ...(d.device === undefined ? {} : { deviceId: d.device }),
        }),
      ),
    ),
  );

describe('ringToStored / ringFromStored', () => {
  it('reads back every ring it stores, whatever the event ids hold', () => {
    fc.assert(
      fc.property(rings, (ring) => {
        // act
        const stored = ringToStored(ring);
        // assert: one string for a non-empty ring, and the same steps back
        expect(typeof stored).toBe(ring.length === 0 ? 'object' : 'string');
        expect(ringFromStored(stored)).toEqual(ring);
      }),
      { numRuns: 300 },
    );
  });

  it('still reads the list form items were written with before', () => {
    fc.assert(
      fc.property(rings, (ring) => {
        // prepare: the list of steps, as DynamoDB hands it back
        const listed = JSON.parse(JSON.stringify(ring)) as unknown;
        // act / assert
        expect(ringFromStored(listed)).toEqual(ring);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps the list form for a ring whose numbers are not safe integers', () => {
    // prepare
    const odd: RingStep[] = [[T0 + 0.5, 100, 5411, 0, 1, 0, 2, 'e1']];
    // act
    const stored = ringToStored(odd);
    // assert
    expect(stored).toEqual(odd);
    expect(ringFromStored(stored)).toEqual(odd);
  });

  it('reads a stored text that is not the format (cut, extended, bad separators, lengths, digits) as no ring', () => {
    // prepare: a real ring's text, cut, extended or with its structure broken
    const text = ringToStored(
      fold([auth(T0, { eventId: 'e1' }), auth(T0 + MIN, { eventId: 'e2' })]),
    ) as string;
    const broken = [
      text.slice(0, -1),
      `${text},`,
      `${text}x`,
      text.replace(',', ';'),
      text.replace('2:e1', '3:e1'),
      text.replace('2:e1', 'z:e1'),
      text.replace(/^[0-9a-z]+/, 'XYZ'),
      ',,,,,,,1:e',
      '1,2,3,4,5,6,7,-1:',
      '1,2,3,4,5,6,7,1',
      `${'1,'.repeat(7)}1:e`.repeat(RING_SIZE + 1),
    ];
    for (const value of broken) {
      // act / assert
      expect(ringFromStored(value)).toBeUndefined();
    }
    // and steps out of event-time order
    const [first, second] = text.split(/(?<=:e1)/);
    expect(ringFromStored(`${second}${first}`)).toBeUndefined();
  });
});

describe('ringItemBytes', () => {
  it('a full ring stays a few KB, far below the 400 KB item limit', () => {
    // prepare
    const ring = fold(
      Array.from({ length: RING_SIZE }, (_, i) =>
        auth(T0 + i * MIN, {
          amount: 123_456,
          deviceId: `dev_${i}`,
          eventId: `evt_tx_${'0'.repeat(30)}${i}`,
        }),
      ),
    );
    // act
    const bytes = ringItemBytes(ring);
    // assert
    expect(bytes).toBeGreaterThan(RING_SIZE * 40);
    expect(bytes).toBeLessThan(4_000);
  });

  it('grows with the event id length (strings are counted as UTF-8 bytes)', () => {
    // prepare
    const short = fold([auth(T0, { eventId: 'e' })]);
    const long = fold([auth(T0, { eventId: 'é'.repeat(10) })]);
    // act / assert
    expect(ringItemBytes(long) - ringItemBytes(short)).toBe(19);
  });
});
