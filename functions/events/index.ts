/**
 * The events function's wiring: the one place that builds its real dependencies. The Lambda
 * entry (`lambda.ts`) and the local stack start it through {@link createEventsFunction}.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { EventQueue } from '#domain/event-queue';
import { METRICS_NAMESPACE, MetricService } from '#shared/metrics-contract';
import type { EventsConfig } from './config';
import { createEventsHandler } from './handler';

/** Builds the events function over a queue (SQS in AWS, the local stack's queue locally). */
export function createEventsFunction(
  config: Pick<EventsConfig, 'stage' | 'maxFutureSkewMs'>,
  queue: EventQueue,
  clock?: () => number,
) {
  return createEventsHandler({
    queue,
    maxFutureSkewMs: config.maxFutureSkewMs,
    clock,
    logger: new Logger({ serviceName: MetricService.Events, persistentKeys: { stage: config.stage } }),
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: MetricService.Events,
      defaultDimensions: { stage: config.stage },
    }),
  });
}
