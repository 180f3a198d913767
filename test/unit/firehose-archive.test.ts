/**
 * The Firehose sink against a mocked client: one JSON line per record, refused records (the
 * `FailedPutCount` of a successful call) and failed calls retried exactly once, what still
 * fails reported, and batches kept within PutRecordBatch's count and size limits.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { FIREHOSE_LIMITS, FirehoseArchiveSink, firehoseBatches } from '#adapters/firehose-archive';
import { type EventRecord, eventRecordOf } from '#domain/archive';

const firehose = mockClient(FirehoseClient);
const decoder = new TextDecoder();

function record(i: number, cardId = 'card_1'): EventRecord {
  return eventRecordOf(
    {
      type: 'label',
      eventId: `evt-${i}`,
      transactionId: `tx-${i}`,
      cardId,
      merchantId: 'm_1',
      label: 'chargeback',
      timestamp: '2026-11-23T10:00:00Z',
      transactionTimestamp: '2026-11-01T10:00:00Z',
    },
    0,
  );
}

/** The event ids of each PutRecordBatch call, decoded from the sent bytes. */
function sentIds(): string[][] {
  return firehose.commandCalls(PutRecordBatchCommand).map((call) =>
    (call.args[0].input.Records ?? []).map((r) => {
      const line = decoder.decode(r.Data as Uint8Array);
      expect(line.endsWith('\n')).toBe(true);
      return (JSON.parse(line) as EventRecord).event.eventId;
    }),
  );
}

const sink = () =>
  new FirehoseArchiveSink(new FirehoseClient({ region: 'eu-west-1' }), 'score-stream', { retryDelayMs: 1 });

beforeEach(() => firehose.reset());

describe('FirehoseArchiveSink', () => {
  it('sends every record as one newline-terminated JSON line to its stream', async () => {
    // prepare
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{}, {}] });
    // act
    const failed = await sink().deliver([record(1), record(2)]);
    // assert
    expect(failed).toBe(0);
    expect(sentIds()).toEqual([['evt-1', 'evt-2']]);
    expect(firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.DeliveryStreamName).toBe(
      'score-stream',
    );
  });

  it('resends only the records Firehose refused, once, and succeeds', async () => {
    // prepare
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 2,
        RequestResponses: [
          { RecordId: 'a' },
          { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' },
          { RecordId: 'c' },
          { ErrorCode: 'InternalFailure' },
        ],
      })
      .resolves({ FailedPutCount: 0, RequestResponses: [{}, {}] });
    // act
    const failed = await sink().deliver([record(1), record(2), record(3), record(4)]);
    // assert
    expect(failed).toBe(0);
    expect(sentIds()).toEqual([
      ['evt-1', 'evt-2', 'evt-3', 'evt-4'],
      ['evt-2', 'evt-4'],
    ]);
  });

  it('reports the records still refused after the one retry, and does not try a third time', async () => {
    // prepare
    firehose.on(PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => ({
      FailedPutCount: input.Records.length,
      RequestResponses: input.Records.map(() => ({ ErrorCode: 'ServiceUnavailableException' })),
    }));
    // act
    const failed = await sink().deliver([record(1), record(2), record(3)]);
    // assert
    expect(failed).toBe(3);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(2);
  });

  it('retries a failed call once with the whole batch, and reports it when that fails too', async () => {
    // prepare
    firehose
      .on(PutRecordBatchCommand)
      .rejectsOnce(new Error('socket hang up'))
      .resolves({ FailedPutCount: 0 });
    const errors: unknown[] = [];
    const recovering = new FirehoseArchiveSink(new FirehoseClient({ region: 'eu-west-1' }), 'score-stream', {
      retryDelayMs: 1,
      onError: (error) => errors.push(error),
    });
    // act
    const recovered = await recovering.deliver([record(1), record(2)]);
    firehose.reset();
    firehose.on(PutRecordBatchCommand).rejects(new Error('ResourceNotFoundException'));
    const lost = await recovering.deliver([record(3), record(4)]);
    // assert
    expect(recovered).toBe(0);
    expect(lost).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual([
      'socket hang up',
      'ResourceNotFoundException',
      'ResourceNotFoundException',
    ]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(2);
  });

  it('resends the whole batch when Firehose reports failures without saying which', async () => {
    // prepare
    firehose.on(PutRecordBatchCommand).resolvesOnce({ FailedPutCount: 1 }).resolves({ FailedPutCount: 0 });
    // act
    const failed = await sink().deliver([record(1), record(2)]);
    // assert
    expect(failed).toBe(0);
    expect(sentIds()).toEqual([
      ['evt-1', 'evt-2'],
      ['evt-1', 'evt-2'],
    ]);
  });

  it('counts a record over Firehose’s 1000 KiB limit as failed without sending it', async () => {
    // prepare
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    const huge = record(2, 'x'.repeat(FIREHOSE_LIMITS.recordBytes));
    // act
    const failed = await sink().deliver([record(1), huge]);
    // assert
    expect(failed).toBe(1);
    expect(sentIds()).toEqual([['evt-1']]);
  });

  it('splits 1,200 records into calls of at most 500', async () => {
    // prepare
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    const records = Array.from({ length: 1200 }, (_, i) => record(i));
    // act
    const failed = await sink().deliver(records);
    // assert
    expect(failed).toBe(0);
    expect(sentIds().map((ids) => ids.length)).toEqual([500, 500, 200]);
    expect(sentIds().flat()).toEqual(records.map((r) => r.event.eventId));
  });
});

describe('firehoseBatches', () => {
  it('keeps every record, in order, within 500 records and 4 MiB per call', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1_000 * 1024 }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 1200 }),
        (sizes, small) => {
          // prepare
          const records = [...sizes, ...Array.from({ length: small }, () => 10)].map(
            (n) => new Uint8Array(n),
          );
          // act
          const batches = firehoseBatches(records);
          // assert
          const flat = batches.flat();
          expect(flat.length).toBe(records.length);
          expect(flat.every((r, i) => r === records[i])).toBe(true);
          for (const batch of batches) {
            expect(batch.length).toBeGreaterThan(0);
            expect(batch.length).toBeLessThanOrEqual(FIREHOSE_LIMITS.records);
            expect(batch.reduce((sum, r) => sum + r.byteLength, 0)).toBeLessThanOrEqual(
              FIREHOSE_LIMITS.callBytes,
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
