/**
 * The local SQS stand-in (`scripts/local/local-queue.ts`): a delivery takes what is pending up to
 * the batch size, so batches stay small while the updater keeps up and grow with a backlog; every
 * message is applied or dead-lettered, whatever the updater answers.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import type { TransactionEvent } from '#domain/types';
import { LocalQueue } from '../../scripts/local/local-queue';

function events(count: number, from = 0): TransactionEvent[] {
  return Array.from(
    { length: count },
    (_, i) => ({ eventId: `e${from + i}` }) as unknown as TransactionEvent,
  );
}

/** A queue whose updater applies everything and records each delivery's size and time. */
function timedQueue(options: { batchSize: number; batchWindowMs: number }) {
  const deliveries: { size: number; afterMs: number }[] = [];
  const started = Date.now();
  const queue = new LocalQueue(async (event) => {
    deliveries.push({ size: event.Records.length, afterMs: Date.now() - started });
    return { batchItemFailures: [] };
  }, options);
  return { queue, deliveries };
}

describe('LocalQueue batches', () => {
  it('delivers one event alone while idle and a backlog in batches of up to batchSize', async () => {
    // prepare
    const sizes: number[] = [];
    let release: (() => void) | undefined;
    const deliver = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      sizes.push(event.Records.length);
      if (sizes.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return { batchItemFailures: [] };
    };
    const queue = new LocalQueue(deliver, { batchSize: 100 });
    // act: one event while idle, then 249 while its delivery is still running
    queue.send(events(1));
    queue.send(events(249, 1));
    release?.();
    await queue.drained();
    // assert
    expect(sizes).toEqual([1, 100, 100, 49]);
    expect(queue.stats).toEqual({ pending: 0, inFlight: 0, applied: 250, redelivered: 0, deadLettered: 0 });
  });

  it('keeps SQS batches of 10 by default', async () => {
    // prepare
    const sizes: number[] = [];
    const queue = new LocalQueue(async (event) => {
      sizes.push(event.Records.length);
      return { batchItemFailures: [] };
    });
    // act
    queue.send(events(25));
    await queue.drained();
    // assert
    expect(sizes).toEqual([10, 10, 5]);
  });

  it('gathers events for up to the batching window, then delivers them as one batch', async () => {
    // prepare
    const { queue, deliveries } = timedQueue({ batchSize: 100, batchWindowMs: 150 });

    // act: five sends 20 ms apart, all inside one window
    for (let i = 0; i < 5; i += 1) {
      queue.send(events(3, i * 3));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await queue.drained();

    // assert
    expect(deliveries.map((d) => d.size)).toEqual([15]);
    expect(deliveries[0]?.afterMs).toBeGreaterThanOrEqual(140);
  });

  it('delivers a full batch before its window ends', async () => {
    // prepare
    const { queue, deliveries } = timedQueue({ batchSize: 10, batchWindowMs: 60_000 });

    // act: one event opens the window, nine more fill the batch
    queue.send(events(1));
    queue.send(events(9, 1));
    await queue.drained();

    // assert: one batch of 10, long before the minute is up
    expect(deliveries.map((d) => d.size)).toEqual([10]);
    expect(deliveries[0]?.afterMs).toBeLessThan(30_000);
  });

  it('applies or dead-letters every message exactly once, whatever the updater answers', async () => {
    // prepare
    const scenario = fc.record({
      sends: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 6 }),
      batchSize: fc.integer({ min: 1, max: 100 }),
      batchWindowMs: fc.integer({ min: 0, max: 3 }),
      // Per delivery: throw, fail some records, or apply all.
      answers: fc.array(fc.oneof(fc.constant('throw' as const), fc.integer({ min: 0, max: 7 })), {
        minLength: 1,
        maxLength: 20,
      }),
    });
    // act / assert
    await fc.assert(
      fc.asyncProperty(scenario, async ({ sends, batchSize, batchWindowMs, answers }) => {
        const applied = new Map<string, number>();
        const deadLettered: string[] = [];
        let deliveries = 0;
        const queue = new LocalQueue(
          async (event) => {
            const answer = answers[deliveries % answers.length];
            deliveries += 1;
            expect(event.Records.length).toBeLessThanOrEqual(batchSize);
            if (answer === 'throw') throw new Error('updater down');
            // Fail the records whose position is a multiple of `answer + 2` (none when it is 7).
            const failed = new Set(
              event.Records.filter((_, i) => answer !== 7 && i % ((answer ?? 0) + 2) === 0).map(
                (r) => r.messageId,
              ),
            );
            for (const { messageId } of event.Records) {
              if (!failed.has(messageId)) applied.set(messageId, (applied.get(messageId) ?? 0) + 1);
            }
            return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
          },
          { batchSize, batchWindowMs, onDeadLetter: (id) => deadLettered.push(id) },
        );
        let total = 0;
        for (const count of sends) {
          queue.send(events(count, total));
          total += count;
        }
        await queue.drained();
        expect(applied.size + deadLettered.length).toBe(total);
        expect([...applied.values()].every((n) => n === 1)).toBe(true);
        expect(deadLettered.every((id) => !applied.has(id))).toBe(true);
        expect(queue.stats).toMatchObject({ pending: 0, inFlight: 0, applied: applied.size });
      }),
      { numRuns: 150, seed: 11 },
    );
  });
});
