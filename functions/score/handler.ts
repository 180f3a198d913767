/**
 * `POST /v1/score`, HTTP glue only: parse the body, score (the domain call: features,
 * stored answers, model, policy), record the metrics, answer. Errors are thrown and answered
 * by the shared middleware (`#shared/api-middleware`); dependencies come from `index.ts`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { scoreRequestSchema, type ValidScoreRequest } from '#domain/contract';
import type { ScoreOutcome } from '#domain/score';
import { type ApiObservability, apiHandler } from '#shared/api-middleware';
import { jsonResponse, parseBody } from '#shared/http';
import { ScoreMetric, type ScoreVersionDimensions } from '#shared/metrics-contract';
import { type JudgeSignals, recordScoreOutcome, serverTiming } from './metrics';

export interface ScoreHandlerDeps {
  /** The domain call: scores a validated request (idempotently, when configured). */
  score: (request: ValidScoreRequest) => Promise<ScoreOutcome>;
  logger: Logger;
  metrics: Metrics;
  tracing?: ApiObservability['tracing'];
  /** Per-version dimensions added to every metric besides the defaults (low cardinality only). */
  dimensions: ScoreVersionDimensions;
  /**
   * Per-answer `SegmentDecision` and the card's top features as `FeatureValue`, for the judge
   * and the drift monitor.
   * @default - none of them
   */
  judgeSignals?: JudgeSignals;
}

export function createHandler(deps: ScoreHandlerDeps) {
  const { logger, metrics } = deps;
  async function scoreHandler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    metrics.addDimensions({ ...deps.dimensions });
    metrics.addMetric(ScoreMetric.Requests, MetricUnit.Count, 1);
    const request = parseBody(event, scoreRequestSchema);
    logger.appendKeys({ transactionId: request.transactionId });
    const outcome = await deps.score(request);
    recordScoreOutcome(
      metrics,
      outcome,
      deps.judgeSignals && { ...deps.judgeSignals, request, dimensions: deps.dimensions },
    );
    for (const failure of outcome.signals.errors)
      logger.warn('degraded', { failedStep: failure.stage, error: failure.message });
    logger.info('scored', {
      decision: outcome.response.decision,
      score: outcome.response.score,
      degraded: outcome.response.degraded,
      decidedBy: outcome.signals.decidedBy,
      idempotency: outcome.idempotency,
      timings: outcome.timings,
    });
    return jsonResponse(200, outcome.response, { 'Server-Timing': serverTiming(outcome) });
  }
  return apiHandler('scoreHandler', scoreHandler, deps);
}
