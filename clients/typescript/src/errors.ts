/**
 * The client's errors: one class per failure mode, each with the API's machine-readable code
 * where there is one. `ScoringUnavailableError` (and its `ScoringTimeoutError`) is the only
 * family a fallback decision may replace; every other error is a request the caller must fix.
 */
import { API_ERRORS, type ApiErrorCode, isApiErrorCode } from '../../../api/errors';

export type { ApiErrorCode } from '../../../api/errors';

/** Base of every error the client throws. */
export class ScoringClientError extends Error {
  override readonly name: string = 'ScoringClientError';
}

/** The client was configured in a way that cannot work (no region for SigV4, a bad URL). */
export class ScoringConfigError extends ScoringClientError {
  override readonly name = 'ScoringConfigError';
}

/** An error answer from the API (or from API Gateway in front of it). */
export class ScoringApiError extends ScoringClientError {
  override readonly name: string = 'ScoringApiError';
  constructor(
    /** HTTP status. */
    readonly status: number,
    /** The API's code; `GATEWAY_ERROR` for API Gateway's own `{message}` bodies. */
    readonly code: ApiErrorCode | 'GATEWAY_ERROR' | 'UNKNOWN_ERROR',
    message: string,
    /** The offending field, for 400s that name one. */
    readonly field?: string,
    /** `Retry-After` of the answer, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(`${status} ${code}: ${message}`);
  }

  /** Whether the same request may succeed later (see `API_ERRORS`). */
  get retryable(): boolean {
    if (isApiErrorCode(this.code)) return API_ERRORS[this.code].retryable;
    return this.status === 429 || this.status >= 500;
  }
}

/** 400 `INVALID_JSON`, `BODY_REQUIRED`, `MISSING_FIELD`, `INVALID_FIELD`, `UNKNOWN_FIELD`, `TOO_DEEP`: a bug in the caller. */
export class InvalidRequestError extends ScoringApiError {
  override readonly name = 'InvalidRequestError';
}
/** 400 `PAN_DETECTED`: a raw card number was sent; send the vault token. */
export class PanDetectedError extends ScoringApiError {
  override readonly name = 'PanDetectedError';
}
/** 413 `BODY_TOO_LARGE`. */
export class BodyTooLargeError extends ScoringApiError {
  override readonly name = 'BodyTooLargeError';
}
/** 409 `IDEMPOTENCY_MISMATCH`: the `transactionId` was scored with another body. */
export class IdempotencyMismatchError extends ScoringApiError {
  override readonly name = 'IdempotencyMismatchError';
}
/** 409 `REQUEST_IN_PROGRESS`: retried after `Retry-After`; thrown only when retries ran out. */
export class RequestInProgressError extends ScoringApiError {
  override readonly name = 'RequestInProgressError';
}
/** 429 `THROTTLED`: retried after `Retry-After`; thrown only when retries ran out. */
export class ThrottledError extends ScoringApiError {
  override readonly name = 'ThrottledError';
}
/** 403 from API Gateway: missing or invalid SigV4 signature or API key, or no `execute-api:Invoke`. */
export class AuthError extends ScoringApiError {
  override readonly name = 'AuthError';
}
/** 5xx: the function or the gateway failed; retried. */
export class ServerError extends ScoringApiError {
  override readonly name = 'ServerError';
}

/** The connection failed or dropped before an answer arrived; retried. */
export class ScoringNetworkError extends ScoringClientError {
  override readonly name = 'ScoringNetworkError';
}

/** Why the API could not answer: what a fallback decision is recorded with. */
export type UnavailableReason = 'timeout' | 'throttled' | 'in_progress' | 'server_error' | 'network';

/** The API could not give an answer: retries ran out, or the next one would pass the deadline. */
export class ScoringUnavailableError extends ScoringClientError {
  override readonly name: string = 'ScoringUnavailableError';
  constructor(
    readonly reason: UnavailableReason,
    message: string,
    /** Attempts made (each reused the same body and `transactionId`). */
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller's time budget (`timeoutMs`) ran out before an answer. */
export class ScoringTimeoutError extends ScoringUnavailableError {
  override readonly name = 'ScoringTimeoutError';
}

const CLASS_BY_CODE: Partial<Record<ApiErrorCode, typeof ScoringApiError>> = {
  PAN_DETECTED: PanDetectedError,
  BODY_TOO_LARGE: BodyTooLargeError,
  IDEMPOTENCY_MISMATCH: IdempotencyMismatchError,
  REQUEST_IN_PROGRESS: RequestInProgressError,
  THROTTLED: ThrottledError,
  INTERNAL_ERROR: ServerError,
  QUEUE_UNAVAILABLE: ServerError,
};

/** `Retry-After` (delta-seconds or an HTTP date) in ms, or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The typed error for an error answer. */
export function errorFromResponse(status: number, text: string, headers: Headers): ScoringApiError {
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)
    ?.error;
  if (error && isApiErrorCode(error.code)) {
    const message = typeof error.message === 'string' ? error.message : error.code;
    const field = typeof error.field === 'string' ? error.field : undefined;
    const Class =
      CLASS_BY_CODE[error.code] ??
      (status === 400 ? InvalidRequestError : status >= 500 ? ServerError : ScoringApiError);
    return new Class(status, error.code, message, field, retryAfterMs);
  }
  const message =
    (body as { message?: unknown } | undefined)?.message ??
    (typeof error?.message === 'string' ? error.message : text.slice(0, 200));
  const code =
    typeof (body as { message?: unknown } | undefined)?.message === 'string'
      ? 'GATEWAY_ERROR'
      : 'UNKNOWN_ERROR';
  if (status === 401 || status === 403)
    return new AuthError(status, code, String(message), undefined, retryAfterMs);
  if (status === 429) return new ThrottledError(status, code, String(message), undefined, retryAfterMs);
  if (status >= 500) return new ServerError(status, code, String(message), undefined, retryAfterMs);
  return new ScoringApiError(status, code, String(message), undefined, retryAfterMs);
}
