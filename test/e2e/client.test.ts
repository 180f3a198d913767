/**
 * The typed client against the real local stack (real handlers, dynalite, idempotency),
 * called as the payment service calls it. Faults the local stack has no gateway for
 * (throttling, a dropped connection, a hung API) are injected by a proxy in front of it;
 * REQUEST_IN_PROGRESS is the real handler's answer to a record another call holds.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { createDynamoClients } from '#adapters/dynamo-client';
import { scoreResponseSchema } from '#domain/contract';
import { API_ERRORS } from '../../api/errors';
import {
  BodyTooLargeError,
  IdempotencyMismatchError,
  InvalidRequestError,
  NodeSha256,
  PanDetectedError,
  RequestInProgressError,
  type RetryEvent,
  type ScoreRequest,
  type ScoreResult,
  ScoringClient,
  type ScoringClientOptions,
  ScoringTimeoutError,
  ServerError,
  ThrottledError,
  type TransactionEvent,
} from '../../clients/typescript/src';
import { type LocalStack, startLocalStack } from '../../scripts/local/app';
import { authorizationEvent } from '../support/events';
import { type FaultProxy, startFaultProxy } from './client-fault-proxy';

type ErrorBody = { error: { code: string } };

/**
 * For tests that count attempts: no attempt is abandoned for slowness, so a loaded machine
 * cannot add a retry. The deadline tests set their own budgets.
 */
const PATIENT = { timeoutMs: 10_000, attemptTimeoutMs: 10_000 } as const;

/** `scripts/local/app.ts` names the idempotency table so. */
const IDEMPOTENCY_TABLE = 'local-idempotency';
const PAN = '4111111111111111';

let seq = 0;
const nextId = (prefix: string) => {
  seq += 1;
  return `${prefix}-${Date.now()}-${seq}`;
};

function scoreRequest(overrides: Partial<ScoreRequest> = {}): ScoreRequest {
  return {
    transactionId: nextId('tx-client'),
    cardId: 'card_client',
    merchantId: 'm_client',
    mcc: '5411',
    amount: 2599,
    currency: 'EUR',
    country: 'DE',
    channel: 'ecommerce',
    timestamp: new Date().toISOString(),
    ...overrides,
  };
}

function authorization(cardId: string, merchantId = 'm_client'): TransactionEvent {
  const id = nextId('auth-client');
  return authorizationEvent({
    eventId: `evt-${id}`,
    transactionId: id,
    cardId,
    merchantId,
    amount: 1500,
    timestamp: new Date(Date.now() - 60_000).toISOString(),
  });
}

function scored(result: ScoreResult) {
  if (result.kind !== 'scored')
    throw new Error(`expected an answer, got a fallback: ${result.fallback.reason}`);
  return result;
}

