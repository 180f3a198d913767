/**
 * The drift monitor's wiring: the model card, the CloudWatch reader and observability, built
 * once per environment.
 */
import { readFileSync } from 'node:fs';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchHistogramSource } from '#adapters/cloudwatch-histogram-source';
import { parseModelCard } from '#domain/model-card';
import { MetricService } from '#shared/metrics-contract';
import { serviceObservability } from '#shared/observability';
import type { DriftConfig } from './config';
import { createDriftHandler } from './handler';

export function createDriftMonitor(config: DriftConfig) {
  const card = parseModelCard(JSON.parse(readFileSync(config.modelCardPath, 'utf8')));
  const { logger, metrics } = serviceObservability(MetricService.DriftMonitor, config.stage);
  if (!card.monitoring)
    logger.warn('model card has no monitoring block: only the score histogram is watched');
  const source = new CloudWatchHistogramSource(new CloudWatchClient({ region: config.region }), config.stage);
  return createDriftHandler({ source, card, config, metrics, logger });
}
