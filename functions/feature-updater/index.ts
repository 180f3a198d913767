/**
 * The feature updater's wiring: the one place that builds its real dependencies. The Lambda
 * entry (`lambda.ts`) and the local stack start it through {@link createUpdaterFunction}.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDynamoClients } from '#adapters/dynamo-client';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import { TransactionalFeatureWriter } from '#adapters/transactional-feature-writer';
import { METRICS_NAMESPACE, MetricService } from '#shared/metrics-contract';
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
    logger: new Logger({
      serviceName: MetricService.FeatureUpdater,
      persistentKeys: { stage: config.stage },
    }),
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: MetricService.FeatureUpdater,
      defaultDimensions: { stage: config.stage },
    }),
  });
  return { handler, close: () => documents.destroy() };
}
