/**
 * The payment service's client for the scoring API: signs (SigV4 or API key), enforces a
 * hard deadline, retries what is safe to retry with the same body (so the same
 * `transactionId` and event ids), and, when the API cannot answer in time, applies the
 * fallback decision the caller chose — always flagged in the result, never silent.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { z } from 'zod';
import type {
  eventSchema,
  eventsAcceptedSchema,
  ScoreResponse,
  scoreRequestSchema,
} from '../../../functions/shared/domain/contract';
import {
  errorFromResponse,
  RequestInProgressError,
  ScoringApiError,
  ScoringClientError,
  ScoringConfigError,
  ScoringNetworkError,
  ScoringTimeoutError,
  ScoringUnavailableError,
  ThrottledError,
  type UnavailableReason,
} from './errors';
import { createSigner, type RequestSigner, regionOfApiUrl } from './signing';

/** A score request, typed by the API's own schema. */
export type ScoreRequest = z.input<typeof scoreRequestSchema>;
/** An authorization outcome or a label, typed by the API's own schema. */
export type TransactionEvent = z.input<typeof eventSchema>;
/** The API's answer to `POST /v1/events`. */
export type EventsAccepted = z.output<typeof eventsAcceptedSchema>;
export type { ScoreResponse };
export type Decision = ScoreResponse['decision'];

/** How requests authenticate: SigV4 on `iam` stages, the usage-plan key on `apiKey` stages. */
export type Auth =
  | {
      readonly type: 'iam';
      /** @default the region in the `execute-api` URL, else `AWS_REGION` */
      readonly region?: string;
      /** @default the default Node credential chain (the payment service's IAM role) */
      readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
    }
  | { readonly type: 'apiKey'; readonly apiKey: string }
  /** The local stack (`npm start`) only. */
  | { readonly type: 'none' };

/**
 * What `score` answers when the API cannot: `failOpen` approves, `failClosed` sends to
 * review; both return `kind: 'fallback'` with the reason. `throw` raises
 * {@link ScoringUnavailableError} instead.
 */
export type FallbackPolicy = 'failOpen' | 'failClosed' | 'throw';

export interface RetryOptions {
  /** Attempts including the first. @default 3 for score, 5 for events */
  readonly maxAttempts?: number;
  /** First backoff ceiling in ms (full jitter, doubling per attempt). @default 25 */
  readonly baseDelayMs?: number;
  /** Largest backoff ceiling in ms (a `Retry-After` may ask for longer). @default 1000 */
  readonly maxDelayMs?: number;
}

