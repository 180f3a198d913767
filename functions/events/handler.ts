/**
 * `POST /v1/events`, HTTP glue only: validate authorization outcomes and labels (event time
 * included), enqueue them for the feature updater, answer 202. The aggregates change
 * asynchronously, and the event ids make a retried request safe. A queue failure is an
 * `EnqueueError`, answered 503 by the shared middleware.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { eventsSchemaFor } from '#domain/contract';
import type { EventQueue } from '#domain/event-queue';
import { checkEventTimes, DEFAULT_MAX_FUTURE_SKEW_MS } from '#domain/event-time';
import type { TransactionEvent } from '#domain/types';
import { apiHandler } from '#shared/api-middleware';
import { jsonResponse, parseBody } from '#shared/http';
import { EventsMetric } from '#shared/metrics-contract';

export interface EventsHandlerDeps {
  queue: EventQueue;
  logger: Logger;
  metrics: Metrics;
  /** Largest accepted lead of an event's time over the clock. @default 300000 (5 min) */
  maxFutureSkewMs?: number;
  clock?: () => number;
  /** Called with the accepted events once they are queued; must not wait or throw (the archive). */
  onAccepted?: (events: readonly TransactionEvent[], receivedAt: number) => void;
}

export function createEventsHandler(deps: EventsHandlerDeps) {
  const maxFutureSkewMs = deps.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  const clock = deps.clock ?? Date.now;
  async function eventsHandler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const body = parseBody(event, eventsSchemaFor);
    const events = ('events' in body ? body.events : [body]) as TransactionEvent[];
    const receivedAt = clock();
    checkEventTimes(events, 'events' in body, receivedAt, maxFutureSkewMs);
    await deps.queue.send(events);
    deps.metrics.addMetric(EventsMetric.EventsAccepted, MetricUnit.Count, events.length);
    deps.onAccepted?.(events, receivedAt);
    return jsonResponse(202, { accepted: events.length, eventIds: events.map((e) => e.eventId) });
  }
  return apiHandler('eventsHandler', eventsHandler, deps);
}