describe('typed client against the local stack', () => {
  let stack: LocalStack;
  let proxy: FaultProxy;
  const retries: RetryEvent[] = [];
  const client = (options: Partial<ScoringClientOptions> = {}) =>
    new ScoringClient({
      baseUrl: proxy.url,
      auth: { type: 'none' },
      onRetry: (event) => retries.push(event),
      ...options,
    });

  beforeAll(async () => {
    stack = await startLocalStack();
    proxy = await startFaultProxy(stack.url);
  });
  afterAll(async () => {
    await proxy.close();
    await stack.close();
  });
  beforeEach(() => {
    retries.length = 0;
    proxy.plan(() => 'forward');
  });

  it('scores a payment and sends events in batches of 25', async () => {
    // prepare
    // One card and merchant per event: concurrent updates of one item within a batch are the
    // updater's business (it retries conflicts, and gives up after 5), not this test's.
    const cardId = nextId('card');
    const events = Array.from({ length: 30 }, (_, i) => authorization(`${cardId}-${i}`, `m_client_${i}`));
    // act
    const result = scored(await client().score(scoreRequest({ cardId }), PATIENT));
    const accepted = await client().sendEvents(events, { timeoutMs: 20_000, attemptTimeoutMs: 20_000 });
    // assert
    expect(scoreResponseSchema.parse(result.response)).toEqual(result.response);
    expect(result).toMatchObject({ attempts: 1, decision: result.response.decision });
    expect(accepted).toEqual({ accepted: 30, eventIds: events.map((e) => e.eventId) });
    const batches = proxy.requests
      .filter((r) => r.path === '/v1/events')
      .map((r) => JSON.parse(r.body).events.length);
    expect(batches.slice(-2)).toEqual([25, 5]);
    expect(retries).toEqual([]);
  });

  it('retries a dropped connection with the same transactionId and gets the same decision', async () => {
    // prepare
    const request = scoreRequest();
    proxy.plan((index) => (index === 0 ? 'drop-after-forward' : 'forward'));
    // act
    const result = scored(await client().score(request, PATIENT));
    // assert
    const [first, second] = proxy.requests.slice(-2);
    expect(first?.upstream?.status).toBe(200);
    expect(result.response).toEqual(JSON.parse(first?.upstream?.body ?? '{}'));
    expect(second?.body).toBe(first?.body);
    expect(result.attempts).toBe(2);
    expect(retries[0]?.error.name).toBe('ScoringNetworkError');
  });

  it('retries 409 REQUEST_IN_PROGRESS after Retry-After and gets the answer', async () => {
    // prepare: a first call scores; its stored answer is then unreadable for 500 ms, as while
    // a concurrent duplicate's answer cannot be read back.
    const request = scoreRequest();
    const original = scored(await client().score(request, PATIENT));
    const restore = await markInProgress(stack, request.transactionId, 500);
    // act
    const started = Date.now();
    const result = scored(await client().score(request, PATIENT));
    // assert
    expect(result.attempts).toBe(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.error).toBeInstanceOf(RequestInProgressError);
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result.decision).toBe(original.decision);
    await restore();
  });

  it('does not wait for a Retry-After beyond the budget: failClosed answers review, flagged', async () => {
    // prepare
    const request = scoreRequest();
    await client().score(request, PATIENT);
    const restore = await markInProgress(stack, request.transactionId, 5000);
    // act
    const started = Date.now();
    // A budget under the 1 s Retry-After, one attempt allowed all of it.
    const result = await client({ fallback: 'failClosed' }).score(request, {
      timeoutMs: 990,
      attemptTimeoutMs: 990,
    });
    // assert
    expect(result).toMatchObject({
      kind: 'fallback',
      decision: 'review',
      fallback: { policy: 'failClosed', reason: 'in_progress' },
    });
    expect(Date.now() - started).toBeLessThan(990);
    await restore();
  });

  it('turns a hung API into the caller’s fallback within the budget, flagged and reported', async () => {
    // prepare
    proxy.plan(() => 'stall');
    const fallbacks: ScoreResult[] = [];
    const open = client({ fallback: 'failOpen', onFallback: (r) => fallbacks.push(r) });
    // act
    const started = performance.now();
    const result = await open.score(scoreRequest(), { timeoutMs: 250 });
    const elapsed = performance.now() - started;
    const closed = await client({ fallback: 'failClosed' }).score(scoreRequest(), { timeoutMs: 250 });
    const thrown = client().score(scoreRequest(), { timeoutMs: 250 });
    // assert
    expect(result).toMatchObject({
      kind: 'fallback',
      decision: 'approve',
      fallback: { policy: 'failOpen', reason: 'timeout' },
    });
    expect(result.kind === 'fallback' && result.fallback.error).toBeInstanceOf(ScoringTimeoutError);
    expect(elapsed).toBeGreaterThanOrEqual(245);
    // The budget is hard; the margin is only the event loop's lateness on a loaded machine.
    expect(elapsed).toBeLessThan(450);
    expect(fallbacks).toEqual([result]);
    expect(closed).toMatchObject({ kind: 'fallback', decision: 'review' });
    await expect(thrown).rejects.toBeInstanceOf(ScoringTimeoutError);
    // The first attempt is abandoned at half the budget and retried while time remains.
    const stalled = proxy.requests.filter((r) => r.body.includes(result.transactionId));
    expect(stalled.length).toBe(result.attempts);
  });

  it('retries 429 after Retry-After, and 502, with the same body', async () => {
    // prepare
    const request = scoreRequest();
    proxy.plan((index) =>
      index === 0 ? { throttle: { retryAfterSeconds: 1 } } : index === 1 ? 'bad-gateway' : 'forward',
    );
    // act
    const result = scored(await client().score(request, PATIENT));
    // assert
    expect(result.attempts).toBe(3);
    expect(retries.map((r) => r.error.constructor)).toEqual([ThrottledError, ServerError]);
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(1000);
    expect(new Set(proxy.requests.slice(-3).map((r) => r.body)).size).toBe(1);
  });

  it('falls back on throttling it cannot wait out, and throws when told to', async () => {
    // prepare
    proxy.plan(() => ({ throttle: { retryAfterSeconds: 1 } }));
    // act
    const budget = { timeoutMs: 990, attemptTimeoutMs: 990 };
    const result = await client({ fallback: 'failOpen' }).score(scoreRequest(), budget);
    const thrown = client().score(scoreRequest(), budget);
    // assert
    expect(result).toMatchObject({
      kind: 'fallback',
      decision: 'approve',
      fallback: { reason: 'throttled' },
    });
    await expect(thrown).rejects.toMatchObject({ name: 'ScoringUnavailableError', reason: 'throttled' });
  });

  it.each([
    ['a raw card number', { merchantId: PAN }, PanDetectedError, 'PAN_DETECTED'],
    ['an invalid field', { currency: 'euro' }, InvalidRequestError, 'INVALID_FIELD'],
    ['an unknown field', { cvv: '123' }, InvalidRequestError, 'UNKNOWN_FIELD'],
    ['a body over 8 KB', { deviceId: 'd'.repeat(9000) }, BodyTooLargeError, 'BODY_TOO_LARGE'],
  ] as const)(
    'throws the typed error for %s once, without retry or fallback',
    async (_name, overrides, ErrorClass, code) => {
      // prepare
      const before = proxy.requests.length;
      // act
      const call = client({ fallback: 'failOpen' }).score(
        { ...scoreRequest(), ...overrides } as ScoreRequest,
        PATIENT,
      );
      // assert
      await expect(call).rejects.toBeInstanceOf(ErrorClass);
      await expect(call).rejects.toMatchObject({ code, status: API_ERRORS[code].status });
      expect(proxy.requests.length - before).toBe(1);
      expect(retries).toEqual([]);
    },
  );

  it('throws IdempotencyMismatchError for a reused transactionId with another body', async () => {
    // prepare
    const request = scoreRequest();
    await client().score(request, PATIENT);
    // act
    const call = client({ fallback: 'failOpen' }).score({ ...request, amount: request.amount + 1 }, PATIENT);
    // assert
    await expect(call).rejects.toBeInstanceOf(IdempotencyMismatchError);
    expect(retries).toEqual([]);
  });

  it('answers the documented status for codes only a raw request can provoke', async () => {
    // act
    const invalid = await fetch(`${stack.url}/v1/score`, { method: 'POST', body: '{"broken"' });
    const empty = await fetch(`${stack.url}/v1/score`, { method: 'POST' });
    // assert
    expect([invalid.status, ((await invalid.json()) as ErrorBody).error.code]).toEqual([
      API_ERRORS.INVALID_JSON.status,
      'INVALID_JSON',
    ]);
    expect([empty.status, ((await empty.json()) as ErrorBody).error.code]).toEqual([
      API_ERRORS.BODY_REQUIRED.status,
      'BODY_REQUIRED',
    ]);
  });

  it('signs with SigV4: what arrives is exactly what was signed', async () => {
    // prepare
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    };
    const signed = client({ auth: { type: 'iam', region: 'eu-west-1', credentials } });
    // act
    scored(await signed.score(scoreRequest(), PATIENT));
    // assert
    const received = proxy.requests.at(-1);
    const amzDate = String(received?.headers['x-amz-date']);
    const date = new Date(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
    const verifier = new SignatureV4({
      service: 'execute-api',
      region: 'eu-west-1',
      credentials,
      sha256: NodeSha256,
      applyChecksum: false,
    });
    const expected = await verifier.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: received?.path ?? '',
        query: {},
        headers: {
          host: String(received?.headers.host),
          'content-type': String(received?.headers['content-type']),
          accept: String(received?.headers.accept),
        },
        body: received?.body,
      },
      { signingDate: date },
    );
    expect(received?.headers.authorization).toBe(expected.headers.authorization);
    expect(received?.headers.authorization).toMatch(
      /Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
    );
  });

  it('sends the API key in x-api-key on API-key stages', async () => {
    // act
    await client({ auth: { type: 'apiKey', apiKey: 'key-123' } }).score(scoreRequest(), PATIENT);
    // assert
    expect(proxy.requests.at(-1)?.headers['x-api-key']).toBe('key-123');
    expect(proxy.requests.at(-1)?.headers.authorization).toBeUndefined();
  });
});

