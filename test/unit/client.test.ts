/**
 * The client's retry, deadline and error rules with a scripted `fetch` (the e2e tests run
 * the same client against the real local stack; these pin each rule deterministically).
 */
import fc from 'fast-check';
import { API_ERRORS, type ApiErrorCode } from '../../api/errors';
import {
  AuthError,
  errorFromResponse,
  parseRetryAfter,
  type RetryEvent,
  type ScoreRequest,
  ScoringApiError,
  ScoringClient,
  ScoringConfigError,
  ScoringUnavailableError,
  ServerError,
} from '../../clients/typescript/src';

const request: ScoreRequest = {
  transactionId: 'tx-unit-1',
  cardId: 'card_1',
  merchantId: 'm_1',
  mcc: '5411',
  amount: 100,
  currency: 'EUR',
  country: 'DE',
  channel: 'ecommerce',
  timestamp: '2026-11-23T10:00:00Z',
};

const answer = {
  transactionId: 'tx-unit-1',
  score: 0.01,
  decision: 'approve',
  reasons: [],
  model: { name: 'fraud-gbdt', version: '1.0.0' },
  policyVersion: 'p1',
  degraded: [],
};

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

/** A fetch that answers from a script and records what it was sent. */
function scriptedFetch(replies: Reply[]) {
  const sent: { body: string; headers: Record<string, string> }[] = [];
  const fetchImpl = (async (_url: URL, init: RequestInit) => {
    sent.push({ body: String(init.body), headers: init.headers as Record<string, string> });
    const reply = replies[Math.min(sent.length - 1, replies.length - 1)] as Reply;
    return new Response(JSON.stringify(reply.body), { status: reply.status, headers: reply.headers });
  }) as unknown as typeof fetch;
  return { fetchImpl, sent };
}

function clientWith(replies: Reply[], retries: RetryEvent[] = []) {
  const { fetchImpl, sent } = scriptedFetch(replies);
  const client = new ScoringClient({
    baseUrl: 'http://127.0.0.1:1/local',
    auth: { type: 'none' },
    fetch: fetchImpl,
    random: () => 0,
    onRetry: (event) => retries.push(event),
  });
  return { client, sent };
}

