import type { ScoringClientKind } from '#adapters/dynamo-http';
import { type ArchiveConfig, loadArchiveConfig } from '#shared/archive-wiring';
import { type Env, readEnum, readNumber, readOptionalString, readString } from '#shared/config';
import { loadNeuralConfig, type NeuralConfig } from '#shared/neural-config';

/** Settings of the score function, read once at init. */
export interface ScoreConfig {
  stage: string;
  featureTableName: string;
  idempotencyTableName: string;
  /** Directory holding model.onnx and model.json. */
  modelDir: string;
  /** Path of the decision policy JSON. */
  policyPath: string;
  featureTimeoutMs: number;
  maxFeatureAgeMs: number;
  /** Store and replay answers per transactionId. Off only for benchmarks. */
  idempotencyEnabled: boolean;
  idempotencyTtlSeconds: number;
  /** Budget of the answer write; past it the answer is returned unstored (`IdempotencyUnavailable`). */
  idempotencyTimeoutMs: number;
  /** Local DynamoDB endpoint; unset in AWS. */
  dynamoEndpoint?: string;
  /**
   * How the store calls DynamoDB (`DYNAMODB_CLIENT`): `http`, signed HTTP (SigV4 by
   * `dynamo-signer.ts`) with the SDK client's configuration resolved once, or `sdk`, the SDK
   * client per call (see `dynamo-http.ts`).
   * @default 'http'
   */
  dynamoClient: ScoringClientKind;
  region: string;
  functionVersion: string;
  /** X-Ray tracing through Powertools (`POWERTOOLS_TRACE_ENABLED`). @default true */
  tracingEnabled: boolean;
  /** The model version this deploy ships (the metric dimension even if loading fails). */
  modelVersion?: string;
  /** Where answers are archived (`ARCHIVE_STREAM_NAME` or `ARCHIVE_DIR`); off when unset. */
  archive?: ArchiveConfig;
  /** The neural model: `off`, `shadow` or `live`, and its client (`NEURAL_*`, see `neural-config.ts`). */
  neural: Readonly<NeuralConfig>;
  /** A tree model scored in shadow (`SHADOW_MODEL_DIR`: model.onnx + model.json); none when unset. */
  shadowModelDir?: string;
  /** Share of answers whose live/shadow pair is logged (`SHADOW_LOG_SAMPLE`, 0–1). @default 0.01 */
  shadowLogSample: number;
}

export function loadScoreConfig(env: Env = process.env): Readonly<ScoreConfig> {
  return Object.freeze({
    stage: readString(env, 'STAGE', 'local'),
    featureTableName: readString(env, 'FEATURE_TABLE_NAME'),
    idempotencyTableName: readString(env, 'IDEMPOTENCY_TABLE_NAME'),
    modelDir: readString(env, 'MODEL_DIR'),
    policyPath: readString(env, 'POLICY_PATH'),
    featureTimeoutMs: readNumber(env, 'FEATURE_TIMEOUT_MS', 60, { min: 1, max: 10_000 }),
    maxFeatureAgeMs: readNumber(env, 'FEATURE_MAX_AGE_SECONDS', 90 * 86_400, { min: 1 }) * 1000,
    idempotencyEnabled: readEnum(env, 'IDEMPOTENCY_ENABLED', ['true', 'false'], 'true') === 'true',
    idempotencyTtlSeconds: readNumber(env, 'IDEMPOTENCY_TTL_SECONDS', 86_400, { min: 60 }),
    idempotencyTimeoutMs: readNumber(env, 'IDEMPOTENCY_TIMEOUT_MS', 100, { min: 1, max: 10_000 }),
    dynamoEndpoint: readOptionalString(env, 'DYNAMODB_ENDPOINT'),
    dynamoClient: readEnum(env, 'DYNAMODB_CLIENT', ['http', 'sdk'], 'http'),
    region: readString(env, 'AWS_REGION', 'us-east-1'),
    functionVersion: readString(env, 'AWS_LAMBDA_FUNCTION_VERSION', '$LATEST'),
    tracingEnabled: readEnum(env, 'POWERTOOLS_TRACE_ENABLED', ['true', 'false'], 'true') === 'true',
    modelVersion: readOptionalString(env, 'MODEL_VERSION'),
    archive: loadArchiveConfig(env),
    neural: loadNeuralConfig(env),
    shadowModelDir: readOptionalString(env, 'SHADOW_MODEL_DIR'),
    shadowLogSample: readNumber(env, 'SHADOW_LOG_SAMPLE', 0.01, { min: 0, max: 1 }),
  });
}
