/**
 * The archive's records and its bounded buffer: records carry tokens and the answer's fields,
 * partition by the event's own date, and the buffer delivers by size and by interval, never
 * holds more than its capacity, and counts every record exactly once as delivered or dropped.
 */
import fc from 'fast-check';
import {
  type ArchiveRecord,
  type ArchiveSink,
  archiveDate,
  archivePrefix,
  BufferedArchive,
  EVENT_TYPES,
  type EventRecord,
  eventRecordOf,
  recordPrefix,
  scoreRecordOf,
} from '#domain/archive';
import { eventSchema } from '#domain/contract';
import type { ScoreOutcome } from '#domain/score';
import type { ScoreRequest, TransactionEvent } from '#domain/types';
import { authorizationEvent, chargebackEvent } from '../support/events';

const REQUEST: ScoreRequest = {
  transactionId: 'tx-1',
  cardId: 'card_000042',
  merchantId: 'm_7',
  mcc: '5411',
  amount: 60_000,
  currency: 'EUR',
  country: 'DE',
  channel: 'ecommerce',
  timestamp: '2026-11-23T23:30:00+01:00',
  ip: '10.0.0.1',
  deviceId: 'dev-9',
};

function outcome(overrides: Partial<ScoreOutcome['response']> = {}, cardFound = false) {
  return {
    response: {
      transactionId: 'tx-1',
      score: 0.42,
      decision: 'review' as const,
      reasons: [
        { code: 'CARD_COUNT_1H', feature: 'card_count_1h', value: 3, contribution: 0.1 },
        { code: 'NEW_COUNTRY' },
      ],
      model: { name: 'fraud-gbdt', version: '1.0.0' },
      policyVersion: '2026-11-23.1',
      degraded: ['neural_unavailable' as const],
      ...overrides,
    },
    signals: { cardFound, merchantFound: true, staleItems: 0, decidedBy: 'threshold', errors: [] },
  } as unknown as Pick<ScoreOutcome, 'response' | 'signals'>;
}

function event(i: number, timestamp = '2026-11-23T10:00:00Z'): TransactionEvent {
  return chargebackEvent({
    eventId: `evt-${i}`,
    transactionId: `tx-${i}`,
    timestamp,
    transactionTimestamp: '2026-11-01T10:00:00Z',
  });
}

const record = (i: number): EventRecord => eventRecordOf(event(i), 0);

