/**
 * `POST /v1/score`: parse → (idempotent) score → metrics → response. Domain logic lives in
 * `#domain/score`; this file is glue. `createHandler(deps)` takes every dependency so tests
 * pass fakes; `initScoreHandler(config)` builds the real ones once per environment.
 */
import { readFile } from 'node:fs/promises';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { createDynamoClients } from '#adapters/dynamo-client';
import { DynamoFeatureStore } from '#adapters/dynamo-feature-store';
import { ModelUnavailableError, OnnxModelRunner } from '#adapters/onnx-model-runner';
import { scoreRequestSchema, type ValidScoreRequest } from '#domain/contract';
import { parsePolicy } from '#domain/policy';
import type { ModelRunner } from '#domain/ports';
import { type ScoreOutcome, type ScoringDeps, scoreTransaction } from '#domain/score';
import { ConflictError, errorResponse, HttpError, jsonResponse, parseBody } from '#shared/http';
import type { ScoreConfig } from './config';

/** Scores a validated request; the idempotent variant replays stored outcomes for retries. */
export type ScoreFn = (request: ValidScoreRequest) => Promise<ScoreOutcome & { replayed?: boolean }>;

export interface ScoreHandlerDeps {
  score: ScoreFn;
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
  /** Dimensions added to every metric besides the stage (low cardinality only). */
  dimensions: { functionVersion: string; modelVersion: string };
  /** Lets the idempotency layer track the remaining invocation time. */
  registerContext?: (context: Context) => void;
}

function serverTiming(t: ScoreOutcome['timings']): string {
  return [
    `features;dur=${t.featuresMs.toFixed(2)}`,
    `inference;dur=${t.inferenceMs.toFixed(2)}`,
    `total;dur=${t.totalMs.toFixed(2)}`,
  ].join(', ');
}

function recordMetrics(metrics: Metrics, outcome: ScoreOutcome): void {
  const { timings, signals, response } = outcome;
  metrics.addMetric('LatencyFeatures', MetricUnit.Milliseconds, timings.featuresMs);
  metrics.addMetric('LatencyInference', MetricUnit.Milliseconds, timings.inferenceMs);
  metrics.addMetric('LatencyTotal', MetricUnit.Milliseconds, timings.totalMs);
  if (response.score !== null) metrics.addMetric('Score', MetricUnit.NoUnit, response.score);
  metrics.addMetric(
    `Decision${response.decision[0]?.toUpperCase()}${response.decision.slice(1)}`,
    MetricUnit.Count,
    1,
  );
  metrics.addMetric(signals.cardFound ? 'FeatureHit' : 'FeatureMiss', MetricUnit.Count, 1);
  if (signals.staleItems > 0) metrics.addMetric('FeatureStale', MetricUnit.Count, signals.staleItems);
  if (signals.cardAgeMs !== undefined)
    metrics.addMetric('FeatureAge', MetricUnit.Seconds, signals.cardAgeMs / 1000);
  for (const reason of response.degraded) {
    const name = reason.replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase());
    metrics.addMetric(`Degraded${name}`, MetricUnit.Count, 1);
  }
  metrics.addMetric('Degraded', MetricUnit.Count, response.degraded.length > 0 ? 1 : 0);
}

export function createHandler(deps: ScoreHandlerDeps) {
  const { logger, metrics, tracer } = deps;

  async function scoreHandler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
    metrics.addDimensions(deps.dimensions);
    metrics.addMetric('Requests', MetricUnit.Count, 1);
    deps.registerContext?.(context);
    try {
      const request = parseBody(event, scoreRequestSchema);
      logger.appendKeys({ transactionId: request.transactionId });
      const outcome = await deps.score(request);
      if (outcome.replayed) metrics.addMetric('IdempotentReplay', MetricUnit.Count, 1);
      else recordMetrics(metrics, outcome);
      for (const failure of outcome.signals.errors)
        logger.warn('degraded', { failedStep: failure.stage, error: failure.message });
      logger.info('scored', {
        decision: outcome.response.decision,
        score: outcome.response.score,
        degraded: outcome.response.degraded,
        decidedBy: outcome.signals.decidedBy,
        replayed: outcome.replayed ?? false,
        timings: outcome.timings,
      });
      metrics.addMetric('Errors', MetricUnit.Count, 0);
      return jsonResponse(200, outcome.response, { 'Server-Timing': serverTiming(outcome.timings) });
    } catch (error) {
      if (error instanceof HttpError) {
        metrics.addMetric('ClientErrors', MetricUnit.Count, 1);
        if (error.code === 'PAN_DETECTED') metrics.addMetric('PanRejected', MetricUnit.Count, 1);
        // Only the code and field: the body may hold a card number and is never logged.
        logger.info('rejected', { code: error.code, field: error.field });
      } else {
        metrics.addMetric('Errors', MetricUnit.Count, 1);
        logger.error('score failed', error as Error);
      }
      return errorResponse(error);
    } finally {
      logger.removeKeys(['transactionId']);
    }
  }

  return middy(scoreHandler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

/**
 * Dimensions of every score metric. `modelVersion` is the version this deploy ships
 * (`MODEL_VERSION`), also when the model failed to load: the version-scoped alarms query that
 * exact set, so a rules-only environment must publish under it to be seen (its degraded
 * answers, its 5xx) instead of under a dimension set no alarm watches.
 */
export function metricDimensions(
  config: Pick<ScoreConfig, 'functionVersion' | 'modelVersion'>,
  model: ModelRunner | undefined,
): { functionVersion: string; modelVersion: string } {
  return {
    functionVersion: config.functionVersion,
    modelVersion: config.modelVersion ?? model?.model.version ?? 'none',
  };
}

const replaySchema = z.strictObject({
  kind: z.literal('replay'),
  cases: z
    .array(z.strictObject({ features: z.array(z.number()) }))
    .min(1)
    .max(512),
});

/** Direct-invoke payload of the pre-traffic hook: feature vectors in, the model's scores out. */
export type ReplayRequest = z.infer<typeof replaySchema>;
export interface ReplayResponse {
  model: { name: string; version: string };
  scores: number[];
  durationMs: number;
}

export function isReplayRequest(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { kind?: unknown }).kind === 'replay';
}

