/**
 * The score function's wiring: the one place that builds its real dependencies (SDK clients,
 * the ONNX session, the policy, observability), once per environment. The Lambda entry
 * (`lambda.ts`), the local stack and the benchmarks all start the function through
 * {@link createScoreFunction}, so they run exactly what AWS runs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createScoringCaller } from '#adapters/dynamo-http';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { HttpNeuralScorer } from '#adapters/neural-scorer';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import { scoreRecordOf } from '#domain/archive';
import type { ValidScoreRequest } from '#domain/contract';
import { withDeadline } from '#domain/deadline';
import { ConfigError } from '#domain/errors';
import { FEATURE_NAMES } from '#domain/features';
import { combinationSchema, neuralCompanion } from '#domain/neural';
import { parsePolicy } from '#domain/policy';
import type { ScoringStore } from '#domain/ports';
import { type ScoreOutcome, type ScoringDeps, scoreTransaction } from '#domain/score';
import { type CompanionScorer, type ScorerComposition, treeShadow } from '#domain/scorers';
import { archiveHook, createArchive } from '#shared/archive-wiring';
import { EmfLineWriter, emfDisabledByEnv } from '#shared/emf-lines';
import { METRICS_NAMESPACE, MetricService } from '#shared/metrics-contract';
import { serviceObservability } from '#shared/observability';
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
 * The scorers beside the tree, from configuration: the neural model live or in shadow
 * (`NEURAL_MODE`), and a shadow tree model (`SHADOW_MODEL_DIR`). A neural card whose stacker
 * was fitted on another tree model fails init (its combination would be meaningless); a
 * shadow model that cannot load only logs, since a shadow must never cost the live answer.
 */
async function createScorers(
  config: ScoreConfig,
  model: OnnxModelRunner | undefined,
  logger: Logger,
): Promise<{ scorers: ScorerComposition; close: () => void }> {
  let live: CompanionScorer | undefined;
  const shadows: CompanionScorer[] = [];
  let neuralClient: HttpNeuralScorer | undefined;
  const { neural } = config;
  if (neural.mode !== 'off' && neural.client && neural.modelDir) {
    const card = JSON.parse(await readFile(join(neural.modelDir, 'model.json'), 'utf8')) as {
      name: string;
      version: string;
      combination: unknown;
    };
    const combination = combinationSchema.parse(card.combination);
    const stackedOn = `${combination.treeModel.name}@${combination.treeModel.version}`;
    if (model && stackedOn !== `${model.model.name}@${model.model.version}`) {
      throw new ConfigError(
        `the ${card.name}@${card.version} combination is fitted on ${stackedOn}, but the tree model is ${model.model.name}@${model.model.version}`,
      );
    }
    neuralClient = new HttpNeuralScorer(neural.client);
    // The first scored request must not pay the connection (or the service's first call).
    const warm = await neuralClient.warmUp();
    if (warm.ok) logger.info('neural service warmed up', { ms: Math.round(warm.ms) });
    else logger.warn('neural warm-up failed; requests degrade until it answers', { error: warm.error });
    const companion = neuralCompanion(neuralClient, { name: card.name, version: card.version }, combination);
    if (neural.mode === 'live') live = companion;
    else shadows.push(companion);
  }
  if (config.shadowModelDir) {
    try {
      const runner = await OnnxModelRunner.load(config.shadowModelDir);
      const names = runner.card.features.map((f) => f.name);
      if (names.join() !== FEATURE_NAMES.join()) {
        throw new ConfigError(`its features differ from this function's feature module`);
      }
      const { review, decline } = runner.card.thresholds;
      shadows.push(treeShadow(runner, { review: review.score, decline: decline.score }));
    } catch (error) {
      logger.error('shadow model unavailable; scoring without it', {
        shadowModelDir: config.shadowModelDir,
        error: (error as Error).message,
      });
    }
  }
  return { scorers: { live, shadows }, close: () => neuralClient?.close() };
}

/** What {@link createScoreFunction} may be given instead of building it from the config. */
export interface ScoreFunctionOverrides {
  /**
   * The scoring store. `npm run bench` passes one that answers from memory, to time the
   * function's own work without DynamoDB.
   * @default - the DynamoDB store of the config's tables and endpoint
   */
  readonly store?: ScoringStore;
  /**
   * Whether a first answer goes to the archive. The local stack primes the instance that will
   * serve (priming a copy left the serving one slower in its first seconds, docs/performance.md)
   * and leaves its own priming requests out of the archive with this.
   * @default - every first answer (a replay was archived when it was first given)
   */
  readonly archiveAnswer?: (request: ValidScoreRequest) => boolean;
}

/**
 * Builds the score function. A model that cannot be loaded does not fail init: the function
 * then answers rules-only with `degraded: ["model_unavailable"]`.
 */
export async function createScoreFunction(config: ScoreConfig, overrides: ScoreFunctionOverrides = {}) {
  const { logger, metrics } = serviceObservability(MetricService.Score, config.stage);
  const tracing = config.tracingEnabled ? await tracingMiddleware() : undefined;
  const dynamo = await createScoringCaller({
    region: config.region,
    endpoint: config.dynamoEndpoint,
    kind: config.dynamoClient,
  });
  const policy = parsePolicy(JSON.parse(await readFile(config.policyPath, 'utf8')));
  let model: OnnxModelRunner | undefined;
  try {
    model = await OnnxModelRunner.load(config.modelDir);
  } catch (error) {
    logger.error('model unavailable; answering rules-only', error as Error);
  }
  const store =
    overrides.store ??
    new DynamoScoringStore(dynamo, {
      featureTableName: config.featureTableName,
      answerTableName: config.idempotencyTableName,
    });
  // Both warm-ups (the store's first read, the neural pool's first call) overlap in init.
  const [, companions] = await Promise.all([warmUp(store, logger), createScorers(config, model, logger)]);
  const scoring: ScoringDeps = {
    scorers: companions.scorers,
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
  const dimensions = metricDimensions(config, model);
  // Powertools' own switch, read from the same environment at the same moment as its Metrics.
  const metricsOff = emfDisabledByEnv();
  const archive = createArchive(config.archive, logger);
  const api = createHandler({
    score: (request: ValidScoreRequest) => scoreTransaction(scoring, request),
    logger,
    metrics,
    tracing,
    dimensions,
    // A replayed answer was archived when it was first given.
    onAnswer:
      archive &&
      archiveHook(archive, metrics, logger, (request: ValidScoreRequest, outcome: ScoreOutcome) =>
        outcome.idempotency === 'replayed' || overrides.archiveAnswer?.(request) === false
          ? []
          : [scoreRecordOf(request, outcome, dimensions, Date.now())],
      ),
    shadowLogSample: config.shadowLogSample,
    metricsEnabled: !metricsOff,
    judgeSignals: {
      lines: new EmfLineWriter({
        namespace: METRICS_NAMESPACE,
        defaultDimensions: { service: MetricService.Score, stage: config.stage },
        disabled: metricsOff,
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
    /** Delivers what the archive holds, then releases the neural client's and the SDK's sockets (local stack and tests). */
    close: async () => {
      await archive?.close();
      companions.close();
      dynamo.destroy();
    },
  };
}
