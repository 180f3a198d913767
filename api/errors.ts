/**
 * Every error the scoring API answers with, as one table: HTTP status (the functions' own
 * `ERROR_STATUS` for the codes they send; API Gateway's for the ones it sends), which operations can
 * return it, whether a caller may retry, and an example body. The OpenAPI document, the
 * typed client and the tests read this table, so a new code is documented, typed and
 * retried (or not) in one edit.
 */
import { z } from 'zod';
import { MAX_BODY_BYTES } from '../functions/shared/domain/contract';
import { ERROR_STATUS } from '../functions/shared/domain/errors';

/** The operations of the API, by their `operationId`. */
export type Operation = 'score' | 'events';

/** One error code of the API. */
export interface ApiErrorSpec {
  /** HTTP status the code is sent with. */
  readonly status: number;
  /** Operations that can answer with it. */
  readonly operations: readonly Operation[];
  /**
   * `true` when the same request may succeed later (same `transactionId` / event ids: the
   * API is idempotent, so a retry is safe). Every other code is the caller's to fix.
   */
  readonly retryable: boolean;
  /** The response carries `Retry-After` (seconds). */
  readonly retryAfter?: boolean;
  /** What it means and what the caller should do. */
  readonly description: string;
  /** A real body, as the API sends it. */
  readonly example: { readonly message: string; readonly field?: string };
}

const BOTH: readonly Operation[] = ['score', 'events'];

/** The API's error codes. Bodies are `{ error: { code, message, field? } }`. */
export const API_ERRORS = {
  BODY_REQUIRED: {
    status: ERROR_STATUS.BODY_REQUIRED,
    operations: BOTH,
    retryable: false,
    description: 'The request has no body.',
    example: { message: 'request body is required' },
  },
  INVALID_JSON: {
    status: ERROR_STATUS.INVALID_JSON,
    operations: BOTH,
    retryable: false,
    description: 'The body is not valid JSON.',
    example: { message: 'request body is not valid JSON' },
  },
  MISSING_FIELD: {
    status: ERROR_STATUS.MISSING_FIELD,
    operations: BOTH,
    retryable: false,
    description: 'A required field is absent; `field` names it.',
    example: {
      message: 'Invalid option: expected one of "card_present"|"ecommerce"|"moto"|"contactless"',
      field: 'channel',
    },
  },
  INVALID_FIELD: {
    status: ERROR_STATUS.INVALID_FIELD,
    operations: BOTH,
    retryable: false,
    description:
      'A field has the wrong type or format; `field` names it. In AWS, API Gateway validates the body against the same schema before the function runs and answers this code without `field`.',
    example: { message: 'ISO 4217 code, e.g. EUR', field: 'currency' },
  },
  UNKNOWN_FIELD: {
    status: ERROR_STATUS.UNKNOWN_FIELD,
    operations: BOTH,
    retryable: false,
    description: 'The body has a field the contract does not define (bodies are strict).',
    example: { message: 'unknown field(s): cvv' },
  },
  PAN_DETECTED: {
    status: ERROR_STATUS.PAN_DETECTED,
    operations: BOTH,
    retryable: false,
    description:
      "A raw card number is somewhere in the body, in a value or a key: 13–19 digits in one run or in groups with one separator, not touching a letter or digit, matching a card network's issuer range and length, passing Luhn. Send the vault token instead. Neither the answer nor any log repeats it: a key holding one is shown as `[redacted]` in `field`.",
    example: { message: 'a raw card number was found; send the card token instead', field: 'merchantId' },
  },
  TOO_DEEP: {
    status: ERROR_STATUS.TOO_DEEP,
    operations: BOTH,
    retryable: false,
    description: 'The body nests objects or arrays deeper than 32 levels.',
    example: { message: 'request body nests deeper than 32 levels' },
  },
  EVENT_IN_FUTURE: {
    status: ERROR_STATUS.EVENT_IN_FUTURE,
    operations: ['events'],
    retryable: false,
    description:
      "An event is dated more than the allowed clock skew (5 minutes by default) ahead of the server clock; `field` names the timestamp. Fix the sender's clock: a future-dated event would count against requests scored before its time.",
    example: { message: 'timestamp is more than 300 s ahead of the server clock', field: 'timestamp' },
  },
  BODY_TOO_LARGE: {
    status: ERROR_STATUS.BODY_TOO_LARGE,
    operations: BOTH,
    retryable: false,
    description: `The body is larger than ${MAX_BODY_BYTES} bytes.`,
    example: { message: `request body exceeds ${MAX_BODY_BYTES} bytes` },
  },
  IDEMPOTENCY_MISMATCH: {
    status: ERROR_STATUS.IDEMPOTENCY_MISMATCH,
    operations: ['score'],
    retryable: false,
    description:
      'This `transactionId` was already scored with a different body. A retry must resend the same body; a new authorization needs a new id.',
    example: { message: 'transactionId was already scored with a different request body' },
  },
  REQUEST_IN_PROGRESS: {
    status: ERROR_STATUS.REQUEST_IN_PROGRESS,
    operations: ['score'],
    retryable: true,
    retryAfter: true,
    description:
      'A request with this `transactionId` is still being scored (a concurrent retry). Retry the same body after `Retry-After` seconds to get its answer.',
    example: { message: 'a request with this transactionId is still being scored' },
  },
  THROTTLED: {
    status: 429,
    operations: BOTH,
    retryable: true,
    retryAfter: true,
    description:
      "The stage's (or, in API-key mode, the usage plan's) rate or burst limit was exceeded; sent by API Gateway. Retry after `Retry-After` seconds with jitter.",
    example: { message: 'too many requests; retry' },
  },
  INTERNAL_ERROR: {
    status: ERROR_STATUS.INTERNAL_ERROR,
    operations: BOTH,
    retryable: true,
    description: 'An unexpected failure in the function. Retrying the same request is safe.',
    example: { message: 'internal error' },
  },
  QUEUE_UNAVAILABLE: {
    status: ERROR_STATUS.QUEUE_UNAVAILABLE,
    operations: ['events'],
    retryable: true,
    description: 'The events could not be enqueued. Retry the same events: their ids make it safe.',
    example: { message: 'events could not be accepted; retry' },
  },
} as const satisfies Record<string, ApiErrorSpec>;

/** A code the API answers with. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** True when `code` is one of {@link API_ERRORS}. */
export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(API_ERRORS, code);
}

/**
 * The body API Gateway itself sends when it refuses a request before any function runs:
 * 403 (missing or invalid SigV4 signature or API key), 502 (the integration failed), 504
 * (the integration timed out after 29 s).
 */
export const gatewayErrorSchema = z.object({ message: z.string() }).meta({ id: 'GatewayError' });