/**
 * Scores the replay set's stored feature vectors with the loaded model. Only reachable by
 * direct invocation (API Gateway events never carry `kind`), which IAM grants to the
 * pre-traffic hook alone. Throws when the model is unavailable, so the hook fails the
 * deployment instead of passing a rules-only version.
 */
export function createReplayHandler(model: ModelRunner | undefined) {
  return async function replayHandler(event: unknown): Promise<ReplayResponse> {
    if (!model) throw new ModelUnavailableError('model unavailable: this version cannot score');
    const request = replaySchema.parse(event);
    const started = performance.now();
    const scores = await model.score(request.cases.map((c) => c.features));
    return { model: model.model, scores, durationMs: performance.now() - started };
  };
}

/** Idempotency failures that are the caller's to fix, mapped to 409s. */
function idempotencyError(error: unknown): HttpError | undefined {
  const name = (error as Error | undefined)?.name;
  if (name === 'IdempotencyValidationError') {
    return new ConflictError(
      'IDEMPOTENCY_MISMATCH',
      'transactionId was already scored with a different request body',
    );
  }
  if (name === 'IdempotencyAlreadyInProgressError') {
    return new ConflictError(
      'REQUEST_IN_PROGRESS',
      'a request with this transactionId is still being scored',
      {
        'Retry-After': '1',
      },
    );
  }
  return undefined;
}

/**
 * Wraps the scoring function with Powertools idempotency keyed on transactionId and
 * validated on the whole request. If the idempotency store itself fails, the request is
 * still scored (a decision matters more than deduplication) and the failure is logged.
 */
export function idempotentScore(
  score: ScoreFn,
  options: { persistence: DynamoDBPersistenceLayer; ttlSeconds: number; logger: Logger; metrics: Metrics },
): { score: ScoreFn; registerContext: (context: Context) => void } {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'transactionId',
    payloadValidationJmesPath: '@',
    expiresAfterSeconds: options.ttlSeconds,
    throwOnNoIdempotencyKey: true,
    responseHook: (response) => ({ ...(response as object), replayed: true }) as never,
  });
  // Powertools cannot store a result holding `undefined` (the record would stay "in
  // progress"), so the stored outcome is its JSON form.
  const storable: ScoreFn = async (request) => JSON.parse(JSON.stringify(await score(request)));
  const wrapped = makeIdempotent(storable, { persistenceStore: options.persistence, config });
  return {
    registerContext: (context) => config.registerLambdaContext(context),
    score: async (request) => {
      try {
        return await wrapped(request);
      } catch (error) {
        const mapped = idempotencyError(error);
        if (mapped) throw mapped;
        if ((error as Error).name?.startsWith('Idempotency')) {
          options.logger.warn('idempotency store unavailable; scoring without it', {
            error: (error as Error).message,
          });
          options.metrics.addMetric('IdempotencyUnavailable', MetricUnit.Count, 1);
          return score(request);
        }
        throw error;
      }
    },
  };
}

/**
 * Builds the real dependencies once. A model that cannot be loaded does not fail init: the
 * function then answers rules-only with `degraded: ["model_unavailable"]`.
 */
export async function initScoreHandler(config: ScoreConfig) {
  const logger = new Logger({ serviceName: 'score', persistentKeys: { stage: config.stage } });
  const metrics = new Metrics({
    namespace: 'FraudScoring',
    serviceName: 'score',
    defaultDimensions: { stage: config.stage },
  });
  const tracer = new Tracer({ serviceName: 'score' });
  const { client, documents } = createDynamoClients({
    region: config.region,
    endpoint: config.dynamoEndpoint,
  });
  const policy = parsePolicy(JSON.parse(await readFile(config.policyPath, 'utf8')));
  let model: OnnxModelRunner | undefined;
  try {
    model = await OnnxModelRunner.load(config.modelDir);
  } catch (error) {
    logger.error('model unavailable; answering rules-only', error as Error);
  }
  const scoring: ScoringDeps = {
    features: new DynamoFeatureStore(documents, config.featureTableName),
    model,
    thresholds: model
      ? { review: model.card.thresholds.review.score, decline: model.card.thresholds.decline.score }
      : { review: 1, decline: 1 },
    policy,
    featureTimeoutMs: config.featureTimeoutMs,
    maxFeatureAgeMs: config.maxFeatureAgeMs,
  };
  const persistence = new DynamoDBPersistenceLayer({
    tableName: config.idempotencyTableName,
    awsSdkV3Client: client,
  });
  const { score, registerContext } = idempotentScore((request) => scoreTransaction(scoring, request), {
    persistence,
    ttlSeconds: config.idempotencyTtlSeconds,
    logger,
    metrics,
  });
  const replay = createReplayHandler(model);
  const api = createHandler({
    score,
    registerContext,
    logger,
    metrics,
    tracer,
    dimensions: metricDimensions(config, model),
  });
  return {
    model,
    /** API Gateway events go to the API handler; the hook's `{kind: 'replay'}` payloads to the replay handler. */
    dispatch: (event: unknown, context: Context) =>
      isReplayRequest(event) ? replay(event) : api(event as APIGatewayProxyEvent, context),
    handler: api,
  };
}
