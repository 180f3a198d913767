/**
 * Idempotent scoring without a write before the work. The stored answer of a transactionId is
 * read in the same round trip as the features; on a miss the request is scored and the answer
 * stored with one conditional write that only succeeds if no answer exists. A concurrent
 * duplicate that loses that race gets the winner's stored answer. Scoring has no side effect
 * beyond metrics, so scoring a concurrent duplicate twice is harmless; what matters is that
 * every caller of one transactionId sees one answer. See docs/deploy.md "Idempotency".
 */
import type { ScoreResponse, ValidScoreRequest } from './contract';
import { IdempotencyConflictError } from './errors';
import { sha256 } from './hash';

/** The answer stored for a transactionId, and the hash of the request that produced it. */
export interface StoredAnswer {
  requestHash: string;
  response: ScoreResponse;
  /** Epoch seconds after which the answer no longer counts (the table's TTL attribute). */
  expiresAt: number;
}

/** Outcome of the conditional write: stored, or another answer already holds the transactionId. */
export type SaveAnswerResult = { stored: true } | { stored: false; existing?: StoredAnswer };

/** SHA-256 over the request's canonical JSON (keys sorted), so key order does not matter. */
export function requestHash(request: ValidScoreRequest): string {
  const entries = Object.entries(request)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(JSON.stringify(entries), 'base64url');
}

/**
 * The stored answer to return for `hash`, or a conflict: the same transactionId with another
 * body is 409 `IDEMPOTENCY_MISMATCH`.
 */
export function replayOf(stored: StoredAnswer, hash: string): ScoreResponse {
  if (stored.requestHash !== hash) {
    throw new IdempotencyConflictError(
      'IDEMPOTENCY_MISMATCH',
      'transactionId was already scored with a different request body',
    );
  }
  return stored.response;
}

/** The answer exists but could not be read back (a rare race with its expiry): the caller retries. */
export function inProgress(): IdempotencyConflictError {
  return new IdempotencyConflictError(
    'REQUEST_IN_PROGRESS',
    'a request with this transactionId is still being scored',
    1,
  );
}
