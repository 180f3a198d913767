import { type Env, readEnum, readNumber, readString } from '#shared/config';

/** Settings of the feature updater, read once at init. */
export interface UpdaterConfig {
  readonly stage: string;
  readonly featureTableName: string;
  /** Feature items expire this long after their last update (`FEATURE_TTL_SECONDS`). */
  readonly ttlSeconds: number;
  /**
   * How long an applied event id is remembered (`FEATURE_DEDUPE_SECONDS`, default 30 days):
   * longer than the queue's retention (4 days) plus its DLQ's (14 days), so a redrive is
   * still counted once.
   */
  readonly dedupeSeconds: number;
  /**
   * `transactional` (AWS: one TransactWriteItems per batch, markers and aggregates together) or
   * `marker` (DynamoDB-compatible servers without transactions, e.g. dynalite locally); see
   * docs/features.md (`FEATURE_WRITER`, default `transactional`).
   */
  readonly writer: 'transactional' | 'marker';
  /** Local DynamoDB endpoint; unset in AWS. */
  readonly dynamoEndpoint?: string;
  /**
   * Budget of one DynamoDB request in ms (`DYNAMODB_REQUEST_TIMEOUT_MS`), counted from when the
   * request is issued, so it includes any wait for a socket or a server-side queue. The local
   * stack raises it: there the updater's requests queue on purpose behind dynalite's background
   * lane (`scripts/local/dynamo-local.ts`), and a batch's writes all wait there together.
   * @default 2000
   */
  readonly requestTimeoutMs: number;
  /**
   * TCP connect budget in ms (`DYNAMODB_CONNECTION_TIMEOUT_MS`); the local stack raises it for
   * the same reason: a busy dynalite accepts a batch's new connections late.
   * @default 200
   */
  readonly connectionTimeoutMs: number;
}

export function loadUpdaterConfig(env: Env = process.env): UpdaterConfig {
  return Object.freeze({
    stage: readString(env, 'STAGE', 'dev'),
    featureTableName: readString(env, 'FEATURE_TABLE_NAME'),
    ttlSeconds: readNumber(env, 'FEATURE_TTL_SECONDS', 180 * 86_400, { min: 3600 }),
    dedupeSeconds: readNumber(env, 'FEATURE_DEDUPE_SECONDS', 30 * 86_400, { min: 86_400 }),
    writer: readEnum(env, 'FEATURE_WRITER', ['transactional', 'marker'], 'transactional'),
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    requestTimeoutMs: readNumber(env, 'DYNAMODB_REQUEST_TIMEOUT_MS', 2000, { min: 100 }),
    connectionTimeoutMs: readNumber(env, 'DYNAMODB_CONNECTION_TIMEOUT_MS', 200, { min: 10 }),
  });
}
