/**
 * Typed client for the Fraud Scoring API (`api/openapi.json`). See README.md in this folder.
 */
export {
  type Auth,
  type Decision,
  type EventsAccepted,
  type FallbackPolicy,
  MAX_EVENTS_PER_REQUEST,
  type RetryEvent,
  type RetryOptions,
  type ScoreOptions,
  type ScoreRequest,
  type ScoreResponse,
  type ScoreResult,
  ScoringClient,
  type ScoringClientOptions,
  type TransactionEvent,
} from './client';
export * from './errors';
export { createSigner, NodeSha256, type RequestSigner, regionOfApiUrl, type SignerOptions } from './signing';
