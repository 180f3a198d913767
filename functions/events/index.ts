/**
 * The events function's wiring: the one place that builds its real dependencies. The Lambda
 * entry (`lambda.ts`) and the local stack start it through {@link createEventsFunction}.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { eventRecordOf } from '#domain/archive';
import type { EventQueue } from '#domain/event-queue';
import type { TransactionEvent } from '#domain/types';
import { archiveHook, createArchive } from '#shared/archive-wiring';
import { METRICS_NAMESPACE, MetricService } from '#shared/metrics-contract';
import type { EventsConfig } from './config';
import { createEventsHandler } from './handler';

/**
 * Builds the events function over a queue (SQS in AWS, the local stack's queue locally). With
 * `config.archive`, every accepted event is also archived as an `EventRecord`.
 */
export function createEventsFunction(
  config: Pick<EventsConfig, 'stage' | 'maxFutureSkewMs' | 'archive'>,
  queue: EventQueue,
  clock?: () => number,
) {
  const logger = new Logger({ serviceName: MetricService.Events, persistentKeys: { stage: config.stage } });
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: MetricService.Events,
    defaultDimensions: { stage: config.stage },
  });
  const archive = createArchive(config.archive, logger);
  return createEventsHandler({
    queue,
    maxFutureSkewMs: config.maxFutureSkewMs,
    clock,
    logger,
    metrics,
    onAccepted:
      archive &&
      archiveHook(archive, metrics, logger, (events: readonly TransactionEvent[], receivedAt: number) =>
        events.map((event) => eventRecordOf(event, receivedAt)),
      ),
  });
}
