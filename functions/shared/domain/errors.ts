/**
 * Every runtime error of the functions, in one place: one base class, one subclass per
 * failure mode. An error that the API answers with a known code carries it (`code`); the one
 * table in `#shared/http` maps codes to HTTP status. Everything else is a 500 without details.
 * Messages never echo request values, so a card number cannot reach a response or a log.
 */
import type { z } from 'zod';

/** Codes the API answers with, and the HTTP status of each (the one mapping table). */
export const ERROR_STATUS = Object.freeze({
  BODY_REQUIRED: 400,
  INVALID_JSON: 400,
  MISSING_FIELD: 400,
  INVALID_FIELD: 400,
  UNKNOWN_FIELD: 400,
  PAN_DETECTED: 400,
  TOO_DEEP: 400,
  EVENT_IN_FUTURE: 400,
  BODY_TOO_LARGE: 413,
  IDEMPOTENCY_MISMATCH: 409,
  REQUEST_IN_PROGRESS: 409,
  QUEUE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const);

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Base of every error the functions throw on purpose. `name` is the subclass's own. */
export class FraudScoringError extends Error {
  /** The API error code, when this failure has one; otherwise the API answers 500. */
  readonly code?: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller's request is wrong (4xx). `field` is a path whose card-number-like parts are redacted. */
export class ValidationError extends FraudScoringError {
  constructor(
    override readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The same transactionId arrived with a different body, or while its first request is unresolved. */
export class IdempotencyConflictError extends FraudScoringError {
  constructor(
    override readonly code: 'IDEMPOTENCY_MISMATCH' | 'REQUEST_IN_PROGRESS',
    message: string,
    /** Seconds after which a retry may succeed (the `Retry-After` header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** A required setting is missing or malformed; thrown at init so the function fails fast. */
export class ConfigError extends FraudScoringError {}

/** The decision policy file is invalid. */
export class PolicyError extends FraudScoringError {}

/** The model card is missing, malformed or does not match the feature definition. */
export class ModelCardError extends FraudScoringError {}

/** The model could not be loaded or cannot score. */
export class ModelUnavailableError extends FraudScoringError {}

/** Events could not be handed to the queue; the caller should retry (503). */
export class EnqueueError extends FraudScoringError {
  override readonly code = 'QUEUE_UNAVAILABLE' as const;
}

/** A step on the scoring path did not answer within its deadline. */
export class DeadlineExceededError extends FraudScoringError {
  constructor(
    readonly step: string,
    readonly budgetMs: number,
  ) {
    super(`${step} timed out after ${budgetMs} ms`);
  }
}

/** Why the neural score is missing; the caller maps every kind to `neural_unavailable`. */
export type NeuralFailureKind =
  | 'timeout'
  | 'breaker_open'
  | 'transport'
  | 'http_status'
  | 'protocol'
  | 'aborted';

/** The neural service gave no usable score. */
export class NeuralUnavailableError extends FraudScoringError {
  constructor(
    readonly kind: NeuralFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The feature store could not be read. */
export class FeatureStoreError extends FraudScoringError {}

/** Other processes kept changing an item; the events should be retried later. */
export class UpdateConflictError extends FraudScoringError {}

/** Some items stayed unprocessed after every retry. */
export class BulkWriteError extends FraudScoringError {}

/** Marker reads kept coming back unprocessed. */
export class MarkerReadError extends FraudScoringError {}

/** The replay file is missing, empty or has a malformed line. */
export class ReplaySetError extends FraudScoringError {}

/** The target version returned a function error or a payload that is not the expected JSON. */
export class TargetInvocationError extends FraudScoringError {}

/** The event lacks the ids needed to report a status: nothing can be reported. */
export class InvalidHookEventError extends FraudScoringError {}

/** CodeDeploy did not accept the status; the hook throws so Lambda's async retry runs it again. */
export class HookStatusReportError extends FraudScoringError {}

/** The record's body is not a valid event: retrying will not help. */
export class InvalidEventError extends FraudScoringError {}

/** The canary judge could not read its metric series (CloudWatch refused, throttled or failed a query). */
export class CanarySourceError extends FraudScoringError {}

/** The canary judge could not read the score alias's routing (GetAlias failed or answered nonsense). */
export class AliasRoutingError extends FraudScoringError {}

/** "at <path>: <message>" for the first issue of a zod error, for messages that name the problem's place. */
export function describeFirstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`;
}
