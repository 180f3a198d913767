/** Lambda entry for `POST /v1/events`. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsEventQueue } from '#adapters/sqs-event-queue';
import { loadEventsConfig } from './config';
import { createEventsHandler, eventsObservability } from './handler';

const config = loadEventsConfig();
const queue = new SqsEventQueue(new SQSClient({}), config.queueUrl);

export const handler = createEventsHandler({
  queue,
  maxFutureSkewMs: config.maxFutureSkewMs,
  ...eventsObservability(config.stage),
});
