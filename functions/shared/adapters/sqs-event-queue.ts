import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EnqueueError } from '#domain/errors';
import type { EventQueue } from '#domain/event-queue';
import type { TransactionEvent } from '#domain/types';

/** Sends events to SQS in batches of 10, one message per event. */
export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(events: readonly TransactionEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((event, j) => ({ Id: String(j), MessageBody: JSON.stringify(event) })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        throw new EnqueueError(`${result.Failed.length} of ${batch.length} events were not enqueued`);
      }
    }
  }
}