export interface ScoringClientOptions {
  /** The stage URL, e.g. `https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod`. */
  readonly baseUrl: string;
  readonly auth: Auth;
  /** Whole-call budget of `score` in ms, retries included. @default 300 */
  readonly timeoutMs?: number;
  /**
   * Budget of one attempt in ms: a slower attempt is abandoned and retried while the whole
   * budget allows. @default half of `timeoutMs`
   */
  readonly attemptTimeoutMs?: number;
  /** @default 'throw' */
  readonly fallback?: FallbackPolicy;
  readonly retry?: RetryOptions;
  /** Called before each retry (for logs and metrics). */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Called whenever a fallback decision is returned (for logs, metrics and alerts). */
  readonly onFallback?: (event: Extract<ScoreResult, { kind: 'fallback' }>) => void;
  /** @default Math.random (tests pass a fixed one) */
  readonly random?: () => number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface ScoreOptions {
  /** Overrides the client's `timeoutMs` for this call. */
  readonly timeoutMs?: number;
  /** Overrides the client's `attemptTimeoutMs` for this call. */
  readonly attemptTimeoutMs?: number;
  /** Overrides the client's fallback policy for this call. */
  readonly fallback?: FallbackPolicy;
  /** Aborts the call (no fallback: the caller cancelled). */
  readonly signal?: AbortSignal;
}

export interface RetryEvent {
  readonly operation: 'score' | 'events';
  /** The attempt that failed (1-based). */
  readonly attempt: number;
  readonly error: ScoringClientError;
  /** Wait before the next attempt, in ms. */
  readonly delayMs: number;
}

/** `score`'s result: the API's answer, or the caller's fallback with why it was used. */
export type ScoreResult =
  | {
      readonly kind: 'scored';
      readonly transactionId: string;
      readonly decision: Decision;
      readonly response: ScoreResponse;
      readonly attempts: number;
      readonly elapsedMs: number;
    }
  | {
      readonly kind: 'fallback';
      readonly transactionId: string;
      /** `approve` for failOpen, `review` for failClosed. */
      readonly decision: 'approve' | 'review';
      readonly fallback: {
        readonly policy: 'failOpen' | 'failClosed';
        readonly reason: UnavailableReason;
        readonly error: ScoringUnavailableError;
      };
      readonly attempts: number;
      readonly elapsedMs: number;
    };

/** Largest batch `POST /v1/events` takes. */
export const MAX_EVENTS_PER_REQUEST = 25;

const DEFAULTS = { timeoutMs: 300, eventsTimeoutMs: 5000, baseDelayMs: 25, maxDelayMs: 1000 } as const;

/** The attempt ran past its own budget (internal: becomes a retry or a timeout). */
class AttemptTimeout extends ScoringClientError {
  override readonly name = 'AttemptTimeout';
}

type Attempt = { ok: true; status: number; text: string } | { ok: false; error: ScoringClientError };

interface CallPlan {
  readonly operation: 'score' | 'events';
  readonly path: string;
  readonly body: string;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly maxAttempts: number;
  readonly signal?: AbortSignal;
}

function reasonOf(error: ScoringClientError): UnavailableReason {
  if (error instanceof AttemptTimeout) return 'timeout';
  if (error instanceof ThrottledError) return 'throttled';
  if (error instanceof RequestInProgressError) return 'in_progress';
  if (error instanceof ScoringNetworkError) return 'network';
  return 'server_error';
}

function isRetryable(error: ScoringClientError): boolean {
  if (error instanceof AttemptTimeout || error instanceof ScoringNetworkError) return true;
  return error instanceof ScoringApiError && error.retryable;
}

/** Resolves with `promise`, or rejects as soon as `signal` aborts (signing may wait on credentials). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class ScoringClient {
  private readonly baseUrl: URL;
  private readonly sign?: RequestSigner;
  private readonly random: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ScoringClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    } catch {
      throw new ScoringConfigError(`baseUrl is not a URL: ${options.baseUrl}`);
    }
    this.baseUrl = url;
    if (options.auth.type === 'iam') {
      const region = options.auth.region ?? regionOfApiUrl(url) ?? process.env.AWS_REGION;
      if (!region) throw new ScoringConfigError('SigV4 needs a region: pass auth.region or set AWS_REGION');
      this.sign = createSigner({ region, credentials: options.auth.credentials });
    }
    if (options.auth.type === 'apiKey' && options.auth.apiKey === '') {
      throw new ScoringConfigError('auth.apiKey is empty');
    }
    this.random = options.random ?? Math.random;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Scores one authorization within `timeoutMs`. Retries (same body, so the same
   * `transactionId`) connection failures, slow attempts, 409 `REQUEST_IN_PROGRESS`, 429 and
   * 5xx; any other 4xx throws its typed error at once. When no answer comes in time, returns
   * the fallback decision (`kind: 'fallback'`) or throws {@link ScoringUnavailableError}.
   */
  async score(request: ScoreRequest, options: ScoreOptions = {}): Promise<ScoreResult> {
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULTS.timeoutMs;
    const policy = options.fallback ?? this.options.fallback ?? 'throw';
    let attempts = 0;
    try {
      const { text, attempts: made } = await this.call({
        operation: 'score',
        path: 'v1/score',
        body: JSON.stringify(request),
        timeoutMs,
        attemptTimeoutMs:
          options.attemptTimeoutMs ?? this.options.attemptTimeoutMs ?? Math.ceil(timeoutMs / 2),
        maxAttempts: this.options.retry?.maxAttempts ?? 3,
        signal: options.signal,
      });
      attempts = made;
      const response = JSON.parse(text) as ScoreResponse;
      return {
        kind: 'scored',
        transactionId: request.transactionId,
        decision: response.decision,
        response,
        attempts,
        elapsedMs: performance.now() - started,
      };
    } catch (error) {
      if (!(error instanceof ScoringUnavailableError) || policy === 'throw') throw error;
      const result = {
        kind: 'fallback',
        transactionId: request.transactionId,
        decision: policy === 'failOpen' ? 'approve' : 'review',
        fallback: { policy, reason: error.reason, error },
        attempts: error.attempts,
        elapsedMs: performance.now() - started,
      } as const;
      this.options.onFallback?.(result);
      return result;
    }
  }

