/**
 * The score function's wiring: the one place that builds its real dependencies (SDK clients,
 * the ONNX session, the policy, observability), once per environment. The Lambda entry
 * (`lambda.ts`), the local stack and the benchmarks all start the function through
 * {@link createScoreFunction}, so they run exactly what AWS runs.
 */
import { readFile } from 'node:fs/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createDynamoClients } from '#adapters/dynamo-client';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import type { ValidScoreRequest } from '#domain/contract';
import { withDeadline } from '#domain/deadline';
import { parsePolicy } from '#domain/policy';
import type { ScoringStore } from '#domain/ports';
import { type ScoringDeps, scoreTransaction } from '#domain/score';
import { EmfLineWriter } from '#shared/emf-lines';
import { METRICS_NAMESPACE, MetricService } from '#shared/metrics-contract';
import type { ScoreConfig } from './config';
import { createHandler } from './handler';
import { metricDimensions, monitoredFeatures } from './metrics';
import { createReplayHandler, isReplayRequest } from './replay';

/**
 * One read during init, so that the SDK's lazy set-up (credentials, endpoint, the first TLS
 * connection) is paid by the init phase, not by the first request's feature budget. Failure
 * is fine: requests degrade on their own.
 */
async function warmUp(store: ScoringStore, logger: Logger): Promise<void> {
  try {
    await withDeadline('warm-up read', 2000, (signal) =>
      store.read({ cardId: 'warm-up', merchantId: 'warm-up', transactionId: 'warm-up' }, signal),
    );
  } catch (error) {
    logger.warn('warm-up read failed', { error: (error as Error).message });
  }
}

/**
 * Powertools' tracer, loaded only when tracing is on: the X-Ray SDK it brings enables async
 * hooks at load, a cost every promise of every request then pays (measured with `npm run profile`).
 */
async function tracingMiddleware() {
  const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]);
  return captureLambdaHandler(new Tracer({ serviceName: MetricService.Score }), { captureResponse: false });
}

/**
 * Builds the score function. A model that cannot be loaded does not fail init: the function
 * then answers rules-only with `degraded: ["model_unavailable"]`.
 */
export async function createScoreFunction(config: ScoreConfig) {
  const logger = new Logger({ serviceName: MetricService.Score, persistentKeys: { stage: config.stage } });
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: MetricService.Score,
    defaultDimensions: { stage: config.stage },
  });
  const tracing = config.tracingEnabled ? await tracingMiddleware() : undefined;
  const { documents } = createDynamoClients({ region: config.region, endpoint: config.dynamoEndpoint });
  const policy = parsePolicy(JSON.parse(await readFile(config.policyPath, 'utf8')));
  let model: OnnxModelRunner | undefined;
  try {
    model = await OnnxModelRunner.load(config.modelDir);
  } catch (error) {
    logger.error('model unavailable; answering rules-only', error as Error);
  }
  const store = new DynamoScoringStore(documents, {
    featureTableName: config.featureTableName,
    answerTableName: config.idempotencyTableName,
  });
  await warmUp(store, logger);
  const scoring: ScoringDeps = {
    store,
    model,
    thresholds: model
      ? { review: model.card.thresholds.review.score, decline: model.card.thresholds.decline.score }
      : { review: 1, decline: 1 },
    policy,
    featureTimeoutMs: config.featureTimeoutMs,
    maxFeatureAgeMs: config.maxFeatureAgeMs,
    idempotency: config.idempotencyEnabled
      ? { timeoutMs: config.idempotencyTimeoutMs, ttlSeconds: config.idempotencyTtlSeconds }
      : undefined,
  };
  const api = createHandler({
    score: (request: ValidScoreRequest) => scoreTransaction(scoring, request),
    logger,
    metrics,
    tracing,
    dimensions: metricDimensions(config, model),
    judgeSignals: {
      lines: new EmfLineWriter({
        namespace: METRICS_NAMESPACE,
        defaultDimensions: { service: MetricService.Score, stage: config.stage },
      }),
      features: monitoredFeatures(model?.card),
    },
  });
  const replay = createReplayHandler(model);
  return {
    model,
    /** The API handler alone (the local stack's HTTP front calls it). */
    handler: api,
    /** The Lambda handler: API Gateway events go to the API handler, the hook's `{kind: 'replay'}` to the replay handler. */
    dispatch: (event: unknown, context: Context) =>
      isReplayRequest(event) ? replay(event) : api(event as APIGatewayProxyEvent, context),
    /** Releases the SDK's sockets (local stack and tests). */
    close: () => documents.destroy(),
  };
}
