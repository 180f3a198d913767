import { eventRecordOf } from '#domain/archive';
import type { EventQueue } from '#domain/event-queue';
import type { TransactionEvent } from '#domain/types';
import { archiveHook, createArchive } from '#shared/archive-wiring';
import { MetricService } from '#shared/metrics-contract';
import { serviceObservability } from '#shared/observability';
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
  const { logger, metrics } = serviceObservability(MetricService.Events, config.stage);
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
