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
import { segmentKey, segmentOf } from '#domain/segment';
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
      deps.dimensions,
      deps.judgeSignals && { ...deps.judgeSignals, request, dimensions: deps.dimensions },
    );
    deps.onAnswer?.(request, outcome);
    for (const failure of outcome.signals.errors)
      logger.warn('degraded', { failedStep: failure.stage, error: failure.message });
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
    if (outcome.shadows.length > 0 && (deps.random ?? Math.random)() < (deps.shadowLogSample ?? 0)) {
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
    return jsonResponse(200, outcome.response, { 'Server-Timing': serverTiming(outcome) });
  }
  return apiHandler('scoreHandler', scoreHandler, deps);
}
