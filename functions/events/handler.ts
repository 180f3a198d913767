/**
 * `POST /v1/events`: validates authorization outcomes and labels and enqueues them for the
 * feature updater. Answers 202: the aggregates change asynchronously, and the event ids
 * make a retried request safe.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { eventsSchemaFor } from '#domain/contract';
import type { EventQueue } from '#domain/event-queue';
import type { TransactionEvent } from '#domain/types';
import { errorResponse, HttpError, jsonResponse, parseBody, ValidationError } from '#shared/http';

export interface EventsHandlerDeps {
  queue: EventQueue;
  logger: Logger;
  metrics: Metrics;
  /** Largest accepted lead of an event's time over the clock. @default 300000 (5 min) */
  maxFutureSkewMs?: number;
  clock?: () => number;
}

/** Default allowance for clocks running ahead of ours. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;

/**
 * Refuses events dated after `now + maxSkewMs`: the feature state is built for events that
 * happened, and one dated ahead would count against every request scored before its time.
 * Names the first offending field (`timestamp`, or `transactionTimestamp` of a label;
 * prefixed with `events.<i>.` in a batch).
 */
export function checkEventTimes(
  events: readonly TransactionEvent[],
  batch: boolean,
  now: number,
  maxSkewMs: number,
): void {
  const limit = now + maxSkewMs;
  events.forEach((event, i) => {
    const fields: [string, string][] = [['timestamp', event.timestamp]];
    if (event.type === 'label') fields.push(['transactionTimestamp', event.transactionTimestamp]);
    for (const [name, value] of fields) {
      if (Date.parse(value) > limit) {
        throw new ValidationError(
          'EVENT_IN_FUTURE',
          `${name} is more than ${Math.round(maxSkewMs / 1000)} s ahead of the server clock`,
          batch ? `events.${i}.${name}` : name,
        );
      }
    }
  });
}

export function createEventsHandler(deps: EventsHandlerDeps) {
  const { logger, metrics } = deps;
  const maxFutureSkewMs = deps.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  const clock = deps.clock ?? Date.now;
  async function eventsHandler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    try {
      const body = parseBody(event, eventsSchemaFor);
      const events = ('events' in body ? body.events : [body]) as TransactionEvent[];
      checkEventTimes(events, 'events' in body, clock(), maxFutureSkewMs);
      await deps.queue.send(events);
      metrics.addMetric('EventsAccepted', MetricUnit.Count, events.length);
      return jsonResponse(202, { accepted: events.length, eventIds: events.map((e) => e.eventId) });
    } catch (error) {
      if (error instanceof HttpError) {
        metrics.addMetric('ClientErrors', MetricUnit.Count, 1);
        logger.info('rejected', { code: error.code, field: error.field });
      } else {
        metrics.addMetric('Errors', MetricUnit.Count, 1);
        logger.error('enqueue failed', error as Error);
        return jsonResponse(503, {
          error: { code: 'QUEUE_UNAVAILABLE', message: 'events could not be accepted; retry' },
        });
      }
      return errorResponse(error);
    }
  }
  return middy(eventsHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

export function eventsObservability(stage: string) {
  return {
    logger: new Logger({ serviceName: 'events', persistentKeys: { stage } }),
    metrics: new Metrics({ namespace: 'FraudScoring', serviceName: 'events', defaultDimensions: { stage } }),
  };
}
