/**
 * The local dynalite's background lane: the gate that runs at most N updater requests at once,
 * and the second port that serves the same tables through it.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { FEATURE_TABLE } from '#shared/table-schema';
import { ensureTable, Gate, startDynalite } from '../../scripts/local/dynamo-local';

describe('Gate', () => {
  it('never runs more than its limit at once, runs every task, and starts them in arrival order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(3), { maxLength: 30 }),
        async (limit, delays) => {
          // prepare
          const gate = new Gate(limit);
          let active = 0;
          let peak = 0;
          const started: number[] = [];
          // act
          const results = await Promise.all(
            delays.map((delay, i) =>
              gate.run(async () => {
                started.push(i);
                active += 1;
                peak = Math.max(peak, active);
                await new Promise((resolve) => setTimeout(resolve, delay));
                active -= 1;
                return i;
              }),
            ),
          );
          // assert
          expect(peak).toBeLessThanOrEqual(limit);
          expect(results).toEqual(delays.map((_, i) => i));
          expect(started).toEqual(delays.map((_, i) => i));
          expect(gate.load).toEqual({ active: 0, waiting: 0 });
        },
      ),
      { numRuns: 30 },
    );
  });

  it('frees the slot of a task that fails', async () => {
    // prepare
    const gate = new Gate(1);
    // act
    const failed = gate.run(async () => {
      throw new Error('boom');
    });
    const next = gate.run(async () => 'ran');
    // assert
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });
});

describe('startDynalite with a background lane', () => {
  it('serves the same tables on both endpoints', async () => {
    // prepare
    const server = await startDynalite({ backgroundInFlight: 1 });
    const client = (endpoint: string) =>
      new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
    const main = client(server.endpoint);
    const background = client(server.backgroundEndpoint as string);
    try {
      await ensureTable(main, 'lane-features', FEATURE_TABLE);
      // act
      const seen = await Promise.all(
        Array.from({ length: 5 }, () =>
          background.send(new DescribeTableCommand({ TableName: 'lane-features' })),
        ),
      );
      // assert
      expect(server.backgroundEndpoint).not.toBe(server.endpoint);
      for (const answer of seen) expect(answer.Table?.TableName).toBe('lane-features');
    } finally {
      main.destroy();
      background.destroy();
      await server.close();
    }
  });

  it('has no background endpoint unless asked', async () => {
    // prepare / act
    const server = await startDynalite();
    // assert
    expect(server.backgroundEndpoint).toBeUndefined();
    await server.close();
  });
});
