/**
 * The signed HTTP caller of the scoring store (`dynamo-http.ts`): what it sends (SigV4 checked
 * by an independent computation, DynamoDB's JSON protocol), the SDK's endpoint rules, and the
 * SDK's standard retry semantics for two attempts, against scripted HTTP servers; and the same
 * items as the SDK client, against the embedded server.
 */
import { createHash, createHmac } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import {
  type DynamoCaller,
  DynamoServiceError,
  lazyCaller,
  SignedHttpCaller,
  sdkCaller,
} from '#adapters/dynamo-http';
import { DynamoSigner } from '#adapters/dynamo-signer';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';

interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
}
/** What a scripted server answers: status and JSON body, or `hold` (never answers). */
type Script = (seen: Seen, index: number) => { status: number; body: object } | 'hold';

interface Scripted {
  endpoint: string;
  seen: Seen[];
  /** Calls `listener` when a client's connection to the server closes. */
  onConnectionClose(listener: () => void): void;
  close(): Promise<void>;
}

async function scriptedServer(script: Script): Promise<Scripted> {
  const seen: Seen[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(request);
      const answer = script(request, seen.length - 1);
      if (answer === 'hold') return;
      res.statusCode = answer.status;
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.setHeader('x-amzn-requestid', `req-${seen.length}`);
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    onConnectionClose: (listener) => server.on('connection', (socket) => socket.on('close', listener)),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'SECRETEXAMPLE',
  sessionToken: 'TOKEN/+=',
};

/** A caller of `endpoint` with no back-off delay (random 0) unless told otherwise. */
function callerOf(
  endpoint: string,
  options: Partial<ConstructorParameters<typeof SignedHttpCaller>[0]> = {},
) {
  return new SignedHttpCaller({
    endpoint: new URL(endpoint),
    signer: new DynamoSigner({ region: 'eu-west-1', credentials: CREDENTIALS, endpoint: new URL(endpoint) }),
    connectionTimeoutMs: 200,
    requestTimeoutMs: 2000,
    maxAttempts: 2,
    random: () => 0,
    ...options,
  });
}

const error = (status: number, type: string, extra: object = {}) => ({
  status,
  body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} happened`, ...extra },
});
const OK = { status: 200, body: { Responses: {} } };
const READ = { RequestItems: { t: { Keys: [{ pk: { S: 'card#1' } }] } } };

describe('the signed HTTP caller: what it sends', () => {
  let server: Scripted;
  beforeEach(async () => {
    server = await scriptedServer(() => OK);
  });
  afterEach(() => server.close());

  it('sends the JSON protocol, signed as SigV4 prescribes (checked by an independent computation)', async () => {
    // prepare
    const caller = await SignedHttpCaller.fromClient(
      new DynamoDBClient({ region: 'eu-west-1', endpoint: server.endpoint, credentials: CREDENTIALS }),
      { connectionTimeoutMs: 200, requestTimeoutMs: 2000, maxAttempts: 2 },
    );
    // act
    const output = await caller.call('BatchGetItem', READ);
    caller.destroy();
    // assert: the protocol
    expect(output).toEqual(OK.body);
    const [{ headers, body }] = server.seen as [Seen];
    expect(JSON.parse(body)).toEqual(READ);
    expect(headers['x-amz-target']).toBe('DynamoDB_20120810.BatchGetItem');
    expect(headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    // assert: the signature, recomputed from the AWS documentation's steps
    const auth = String(headers.authorization);
    const [, credential, signedHeaders, signature] =
      /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth) ??
      [];
    const amzDate = String(headers['x-amz-date']);
    const day = amzDate.slice(0, 8);
    expect(credential).toBe(`${CREDENTIALS.accessKeyId}/${day}/eu-west-1/dynamodb/aws4_request`);
    const names = String(signedHeaders).split(';');
    expect(names).toEqual(
      expect.arrayContaining(['host', 'x-amz-date', 'x-amz-security-token', 'x-amz-target']),
    );
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const canonical = [
      'POST',
      '/',
      '',
      ...names.map((n) => `${n}:${String(headers[n]).trim()}`),
      '',
      signedHeaders,
      sha(body),
    ].join('\n');
    const toSign = [
      'AWS4-HMAC-SHA256',
      amzDate,
      `${day}/eu-west-1/dynamodb/aws4_request`,
      sha(canonical),
    ].join('\n');
    const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
    const key = ['eu-west-1', 'dynamodb', 'aws4_request'].reduce(
      (k, part) => hmac(k, part),
      hmac(`AWS4${CREDENTIALS.secretAccessKey}`, day),
    );
    expect(signature).toBe(createHmac('sha256', key).update(toSign).digest('hex'));
  });

  it("resolves the endpoint once with the SDK's rules: regional, FIPS, or the configured one", async () => {
    // prepare
    const parts = { connectionTimeoutMs: 200, requestTimeoutMs: 2000, maxAttempts: 2 };
    const of = async (config: ConstructorParameters<typeof DynamoDBClient>[0]) => {
      const caller = await SignedHttpCaller.fromClient(
        new DynamoDBClient({ credentials: CREDENTIALS, ...config }),
        parts,
      );
      caller.destroy();
      return caller.endpoint.href;
    };
    // act
    const endpoints = [
      await of({ region: 'eu-west-1' }),
      await of({ region: 'us-east-1', useFipsEndpoint: true }),
      await of({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:8000' }),
    ];
    // assert
    expect(endpoints).toEqual([
      'https://dynamodb.eu-west-1.amazonaws.com/',
      'https://dynamodb-fips.us-east-1.amazonaws.com/',
      'http://127.0.0.1:8000/',
    ]);
  });
});

describe('the signed HTTP caller: errors and the standard retry semantics', () => {
  let server: Scripted | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each([
    ['a server error', error(500, 'InternalServerError')],
    ['throttling', error(400, 'ProvisionedThroughputExceededException')],
    ['HTTP 429', { status: 429, body: {} }],
    ['HTTP 503', { status: 503, body: {} }],
  ])('retries %s once, then answers', async (_name, first) => {
    // prepare
    server = await scriptedServer((_seen, i) => (i === 0 ? first : OK));
    const caller = callerOf(server.endpoint);
    // act
    const output = await caller.call('BatchGetItem', READ);
    caller.destroy();
    // assert
    expect(output).toEqual(OK.body);
    expect(server.seen).toHaveLength(2);
  });

  it('names an error as the SDK does and does not retry what a retry cannot mend', async () => {
    // prepare
    server = await scriptedServer(() => error(400, 'ValidationException'));
    const caller = callerOf(server.endpoint);
    // act
    const failure = await caller.call('PutItem', {}).catch((e: unknown) => e);
    caller.destroy();
    // assert
    expect(failure).toBeInstanceOf(DynamoServiceError);
    expect(failure).toMatchObject({
      name: 'ValidationException',
      message: 'ValidationException happened',
      $metadata: { httpStatusCode: 400, requestId: 'req-1' },
    });
    expect(server.seen).toHaveLength(1);
  });

  it('hands a failed condition its item, without a retry', async () => {
    // prepare
    const item = { id: { S: 'answer#1' }, requestHash: { S: 'h' } };
    server = await scriptedServer(() => error(400, 'ConditionalCheckFailedException', { Item: item }));
    const caller = callerOf(server.endpoint);
    // act
    const failure = await caller.call('PutItem', {}).catch((e: unknown) => e);
    caller.destroy();
    // assert
    expect(failure).toMatchObject({ name: 'ConditionalCheckFailedException', Item: item });
    expect(server.seen).toHaveLength(1);
  });

  it('gives up after the second attempt, with the last error', async () => {
    // prepare
    server = await scriptedServer((_seen, i) => error(500, `InternalServerError${i}`));
    const caller = callerOf(server.endpoint);
    // act
    const failure = await caller.call('BatchGetItem', READ).catch((e: unknown) => e);
    caller.destroy();
    // assert
    expect(failure).toMatchObject({ name: 'InternalServerError1', $metadata: { httpStatusCode: 500 } });
    expect(server.seen).toHaveLength(2);
  });

  it('stops retrying when its retry quota is spent, as the SDK does (500 tokens, 5 per retry)', async () => {
    // prepare
    server = await scriptedServer(() => error(500, 'InternalServerError'));
    const caller = callerOf(server.endpoint);
    // act: 100 failing calls spend the quota on their retries; the 101st gets no retry
    for (let i = 0; i < 101; i += 1) await caller.call('BatchGetItem', READ).catch(() => undefined);
    caller.destroy();
    // assert
    expect(server.seen).toHaveLength(100 * 2 + 1);
  });

  it('backs off before the retry by a random share of the SDK base (100 ms, 500 ms when throttled)', async () => {
    // prepare
    server = await scriptedServer((_seen, i) => (i === 0 ? error(400, 'ThrottlingException') : OK));
    const caller = callerOf(server.endpoint, { random: () => 0.25 });
    // act
    const throttledStart = Date.now();
    await caller.call('BatchGetItem', READ);
    const throttled = Date.now() - throttledStart;
    caller.destroy();
    // assert: 0.25 × 500 ms × 2
    expect(throttled).toBeGreaterThanOrEqual(240);
    expect(throttled).toBeLessThan(2000);
  });

  it('times an attempt out when the server does not answer, and retries it once', async () => {
    // prepare
    server = await scriptedServer(() => 'hold');
    const caller = callerOf(server.endpoint, { requestTimeoutMs: 100 });
    // act
    const started = Date.now();
    const failure = await caller.call('BatchGetItem', READ).catch((e: unknown) => e);
    const took = Date.now() - started;
    caller.destroy();
    // assert
    expect(failure).toMatchObject({ name: 'TimeoutError' });
    expect(server.seen).toHaveLength(2);
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
  });

  it('stops at once on abort, in flight or during the back-off, and never retries an abort', async () => {
    // prepare
    server = await scriptedServer((_seen, i) => (i === 1 ? error(500, 'InternalServerError') : 'hold'));
    const caller = callerOf(server.endpoint, { random: () => 0.99 });
    // act: in flight
    const inFlight = new AbortController();
    const held = caller.call('BatchGetItem', READ, inFlight.signal).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    inFlight.abort(new Error('deadline'));
    const first = await held;
    // act: in the back-off after the 500 (up to 198 ms)
    const backingOff = new AbortController();
    const started = Date.now();
    const retried = caller.call('BatchGetItem', READ, backingOff.signal).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 60));
    backingOff.abort(new Error('deadline'));
    const second = await retried;
    const took = Date.now() - started;
    caller.destroy();
    // assert
    expect(first).toMatchObject({ name: 'AbortError' });
    expect(second).toMatchObject({ name: 'AbortError' });
    expect(took).toBeLessThan(150);
    expect(server.seen).toHaveLength(2);
  });
  it('closes the connection of a request it aborts, and leaves no listener on a signal it was given', async () => {
    // prepare: the first request is held, the others answered
    const scripted = await scriptedServer((_seen, i) => (i === 0 ? 'hold' : OK));
    server = scripted;
    const closed = new Promise<void>((resolve) => scripted.onConnectionClose(resolve));
    const caller = callerOf(scripted.endpoint);
    const held = new AbortController();
    const longLived = new AbortController();
    // act
    const aborted = caller.call('BatchGetItem', READ, held.signal).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const abortedAt = Date.now();
    held.abort(new Error('deadline'));
    const outcome = await aborted;
    await closed;
    // Well before the attempt's own timeout (2 s), which would also end it.
    const closedAfterMs = Date.now() - abortedAt;
    for (let i = 0; i < 20; i += 1) await caller.call('BatchGetItem', READ, longLived.signal);
    caller.destroy();
    // assert: aborted, its socket closed (the server saw it), and no listener kept by either signal
    expect(outcome).toMatchObject({ name: 'AbortError' });
    expect(closedAfterMs).toBeLessThan(1000);
    expect(getEventListeners(held.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(longLived.signal, 'abort')).toHaveLength(0);
    expect(scripted.seen).toHaveLength(21);
  });
});

describe('the signed HTTP caller against the embedded server', () => {
  let dynamo: TestDynamo;
  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(() => dynamo.close());

  it('reports a missing table by its DynamoDB name, unretried', async () => {
    // act
    const failure = await dynamo.scoringCaller
      .call('GetItem', { TableName: 'no-such-table', Key: { id: { S: 'x' } } })
      .catch((e: unknown) => e);
    // assert
    expect(failure).toBeInstanceOf(DynamoServiceError);
    expect(failure).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
  });

  it('stores and reads any string as the SDK client does, both ways', async () => {
    const sdk = sdkCaller(dynamo.scoringClient);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (value) => {
        n += 1;
        for (const [writer, reader] of [
          [dynamo.scoringCaller, sdk],
          [sdk, dynamo.scoringCaller],
        ] as const) {
          const id = `prop-${n}-${writer === sdk ? 'sdk' : 'http'}`;
          await writer.call('PutItem', {
            TableName: dynamo.idempotencyTable,
            Item: { id: { S: id }, response: { S: value } },
          });
          const read = await reader.call<{ Item?: { response?: { S?: string } } }>('GetItem', {
            TableName: dynamo.idempotencyTable,
            Key: { id: { S: id } },
            ConsistentRead: true,
          });
          expect(read.Item?.response?.S).toBe(value);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('lazyCaller (the updater entry, which cannot await its set-up)', () => {
  it('builds its caller once, on the first calls, and releases it on destroy', async () => {
    // prepare
    const calls: string[] = [];
    let builds = 0;
    let destroyed = 0;
    const caller = lazyCaller(async () => {
      builds += 1;
      return {
        call: async <Output>(operation: string) => {
          calls.push(operation);
          return {} as Output;
        },
        destroy: () => {
          destroyed += 1;
        },
      } satisfies DynamoCaller;
    });
    // act: two calls before the build has resolved, one after
    await Promise.all([caller.call('GetItem', {}), caller.call('PutItem', {})]);
    await caller.call('BatchGetItem', {});
    caller.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    // assert
    expect(builds).toBe(1);
    expect(calls).toEqual(['GetItem', 'PutItem', 'BatchGetItem']);
    expect(destroyed).toBe(1);
  });
});
