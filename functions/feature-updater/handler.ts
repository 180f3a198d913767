/**
 * SQS → feature items. Each record is one event; the valid events of a batch are handed to
 * the feature writer together (one write per touched item, each event id applied once), and
 * failed records are reported back (partial batch response) so only they are redelivered. A
 * record that is not a valid event is reported as failed too and reaches the DLQ after the
 * queue's retries.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BatchItemResult, FeatureWriter } from '#adapters/feature-writer';
import { eventSchema } from '#domain/contract';
import { InvalidEventError } from '#domain/errors';
import type { TransactionEvent } from '#domain/types';

export interface UpdaterDeps {
  writer: Pick<FeatureWriter, 'applyBatch'>;
  logger: Logger;
  metrics: Metrics;
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

  function reportFailure(record: SQSRecord, error: Error, eventId?: string): void {
    // Enough to find the message in the queue or the DLQ; never the body (card tokens, amounts).
    logger.warn('event failed', {
      messageId: record.messageId,
      eventId,
      receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0),
      name: error.name,
      error: error.message,
    });
  }

  return async function featureUpdater(event: SQSEvent, _context: Context): Promise<SQSBatchResponse> {
    try {
      const failures: SQSBatchItemFailure[] = [];
      const parsed: { record: SQSRecord; event: TransactionEvent }[] = [];
      for (const record of event.Records) {
        try {
          parsed.push({ record, event: parseEventRecord(record.body) });
        } catch (error) {
          reportFailure(record, error as Error);
          failures.push({ itemIdentifier: record.messageId });
        }
      }
      // The whole batch goes to the writer at once, so events on the same card or merchant
      // are folded into one write per item instead of racing each other.
      let results: BatchItemResult[];
      try {
        results = await writer.applyBatch(parsed.map((p) => p.event));
      } catch (error) {
        results = parsed.map(() => ({ ok: false, error: error as Error }));
      }
      let applied = 0;
      let duplicates = 0;
      parsed.forEach(({ record, event: transactionEvent }, i) => {
        const result = results[i] ?? { ok: false, error: new Error('no result from the writer') };
        if (!result.ok) {
          reportFailure(record, result.error, transactionEvent.eventId);
          failures.push({ itemIdentifier: record.messageId });
        } else if (result.outcome.card === 'applied' || result.outcome.merchant === 'applied') {
          applied += 1;
        } else {
          duplicates += 1;
        }
      });
      // Every failure is reported as a partial response, even when the whole batch failed,
      // so the queue's redrive policy (not a Lambda error) decides what reaches the DLQ.
      if (applied > 0) metrics.addMetric('EventsApplied', MetricUnit.Count, applied);
      if (duplicates > 0) metrics.addMetric('EventsDuplicate', MetricUnit.Count, duplicates);
      if (failures.length > 0) metrics.addMetric('EventsFailed', MetricUnit.Count, failures.length);
      const order = new Map(event.Records.map((r, i) => [r.messageId, i]));
      failures.sort((a, b) => (order.get(a.itemIdentifier) ?? 0) - (order.get(b.itemIdentifier) ?? 0));
      return { batchItemFailures: failures };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
