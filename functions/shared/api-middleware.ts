/**
 * The middleware every API handler shares, in the same order: Lambda context in the logs,
 * tracing (where enabled), EMF metrics flushed after each request, and the one error block
 * that counts, logs and answers a failure. Handlers throw; this file decides what a failure
 * looks like on the wire and in the logs.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { FraudScoringError, ValidationError } from '#domain/errors';
import { errorResponse, statusOf } from './http';
import { ApiMetric } from './metrics-contract';

type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ApiObservability {
  logger: Logger;
  metrics: Metrics;
  /**
   * Tracing middleware (Powertools' `captureLambdaHandler`), when tracing is on. Passed in rather
   * than imported here: the X-Ray SDK enables async hooks on load, which every promise then pays for.
   */
  tracing?: MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;
}

/**
 * Counts, logs and answers any error: 4xx are `ClientErrors` logged at INFO with their code
 * and (redacted) field only; everything else is `Errors`, logged at ERROR, answered without
 * details. Never logs the body: it may hold a card number.
 */
export function apiErrors(
  deps: Pick<ApiObservability, 'logger' | 'metrics'>,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const { logger, metrics } = deps;
  return {
    onError: async function apiErrorsOnError(request) {
      const error = request.error;
      if (statusOf(error) < 500) {
        metrics.addMetric(ApiMetric.ClientErrors, MetricUnit.Count, 1);
        const code = error instanceof FraudScoringError ? error.code : undefined;
        if (code === 'PAN_DETECTED') metrics.addMetric(ApiMetric.PanRejected, MetricUnit.Count, 1);
        logger.info('rejected', { code, field: error instanceof ValidationError ? error.field : undefined });
      } else {
        metrics.addMetric(ApiMetric.Errors, MetricUnit.Count, 1);
        logger.error('request failed', error as Error);
      }
      request.response = errorResponse(error);
    },
  };
}

/** Wraps an API handler in the shared middleware, always in the same order. */
export function apiHandler(name: string, handler: ApiHandler, deps: ApiObservability) {
  Object.defineProperty(handler, 'name', { value: name });
  const wrapped = middy(handler).use(injectLambdaContext(deps.logger, { resetKeys: true }));
  if (deps.tracing) wrapped.use(deps.tracing);
  return wrapped.use(logMetrics(deps.metrics, { captureColdStartMetric: true })).use(apiErrors(deps));
}
