/** Lambda entry for `POST /v1/events`. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsEventQueue } from '#adapters/sqs-event-queue';
import { loadEventsConfig } from './config';
import { createEventsFunction } from './index';

const config = loadEventsConfig();

export const handler = createEventsFunction(config, new SqsEventQueue(new SQSClient({}), config.queueUrl));
