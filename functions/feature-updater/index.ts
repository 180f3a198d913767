import { createDynamoClients } from '#adapters/dynamo-client';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import { TransactionalFeatureWriter } from '#adapters/transactional-feature-writer';
import { MetricService } from '#shared/metrics-contract';
import { serviceObservability } from '#shared/observability';
import type { UpdaterConfig } from './config';
import { createUpdaterHandler } from './handler';

/** Builds the SQS-triggered feature updater. Off the scoring path: generous timeouts, three attempts. */
export function createUpdaterFunction(config: UpdaterConfig) {
  const { documents } = createDynamoClients({
    endpoint: config.dynamoEndpoint,
    requestTimeoutMs: 2000,
    maxAttempts: 3,
  });
  const options = { ttlSeconds: config.ttlSeconds, dedupeSeconds: config.dedupeSeconds };
  // In AWS each batch commits in one DynamoDB transaction: a marker per event plus the
  // aggregates. Servers without transactions get the marker protocol with the same guarantee.
  const writer =
    config.writer === 'transactional'
      ? new TransactionalFeatureWriter(documents, config.featureTableName, options)
      : new MarkerFeatureWriter(documents, config.featureTableName, options);
  const handler = createUpdaterHandler({
    writer,
    ...serviceObservability(MetricService.FeatureUpdater, config.stage),
  });
  return { handler, close: () => documents.destroy() };
}