/** A sink that records batches and answers with a scripted result. */
function recordingSink(result: (batch: readonly ArchiveRecord[]) => Promise<number> = async () => 0) {
  const batches: ArchiveRecord[][] = [];
  const sink: ArchiveSink = {
    deliver: async (batch) => {
      batches.push([...batch]);
      return result(batch);
    },
  };
  return { sink, batches };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('scoreRecordOf', () => {
  it('keeps the answer, the versions, the segment and the token, and nothing else of the request', () => {
    // prepare
    const scoredAt = Date.parse('2026-11-23T22:30:00.050Z');
    // act
    const record = scoreRecordOf(
      REQUEST,
      outcome(),
      { functionVersion: '42', modelVersion: '1.0.0' },
      scoredAt,
    );
    // assert
    expect(record).toEqual({
      kind: 'score',
      transactionId: 'tx-1',
      cardId: 'card_000042',
      merchantId: 'm_7',
      eventTime: '2026-11-23T23:30:00+01:00',
      scoredAt: '2026-11-23T22:30:00.050Z',
      functionVersion: '42',
      modelVersion: '1.0.0',
      policyVersion: '2026-11-23.1',
      score: 0.42,
      decision: 'review',
      reasons: ['CARD_COUNT_1H', 'NEW_COUNTRY'],
      degraded: ['neural_unavailable'],
      segment: 'ecommerce.high.new',
      amount: 60_000,
      currency: 'EUR',
      channel: 'ecommerce',
    });
    expect(JSON.stringify(record)).not.toMatch(/10\.0\.0\.1|dev-9|5411/);
  });

  it('marks a known card, keeps a null score of a rules-only answer and the deploy version without a model', () => {
    // prepare
    const rulesOnly = outcome({ score: null, model: null, degraded: ['model_unavailable'] }, true);
    // act
    const record = scoreRecordOf(REQUEST, rulesOnly, { functionVersion: '7', modelVersion: '2.0.0' }, 0);
    // assert
    expect(record.score).toBeNull();
    expect(record.modelVersion).toBe('2.0.0');
    expect(record.segment).toBe('ecommerce.high.known');
  });

  it('carries a shadow score only when there is one', () => {
    // prepare
    const shadow = { model: 'fraud-gbdt', version: '1.1.0', score: 0.9, decision: 'decline' };
    // act
    const withShadow = scoreRecordOf(
      REQUEST,
      outcome(),
      { functionVersion: '1', modelVersion: '1' },
      0,
      shadow,
    );
    const without = scoreRecordOf(REQUEST, outcome(), { functionVersion: '1', modelVersion: '1' }, 0);
    // assert
    expect(withShadow.shadow).toEqual(shadow);
    expect('shadow' in without).toBe(false);
  });

  it("keeps the outcome's first shadow (the candidate) beside the live answer", () => {
    // prepare
    const shadows = [
      {
        name: 'shadow',
        model: { name: 'fraud-gbdt', version: '1.1.0' },
        score: 0.91,
        decision: 'decline' as const,
        agrees: false,
      },
      {
        name: 'neural',
        model: { name: 'fraud-seq', version: '1.0.0' },
        score: 0.2,
        decision: 'approve' as const,
        agrees: false,
      },
    ];
    // act
    const record = scoreRecordOf(
      REQUEST,
      { ...outcome(), shadows },
      { functionVersion: '1', modelVersion: '1' },
      0,
    );
    const none = scoreRecordOf(
      REQUEST,
      { ...outcome(), shadows: [] },
      { functionVersion: '1', modelVersion: '1' },
      0,
    );
    // assert
    expect(record.shadow).toEqual({
      model: 'fraud-gbdt',
      version: '1.1.0',
      score: 0.91,
      decision: 'decline',
    });
    expect('shadow' in none).toBe(false);
  });
});

describe('archive layout', () => {
  it('partitions by the date the event time is written with, and events by their type too', () => {
    // prepare
    const score = scoreRecordOf(REQUEST, outcome(), { functionVersion: '1', modelVersion: '1' }, 0);
    const label = eventRecordOf(event(1, '2026-03-01T08:00:00+01:00'), 0);
    const authorization = eventRecordOf(
      authorizationEvent({ eventId: 'a1', transactionId: 'tx1', timestamp: '2026-01-31T23:59:59.999Z' }),
      Date.parse('2026-03-01T00:00:00Z'),
    );
    // act
    const prefixes = [score, authorization, label].map(recordPrefix);
    // assert
    expect(prefixes).toEqual([
      'score/dt=2026-11-23/',
      'event/type=authorization/dt=2026-01-31/',
      'event/type=label/dt=2026-03-01/',
    ]);
    expect(archivePrefix('event', '*', 'label')).toBe('event/type=label/dt=*/');
    expect(authorization.receivedAt).toBe('2026-03-01T00:00:00.000Z');
  });

  it('lists every event type the contract accepts, each a partition of its own', () => {
    // act
    const contractTypes = eventSchema.options.map((option) => option.shape.type.value);
    // assert
    expect([...EVENT_TYPES].sort()).toEqual([...contractTypes].sort());
  });

  it('never turns a type outside the contract into a path', () => {
    fc.assert(
      fc.property(fc.string(), (type) => {
        // prepare
        const odd = eventRecordOf({ ...event(1, '2026-01-31T10:00:00Z'), type } as never, 0);
        // act
        const prefix = recordPrefix(odd);
        // assert
        expect(prefix).toMatch(/^event\/type=(authorization|label|unknown)\/dt=2026-01-31\/$/);
      }),
    );
  });

  it('never turns a malformed time into a path', () => {
    fc.assert(
      fc.property(fc.string(), (timestamp) => {
        // prepare
        const malformed = eventRecordOf(event(1, timestamp), 0);
        // act
        const date = archiveDate(malformed);
        // assert
        expect(date).toMatch(/^\d{4}-\d\d-\d\d$/);
      }),
    );
  });
});

describe('BufferedArchive', () => {
  it('delivers a full batch at once, without waiting for the interval', async () => {
    // prepare
    const { sink, batches } = recordingSink();
    const archive = new BufferedArchive(sink, { batchSize: 3, intervalMs: 60_000 });
    // act
    for (let i = 0; i < 3; i++) archive.offer(record(i));
    await tick();
    // assert
    expect(batches.map((b) => b.length)).toEqual([3]);
    expect(archive.takeCounts()).toEqual({ delivered: 3, dropped: 0 });
    expect(archive.takeCounts()).toEqual({ delivered: 0, dropped: 0 });
    await archive.close();
  });

  it('delivers a partial batch after the interval, not before', async () => {
    // prepare
    jest.useFakeTimers();
    const { sink, batches } = recordingSink();
    const archive = new BufferedArchive(sink, { batchSize: 100, intervalMs: 1000 });
    try {
      // act
      archive.offer(record(1));
      archive.offer(record(2));
      await jest.advanceTimersByTimeAsync(999);
      const before = batches.length;
      await jest.advanceTimersByTimeAsync(1);
      // assert
      expect(before).toBe(0);
      expect(batches.map((b) => b.length)).toEqual([2]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('with interval 0, delivers on the next turn of the event loop (after the current request returns)', async () => {
    // prepare
    const { sink, batches } = recordingSink();
    const archive = new BufferedArchive(sink, { intervalMs: 0 });
    // act
    archive.offer(record(1));
    const synchronously = batches.length;
    await tick();
    // assert
    expect(synchronously).toBe(0);
    expect(batches).toHaveLength(1);
  });

  it('drops offers past its capacity, in flight included, and counts them', async () => {
    // prepare
    let release: (value: number) => void = () => {};
    const { sink } = recordingSink(() => new Promise<number>((resolve) => (release = resolve)));
    const archive = new BufferedArchive(sink, { capacity: 4, batchSize: 2, intervalMs: 60_000 });
    // act
    for (let i = 0; i < 6; i++) archive.offer(record(i));
    const held = archive.size;
    release(0);
    await tick();
    release(0);
    await archive.close();
    // assert
    expect(held).toBe(4);
    expect(archive.takeCounts()).toEqual({ delivered: 4, dropped: 2 });
  });

  it('counts what the sink refused and what a throwing sink held as dropped, and reports the error', async () => {
    // prepare
    const errors: unknown[] = [];
    let call = 0;
    const { sink } = recordingSink(async () => {
      call++;
      if (call === 1) return 1;
      throw new Error('stream gone');
    });
    const archive = new BufferedArchive(sink, {
      batchSize: 3,
      intervalMs: 60_000,
      onError: (e) => errors.push(e),
    });
    // act
    for (let i = 0; i < 5; i++) archive.offer(record(i));
    await archive.close();
    // assert
    expect(archive.takeCounts()).toEqual({ delivered: 2, dropped: 3 });
    expect((errors[0] as Error).message).toBe('stream gone');
  });

  it('ignores a sink that claims more failures than records, or fewer than none', async () => {
    // prepare
    const answers = [99, -5];
    const { sink } = recordingSink(async () => answers.shift() ?? 0);
    const archive = new BufferedArchive(sink, { batchSize: 2, intervalMs: 60_000 });
    // act
    for (let i = 0; i < 4; i++) archive.offer(record(i));
    await archive.close();
    // assert
    expect(archive.takeCounts()).toEqual({ delivered: 2, dropped: 2 });
  });

  it('a record offered while a delivery runs is delivered by that drain, not stranded', async () => {
    // prepare
    let release: (value: number) => void = () => {};
    const { sink, batches } = recordingSink(() => new Promise<number>((resolve) => (release = resolve)));
    const archive = new BufferedArchive(sink, { batchSize: 10, intervalMs: 0 });
    archive.offer(record(1));
    await tick();
    // act
    archive.offer(record(2));
    release(0);
    await tick();
    release(0);
    await archive.close();
    // assert
    expect(batches.map((b) => b.map((r) => (r as EventRecord).event.eventId))).toEqual([
      ['evt-1'],
      ['evt-2'],
    ]);
    expect(archive.takeCounts()).toEqual({ delivered: 2, dropped: 0 });
  });

  it('refuses settings that cannot work', () => {
    // prepare
    const { sink } = recordingSink();
    // act
    const attempts = [{ capacity: 0 }, { batchSize: 0.5 }, { intervalMs: -1 }, { intervalMs: Number.NaN }];
    // assert
    for (const options of attempts) expect(() => new BufferedArchive(sink, options)).toThrow(RangeError);
  });

  it('accounts for every offer exactly once and never holds more than its capacity, whatever the sink does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.oneof(fc.constant('ok'), fc.constant('throw'), fc.integer({ min: 0, max: 10 })), {
          maxLength: 20,
        }),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 15 }),
        async (capacity, batchSize, script, bursts) => {
          // prepare
          let maxHeld = 0;
          let archive: BufferedArchive | undefined;
          const sink: ArchiveSink = {
            deliver: async (batch) => {
              maxHeld = Math.max(maxHeld, archive?.size ?? 0);
              const step = script.shift() ?? 'ok';
              if (step === 'throw') throw new Error('down');
              return step === 'ok' ? 0 : Math.min(step, batch.length);
            },
          };
          archive = new BufferedArchive(sink, { capacity, batchSize, intervalMs: 0 });
          let offered = 0;
          // act
          for (const burst of bursts) {
            for (let i = 0; i < burst; i++) {
              archive.offer(record(offered++));
              maxHeld = Math.max(maxHeld, archive.size);
            }
            await tick();
          }
          await archive.close();
          // assert
          const counts = archive.takeCounts();
          expect(counts.delivered + counts.dropped).toBe(offered);
          expect(maxHeld).toBeLessThanOrEqual(capacity);
          expect(archive.size).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