  /**
   * Sends authorization outcomes and labels, in batches of up to 25. Retries like `score`
   * (event ids make it safe) with a longer budget; never falls back: an error means the
   * events of that batch and later ones were not taken, and the whole call may be repeated.
   */
  async sendEvents(
    events: readonly TransactionEvent[],
    options: Omit<ScoreOptions, 'fallback'> = {},
  ): Promise<EventsAccepted> {
    const eventIds: string[] = [];
    for (let i = 0; i < events.length; i += MAX_EVENTS_PER_REQUEST) {
      const batch = events.slice(i, i + MAX_EVENTS_PER_REQUEST);
      const timeoutMs = options.timeoutMs ?? DEFAULTS.eventsTimeoutMs;
      const { text } = await this.call({
        operation: 'events',
        path: 'v1/events',
        body: JSON.stringify({ events: batch }),
        timeoutMs,
        attemptTimeoutMs: options.attemptTimeoutMs ?? Math.ceil(timeoutMs / 2),
        maxAttempts: this.options.retry?.maxAttempts ?? 5,
        signal: options.signal,
      });
      eventIds.push(...(JSON.parse(text) as EventsAccepted).eventIds);
    }
    return { accepted: eventIds.length, eventIds };
  }

  /** Attempts until an answer, a non-retryable error, the attempt limit or the deadline. */
  private async call(plan: CallPlan): Promise<{ text: string; attempts: number }> {
    const deadline = performance.now() + plan.timeoutMs;
    const url = new URL(plan.path, this.baseUrl);
    for (let attempt = 1; ; attempt += 1) {
      const remaining = deadline - performance.now();
      const outcome = await this.attempt(url, plan, Math.min(remaining, plan.attemptTimeoutMs));
      if (outcome.ok) return { text: outcome.text, attempts: attempt };
      const { error } = outcome;
      if (!isRetryable(error)) throw error;
      const left = deadline - performance.now();
      if (left <= 1) {
        throw new ScoringTimeoutError('timeout', `no answer within ${plan.timeoutMs} ms`, attempt, {
          cause: error,
        });
      }
      if (attempt >= plan.maxAttempts) {
        throw new ScoringUnavailableError(
          reasonOf(error),
          `gave up after ${attempt} attempts: ${error.message}`,
          attempt,
          {
            cause: error,
          },
        );
      }
      const delayMs = this.backoff(attempt, error);
      if (delayMs >= left) {
        // Waiting as asked would pass the deadline: give up now rather than answer late.
        throw new ScoringUnavailableError(
          reasonOf(error),
          `next attempt would be after the ${plan.timeoutMs} ms budget: ${error.message}`,
          attempt,
          { cause: error },
        );
      }
      this.options.onRetry?.({ operation: plan.operation, attempt, error, delayMs });
      await sleep(delayMs, plan.signal);
    }
  }

  /** Full jitter, doubling per attempt; at least `Retry-After` when the API sent one. */
  private backoff(attempt: number, error: ScoringClientError): number {
    const base = this.options.retry?.baseDelayMs ?? DEFAULTS.baseDelayMs;
    const cap = this.options.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs;
    const jitter = this.random() * Math.min(cap, base * 2 ** (attempt - 1));
    const retryAfter = error instanceof ScoringApiError ? error.retryAfterMs : undefined;
    return retryAfter === undefined ? jitter : retryAfter + this.random() * base;
  }

  /** One request under its own timer; the caller's signal aborts it too. */
  private async attempt(url: URL, plan: CallPlan, budgetMs: number): Promise<Attempt> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new AttemptTimeout(`attempt exceeded ${Math.round(budgetMs)} ms`)),
      Math.max(0, budgetMs),
    );
    const forward = () => controller.abort(plan.signal?.reason);
    plan.signal?.addEventListener('abort', forward, { once: true });
    try {
      const headers = await untilAborted(this.headers(url, plan.body), controller.signal);
      const response = await this.fetch(url, {
        method: 'POST',
        headers,
        body: plan.body,
        signal: controller.signal,
      });
      const text = await response.text();
      if (response.ok) return { ok: true, status: response.status, text };
      return { ok: false, error: errorFromResponse(response.status, text, response.headers) };
    } catch (error) {
      if (plan.signal?.aborted) throw plan.signal.reason;
      if (controller.signal.reason instanceof AttemptTimeout)
        return { ok: false, error: controller.signal.reason };
      if (error instanceof ScoringClientError) throw error;
      return {
        ok: false,
        error: new ScoringNetworkError(`request failed: ${(error as Error).message}`, { cause: error }),
      };
    } finally {
      clearTimeout(timer);
      plan.signal?.removeEventListener('abort', forward);
    }
  }

  private async headers(url: URL, body: string): Promise<Record<string, string>> {
    const base = { 'content-type': 'application/json', accept: 'application/json' };
    const { auth } = this.options;
    if (auth.type === 'apiKey') return { ...base, 'x-api-key': auth.apiKey };
    if (this.sign) return this.sign({ method: 'POST', url, headers: base, body });
    return base;
  }
}
