/**
 * The drift monitor's wiring: the model card, the CloudWatch reader and observability, built
 * once per environment.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchHistogramSource } from '#adapters/cloudwatch-histogram-source';
import { parseModelCard } from '#domain/model-card';
import { METRICS_NAMESPACE, MetricService } from '#shared/metrics-contract';
import type { DriftConfig } from './config';
import { createDriftHandler } from './handler';

export function createDriftMonitor(config: DriftConfig) {
  const card = parseModelCard(JSON.parse(readFileSync(config.modelCardPath, 'utf8')));
  const logger = new Logger({
    serviceName: MetricService.DriftMonitor,
    persistentKeys: { stage: config.stage },
  });
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: MetricService.DriftMonitor,
    defaultDimensions: { stage: config.stage },
  });
  if (!card.monitoring)
    logger.warn('model card has no monitoring block: only the score histogram is watched');
  const source = new CloudWatchHistogramSource(new CloudWatchClient({ region: config.region }), config.stage);
  return createDriftHandler({ source, card, config, metrics, logger });
}