/**
 * Makes the stored answer of `transactionId` unreadable for `ms` (its `response` removed, the
 * record kept), then restores it: the state a concurrent duplicate sees while the winner's
 * answer cannot be read back, which the API answers 409 REQUEST_IN_PROGRESS with Retry-After.
 */
async function markInProgress(
  stack: LocalStack,
  transactionId: string,
  ms: number,
): Promise<() => Promise<void>> {
  const { documents } = createDynamoClients({ endpoint: stack.dynamoEndpoint, requestTimeoutMs: 5000 });
  const key = { id: `answer#${transactionId}` };
  const { Item } = await documents.send(new GetCommand({ TableName: IDEMPOTENCY_TABLE, Key: key }));
  expect(typeof Item?.response).toBe('string');
  await documents.send(
    new UpdateCommand({
      TableName: IDEMPOTENCY_TABLE,
      Key: key,
      UpdateExpression: 'REMOVE #response',
      ExpressionAttributeNames: { '#response': 'response' },
    }),
  );
  let restoring: Promise<void> | undefined;
  const restore = () => {
    clearTimeout(timer);
    restoring ??= documents
      .send(
        new UpdateCommand({
          TableName: IDEMPOTENCY_TABLE,
          Key: key,
          UpdateExpression: 'SET #response = :response',
          ExpressionAttributeNames: { '#response': 'response' },
          ExpressionAttributeValues: { ':response': Item?.response },
        }),
      )
      .then(() => undefined)
      .finally(() => documents.destroy());
    return restoring;
  };
  // Restored by the timer (as the concurrent call finishing would), or at once by the test.
  const timer = setTimeout(() => void restore().catch(() => undefined), ms);
  return restore;
}
