/**
 * The events path's back half in its own process: the real feature updater, called with SQS
 * batches by the queue process (`queue-process.ts`, `POST /deliver` with an `SQSEvent`,
 * answered with the `SQSBatchResponse`), as the SQS event source calls the Lambda function.
 * Event load never runs on a thread that answers score requests, and this process may be
 * niced without slowing the acceptance of events.
 */
import type { SQSEvent } from 'aws-lambda';
import type { AuthorizationEvent } from '#domain/types';
import { loadUpdaterConfig } from '../../functions/feature-updater/config';
import { createUpdaterFunction } from '../../functions/feature-updater/index';
import { lambdaContext } from './api-gateway';
import { applyPrimingEvents } from './prime-updater';
import { childConfig, readJsonBody, serveJson } from './processes';

interface UpdaterProcessConfig {
  stage: string;
  featureTable: string;
  dynamoEndpoint: string;
}

const config = childConfig<UpdaterProcessConfig>();
const updater = createUpdaterFunction(
  loadUpdaterConfig({
    STAGE: config.stage,
    FEATURE_TABLE_NAME: config.featureTable,
    DYNAMODB_ENDPOINT: config.dynamoEndpoint,
    // dynalite has no TransactWriteItems: the marker protocol gives the same exactly-once guarantee.
    FEATURE_WRITER: 'marker',
    // Its requests wait their turn in dynalite's background lane (two at a time), and a batch
    // issues its item writes together: the AWS budgets (2 s per request, 200 ms to connect)
    // failed whole batches of 100 events on a busy machine, again and again on redelivery
    // (docs/performance.md, "Event batches"). Events may lag locally; they must not fail.
    DYNAMODB_REQUEST_TIMEOUT_MS: '15000',
    DYNAMODB_CONNECTION_TIMEOUT_MS: '5000',
  }),
);

serveJson(
  async (req) => {
    // Before the stack serves: priming events on cards of their own (`prime-updater.ts`).
    if (req.method === 'POST' && req.url === '/prime') {
      const { events } = (await readJsonBody(req)) as { events: AuthorizationEvent[] };
      return [200, { failed: await applyPrimingEvents(updater, events) }];
    }
    if (req.method === 'POST' && req.url === '/deliver') {
      const batch = (await readJsonBody(req)) as SQSEvent;
      // A thrown handler answers 500: the queue fails the whole batch, as SQS does with a Lambda error.
      return [200, await updater.handler(batch, lambdaContext('feature-updater', 30_000))];
    }
    return undefined;
  },
  () => updater.close(),
);
