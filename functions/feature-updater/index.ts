/** Lambda entry for the SQS-triggered feature updater. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDynamoClients } from '#adapters/dynamo-client';
import { TransactionalFeatureWriter } from '#adapters/transactional-feature-writer';
import { loadUpdaterConfig } from './config';
import { createUpdaterHandler } from './handler';

const config = loadUpdaterConfig();
const { documents } = createDynamoClients({ requestTimeoutMs: 2000, maxAttempts: 3 });
// In AWS each batch commits in one DynamoDB transaction: a marker per event plus the aggregates.
const writer = new TransactionalFeatureWriter(documents, config.featureTableName, {
  ttlSeconds: config.ttlSeconds,
  dedupeSeconds: config.dedupeSeconds,
});

export const handler = createUpdaterHandler({
  writer,
  logger: new Logger({ serviceName: 'feature-updater', persistentKeys: { stage: config.stage } }),
  metrics: new Metrics({
    namespace: 'FraudScoring',
    serviceName: 'feature-updater',
    defaultDimensions: { stage: config.stage },
  }),
});
