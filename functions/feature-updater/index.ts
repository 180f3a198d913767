import { createDynamoClients, type DynamoClientOptions } from '#adapters/dynamo-client';
import { createScoringCaller, lazyCaller } from '#adapters/dynamo-http';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import { TransactionalFeatureWriter } from '#adapters/transactional-feature-writer';
import { MetricService } from '#shared/metrics-contract';
import { serviceObservability } from '#shared/observability';
import type { UpdaterConfig } from './config';
import { createUpdaterHandler } from './handler';

/** Builds the SQS-triggered feature updater. Off the scoring path: generous timeouts, three attempts. */
export function createUpdaterFunction(config: UpdaterConfig) {
  const clientOptions: DynamoClientOptions = {
    endpoint: config.dynamoEndpoint,
    requestTimeoutMs: config.requestTimeoutMs,
    connectionTimeoutMs: config.connectionTimeoutMs,
    maxAttempts: 3,
  };
  const options = { ttlSeconds: config.ttlSeconds, dedupeSeconds: config.dedupeSeconds };
  // In AWS each batch commits in one DynamoDB transaction: a marker per event plus the
  // aggregates. Servers without transactions get the marker protocol with the same guarantee;
  // that writer marshals its own items, so it takes the scoring store's signed HTTP caller
  // (`dynamo-http.ts`) instead of a document client.
  let writer: TransactionalFeatureWriter | MarkerFeatureWriter;
  let close: () => void;
  if (config.writer === 'transactional') {
    const { documents } = createDynamoClients(clientOptions);
    writer = new TransactionalFeatureWriter(documents, config.featureTableName, options);
    close = () => documents.destroy();
  } else {
    // Built on the first batch: this entry is CommonJS in Lambda, without top-level await.
    const caller = lazyCaller(() => createScoringCaller(clientOptions));
    writer = new MarkerFeatureWriter(caller, config.featureTableName, options);
    close = () => caller.destroy();
  }
  const handler = createUpdaterHandler({
    writer,
    ...serviceObservability(MetricService.FeatureUpdater, config.stage),
  });
  return { handler, close };
}
