/**
 * SQS → feature items. Each record is one event; records are applied one by one with the
 * idempotent single-item updates of `DynamoFeatureWriter`, and failed records are reported
 * back (partial batch response) so only they are redelivered. A record that is not a
 * valid event is reported as failed too and reaches the DLQ after the queue's retries.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DynamoFeatureWriter } from '#adapters/dynamo-feature-store';
import { eventSchema } from '#domain/contract';
import type { TransactionEvent } from '#domain/types';

export interface UpdaterDeps {
  writer: Pick<DynamoFeatureWriter, 'apply'>;
  logger: Logger;
  metrics: Metrics;
}

/** The record's body is not a valid event: retrying will not help. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

export function parseEventRecord(body: string): TransactionEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new InvalidEventError('record body is not JSON', { cause: error });
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidEventError(`invalid event at ${parsed.error.issues[0]?.path.join('.')}`, {
      cause: parsed.error,
    });
  }
  return parsed.data as TransactionEvent;
}

export function createUpdaterHandler(deps: UpdaterDeps) {
  const { logger, metrics, writer } = deps;

  async function recordHandler(record: SQSRecord): Promise<void> {
    let eventId: string | undefined;
    try {
      const event = parseEventRecord(record.body);
      eventId = event.eventId;
      const outcome = await writer.apply(event);
      if (outcome.card === 'duplicate' && outcome.merchant === 'duplicate') {
        metrics.addMetric('EventsDuplicate', MetricUnit.Count, 1);
      } else {
        metrics.addMetric('EventsApplied', MetricUnit.Count, 1);
      }
    } catch (error) {
      // Enough to find the message in the queue or the DLQ; never the body (card tokens, amounts).
      logger.warn('event failed', {
        messageId: record.messageId,
        eventId,
        receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0),
        name: (error as Error).name,
        error: (error as Error).message,
      });
      throw error;
    }
  }

  return async function featureUpdater(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    const processor = new BatchProcessor(EventType.SQS);
    try {
      // Report every failure as a partial response, even when the whole batch failed, so the
      // queue's redrive policy (not a Lambda error) decides what reaches the DLQ.
      const response = await processPartialResponse(event, recordHandler, processor, {
        context,
        throwOnFullBatchFailure: false,
      });
      const failed = response.batchItemFailures.length;
      if (failed > 0) {
        metrics.addMetric('EventsFailed', MetricUnit.Count, failed);
      }
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
