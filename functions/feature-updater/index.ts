/** Lambda entry for the SQS-triggered feature updater. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDynamoClients } from '#adapters/dynamo-client';
import { TransactionalFeatureWriter } from '#adapters/transactional-feature-writer';
import { readNumber, readString } from '#shared/config';
import { createUpdaterHandler } from './handler';

const stage = readString(process.env, 'STAGE', 'dev');
const { documents } = createDynamoClients({ requestTimeoutMs: 2000, maxAttempts: 3 });
// In AWS the updater commits each batch in one DynamoDB transaction (markers + aggregates).
const writer = new TransactionalFeatureWriter(documents, readString(process.env, 'FEATURE_TABLE_NAME'), {
  ttlSeconds: readNumber(process.env, 'FEATURE_TTL_SECONDS', 180 * 86_400, { min: 3600 }),
  // Longer than the queue's retention (4 days) plus its DLQ's (14 days): a redrive is still deduplicated.
  dedupeSeconds: readNumber(process.env, 'FEATURE_DEDUPE_SECONDS', 30 * 86_400, { min: 86_400 }),
});

export const handler = createUpdaterHandler({
  writer,
  logger: new Logger({ serviceName: 'feature-updater', persistentKeys: { stage } }),
  metrics: new Metrics({
    namespace: 'FraudScoring',
    serviceName: 'feature-updater',
    defaultDimensions: { stage },
  }),
});
