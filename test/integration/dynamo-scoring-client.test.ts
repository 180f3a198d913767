import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDynamoClients, createScoringClient } from '#adapters/dynamo-client';
import { createScoringCaller } from '#adapters/dynamo-http';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';

/**
 * The scoring client caches its middleware stack, so a deadline's signal cannot ride on
 * `send`'s options; these tests hold it to really cancelling the HTTP request anyway.
 */
interface Held {
  server: Server;
  endpoint: string;
  /** Requests received, and whether each one's connection was closed by the client. */
  requests: { target: string; closed: boolean }[];
}

/** A server that holds BatchGetItem requests forever and answers PutItem with `{}`. */
async function holdingServer(): Promise<Held> {
  const requests: Held['requests'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const seen = { target: String(req.headers['x-amz-target']), closed: false };
    requests.push(seen);
    req.on('data', () => undefined);
    req.socket.on('close', () => {
      seen.closed = true;
    });
    if (seen.target.endsWith('PutItem')) {
      req.on('end', () => {
        res.setHeader('content-type', 'application/x-amz-json-1.0');
        res.end('{}');
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `http://127.0.0.1:${port}`, requests };
}

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
}

const ANSWER = {
  requestHash: 'h',
  response: {
    transactionId: 'tx',
    score: 0.1,
    decision: 'approve' as const,
    reasons: [],
    model: null,
    policyVersion: 'p',
    degraded: [],
  },
  expiresAt: 4_000_000_000,
};

describe('scoring client: abort signals with a cached middleware stack', () => {
  let held: Held;
  beforeEach(async () => {
    held = await holdingServer();
  });
  afterEach(async () => {
    held.server.closeAllConnections();
    await new Promise((resolve) => held.server.close(resolve));
  });

  it.each([
    ['the scoring client (signal through the request)', async (o: object) => createScoringClient(o)],
    ['a plain client (signal through send options)', async (o: object) => createDynamoClients(o).client],
    ['the signed HTTP caller (the default)', (o: object) => createScoringCaller(o)],
  ])('cancels a held read on abort and closes its connection: %s', async (_name, factory) => {
    // prepare
    const client = await factory({ endpoint: held.endpoint, requestTimeoutMs: 10_000, maxAttempts: 1 });
    const store = new DynamoScoringStore(client, { featureTableName: 'f', answerTableName: 'a' });
    // act: the same command type twice, so the second call runs on the cached stack
    const outcomes: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const controller = new AbortController();
      const read = store.read({ cardId: 'c', merchantId: 'm' }, controller.signal);
      await until(() => held.requests.length > i);
      const started = Date.now();
      controller.abort(new Error('deadline'));
      const error = await read.then(
        () => undefined,
        (e: Error) => e,
      );
      outcomes.push(`${error?.name ?? 'none'} in ${Date.now() - started < 1000 ? '<1s' : '>=1s'}`);
    }
    await until(() => held.requests.every((r) => r.closed));
    client.destroy();
    // assert
    expect(outcomes).toHaveLength(2);
    for (const outcome of outcomes) expect(outcome).toMatch(/^(?!none).* in <1s$/);
    expect(held.requests.map((r) => r.closed)).toEqual([true, true]);
  });

  it('sends without a signal, and a signal of one call does not reach the next one', async () => {
    // prepare
    const client = createScoringClient({ endpoint: held.endpoint, requestTimeoutMs: 10_000, maxAttempts: 1 });
    const store = new DynamoScoringStore(client, { featureTableName: 'f', answerTableName: 'a' });
    const aborted = new AbortController();
    aborted.abort(new Error('earlier deadline'));
    // act
    const first = await store.saveAnswer('tx-1', ANSWER, new AbortController().signal);
    const second = await store.saveAnswer('tx-2', ANSWER);
    const third = await store.saveAnswer('tx-3', ANSWER, aborted.signal).catch((e: Error) => e);
    const fourth = await store.saveAnswer('tx-4', ANSWER);
    client.destroy();
    // assert
    expect(first).toEqual({ stored: true });
    expect(second).toEqual({ stored: true });
    expect(third).toBeInstanceOf(Error);
    expect(fourth).toEqual({ stored: true });
  });
});
