/** Lambda entry for `POST /v1/events`. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsEventQueue } from '#adapters/sqs-event-queue';
import { readString } from '#shared/config';
import { createEventsHandler, eventsObservability } from './handler';

const queue = new SqsEventQueue(new SQSClient({}), readString(process.env, 'EVENTS_QUEUE_URL'));

export const handler = createEventsHandler({
  queue,
  ...eventsObservability(readString(process.env, 'STAGE', 'dev')),
});
