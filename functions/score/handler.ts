/**
 * `POST /v1/score`, HTTP glue only: parse the body, score (the domain call: features,
 * stored answers, model, policy), record the metrics, answer. Errors are thrown and answered
 * by the shared middleware (`#shared/api-middleware`); dependencies come from `index.ts`.
 */
import { type Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { scoreRequestSchema, type ValidScoreRequest } from '#domain/contract';
import type { ScoreOutcome } from '#domain/score';
import { segmentKey, segmentOf } from '#domain/segment';
import { type ApiObservability, apiHandler } from '#shared/api-middleware';
import { jsonResponse, parseBody } from '#shared/http';
import { ScoreMetric, type ScoreVersionDimensions } from '#shared/metrics-contract';
import { type JudgeSignals, recordScoreOutcome, serverTiming } from './metrics';
import { checkScoreRequest } from './request-check';

export interface ScoreHandlerDeps {
  /** The domain call: scores a validated request (idempotently, when configured). */
  score: (request: ValidScoreRequest) => Promise<ScoreOutcome>;
  logger: Logger;
  metrics: Metrics;
  tracing?: ApiObservability['tracing'];
  /** Per-version dimensions added to every metric besides the defaults (low cardinality only). */
  dimensions: ScoreVersionDimensions;
  /** Called with every answer before it is returned; must not wait or throw (the archive). */
  onAnswer?: (request: ValidScoreRequest, outcome: ScoreOutcome) => void;
  /** Share of answers with a shadow whose live/shadow pair is logged (0–1). @default 0 */
  shadowLogSample?: number;
  /** Uniform [0, 1) for the sampling; injectable for tests. @default Math.random */
  random?: () => number;
  /**
   * Per-answer `SegmentDecision` and the card's top features as `FeatureValue`, for the judge
   * and the drift monitor.
   * @default - none of them
   */
  judgeSignals?: JudgeSignals;
  /**
   * Whether `metrics` publishes anything (`POWERTOOLS_METRICS_DISABLED`, `POWERTOOLS_DEV`; see
   * `emfDisabledByEnv`). When it does not, the answer's metrics are not recorded at all: storing
   * a dozen values that are then thrown away costs each answer tens of microseconds. The judge
   * signals follow the same switch.
   * @default true
   */
  metricsEnabled?: boolean;
}

export function createHandler(deps: ScoreHandlerDeps) {
  const { logger, metrics, dimensions } = deps;
  const random = deps.random ?? Math.random;
  const shadowLogSample = deps.shadowLogSample ?? 0;
  // Fixed per environment, so built once instead of per answer.
  const judge = deps.judgeSignals?.lines.enabled ? deps.judgeSignals : undefined;
  const recordMetrics = deps.metricsEnabled ?? true;
  async function scoreHandler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    metrics.addDimensions(dimensions);
    metrics.addMetric(ScoreMetric.Requests, MetricUnit.Count, 1);
    const request = parseBody(event, scoreRequestSchema, checkScoreRequest);
    logger.appendKeys({ transactionId: request.transactionId });
    const outcome = await deps.score(request);
    if (recordMetrics)
      recordScoreOutcome(metrics, outcome, dimensions, judge && { ...judge, request, dimensions });
    deps.onAnswer?.(request, outcome);
    for (const failure of outcome.signals.errors)
      logger.warn('degraded', { failedStep: failure.stage, error: failure.message });
    // The level can change per invocation (debug sampling), so it is read each time; below INFO
    // the attributes of the two lines are not even built.
    if (logger.level <= LogLevelThreshold.INFO) logAnswer(logger, request, outcome, random, shadowLogSample);
    return jsonResponse(200, outcome.response, { 'Server-Timing': serverTiming(outcome) });
  }
  return apiHandler('scoreHandler', scoreHandler, deps);
}

/** The `scored` line of every answer and, for a sample of answers with shadows, the `shadow pair` line. */
function logAnswer(
  logger: Logger,
  request: ValidScoreRequest,
  outcome: ScoreOutcome,
  random: () => number,
  shadowLogSample: number,
): void {
  logger.info('scored', {
    decision: outcome.response.decision,
    score: outcome.response.score,
    degraded: outcome.response.degraded,
    decidedBy: outcome.signals.decidedBy,
    idempotency: outcome.idempotency,
    timings: outcome.timings,
    companions: outcome.signals.companions.map(({ name, role, ok, failure, ms }) => ({
      name,
      role,
      ok,
      failure,
      ms,
    })),
  });
  if (outcome.shadows.length > 0 && random() < shadowLogSample) {
    // The pair for offline comparison: the card token only (never card data), both decisions.
    logger.info('shadow pair', {
      cardId: request.cardId,
      segment: segmentKey(segmentOf(request, outcome.signals.cardFound)),
      live: {
        model: outcome.response.model,
        score: outcome.response.score,
        decision: outcome.response.decision,
        degraded: outcome.response.degraded,
      },
      shadows: outcome.shadows,
    });
  }
}