describe('ScoringClient retry rules', () => {
  it.each(Object.keys(API_ERRORS) as ApiErrorCode[])(
    '%s is retried only when the catalogue says so',
    async (code) => {
      // prepare
      const spec = API_ERRORS[code];
      const headers: Record<string, string> = 'retryAfter' in spec ? { 'retry-after': '0' } : {};
      const { client, sent } = clientWith([
        { status: spec.status, body: { error: { code, message: spec.example.message } }, headers },
        { status: 200, body: answer },
      ]);
      // act
      const outcome = await client.score(request, { timeoutMs: 2000 }).catch((error: unknown) => error);
      // assert
      if (spec.retryable) {
        expect(outcome).toMatchObject({ kind: 'scored', attempts: 2 });
        expect(sent[1]?.body).toBe(sent[0]?.body);
      } else {
        expect(outcome).toBeInstanceOf(ScoringApiError);
        expect(outcome).toMatchObject({ code, status: spec.status });
        expect(sent).toHaveLength(1);
      }
      // Only 409 REQUEST_IN_PROGRESS and 429 among the 4xx.
      if (spec.retryable && spec.status < 500) expect(['REQUEST_IN_PROGRESS', 'THROTTLED']).toContain(code);
    },
  );

  it('never retries API Gateway 403s and never falls back on them', async () => {
    // prepare
    const { client, sent } = clientWith([{ status: 403, body: { message: 'Missing Authentication Token' } }]);
    // act
    const call = client.score(request, { fallback: 'failOpen' });
    // assert
    await expect(call).rejects.toBeInstanceOf(AuthError);
    expect(sent).toHaveLength(1);
  });

  it('waits at least Retry-After, and gives up at once when that is past the budget', async () => {
    // prepare
    const retries: RetryEvent[] = [];
    const inProgress = {
      status: 409,
      body: { error: { code: 'REQUEST_IN_PROGRESS', message: 'busy' } },
      headers: { 'retry-after': '1' },
    };
    const waited = clientWith([inProgress, { status: 200, body: answer }], retries);
    const hurried = clientWith([inProgress]);
    // act
    const result = await waited.client.score(request, { timeoutMs: 3000 });
    const fallback = await hurried.client.score(request, { timeoutMs: 500, fallback: 'failClosed' });
    // assert
    expect(result.kind).toBe('scored');
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(1000);
    expect(fallback).toMatchObject({
      kind: 'fallback',
      decision: 'review',
      fallback: { reason: 'in_progress' },
    });
    expect(hurried.sent).toHaveLength(1);
  });

  it('stops after maxAttempts and reports why', async () => {
    // prepare
    const { fetchImpl, sent } = scriptedFetch([{ status: 502, body: { message: 'Internal server error' } }]);
    const client = new ScoringClient({
      baseUrl: 'http://127.0.0.1:1',
      auth: { type: 'none' },
      fetch: fetchImpl,
      random: () => 0,
      retry: { maxAttempts: 4 },
    });
    // act
    const call = client.score(request, { timeoutMs: 2000 });
    // assert
    await expect(call).rejects.toBeInstanceOf(ScoringUnavailableError);
    await expect(call).rejects.toMatchObject({ reason: 'server_error', attempts: 4 });
    expect(sent).toHaveLength(4);
  });

  it('keeps every backoff within full jitter bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, r) => {
          // prepare
          const retries: RetryEvent[] = [];
          const client = new ScoringClient({
            baseUrl: 'http://x',
            auth: { type: 'none' },
            random: () => r,
            onRetry: (e) => retries.push(e),
          });
          const error = new ServerError(502, 'GATEWAY_ERROR', 'x');
          // act
          const delay = (client as unknown as { backoff(a: number, e: unknown): number }).backoff(
            attempt,
            error,
          );
          // assert
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.min(1000, 25 * 2 ** (attempt - 1)));
        },
      ),
    );
  });

  it('stops at once when the caller aborts, without a fallback', async () => {
    // prepare
    const hang = (async (_url: URL, init: RequestInit) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      )) as unknown as typeof fetch;
    const client = new ScoringClient({
      baseUrl: 'http://127.0.0.1:1',
      auth: { type: 'none' },
      fetch: hang,
      fallback: 'failOpen',
    });
    const controller = new AbortController();
    // act
    const call = client.score(request, { timeoutMs: 5000, signal: controller.signal });
    controller.abort(new Error('payment cancelled'));
    // assert
    await expect(call).rejects.toThrow('payment cancelled');
  });

  it('refuses SigV4 without a region rather than signing for the wrong one', () => {
    // prepare
    const saved = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    // act
    const build = () =>
      new ScoringClient({ baseUrl: 'https://scoring.example.net/prod', auth: { type: 'iam' } });
    // assert
    try {
      expect(build).toThrow(ScoringConfigError);
    } finally {
      if (saved !== undefined) process.env.AWS_REGION = saved;
    }
  });
});

describe('errorFromResponse and parseRetryAfter', () => {
  it('maps any body, however hostile, to a typed error with the status', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), fc.oneof(fc.string(), fc.json()), (status, text) => {
        // act
        const error = errorFromResponse(status, text, new Headers());
        // assert
        expect(error).toBeInstanceOf(ScoringApiError);
        expect(error.status).toBe(status);
        expect(error.retryable).toBe(
          error.code === 'GATEWAY_ERROR' || error.code === 'UNKNOWN_ERROR'
            ? status === 429 || status >= 500
            : API_ERRORS[error.code].retryable,
        );
      }),
    );
  });

  it('reads delta-seconds and HTTP dates, and ignores garbage', () => {
    // prepare
    const now = Date.parse('2026-11-23T10:00:00Z');
    // act / assert
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
