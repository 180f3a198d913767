/**
 * The feature updater's wiring: the one place that builds its real dependencies. The Lambda
 * entry (`lambda.ts`) and the local stack start it through {@link createUpdaterFunction}.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDynamoClients } from '#adapters/dynamo-client';
import { DynamoFeatureWriter } from '#adapters/dynamo-feature-store';
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
  const handler = createUpdaterHandler({
    writer: new DynamoFeatureWriter(documents, config.featureTableName, {
      ttlSeconds: config.featureTtlSeconds,
    }),
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
