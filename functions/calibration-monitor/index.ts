/**
 * The calibration monitor's wiring: the model card, the archive reader and observability.
 * The reader is the local-layout one (`ARCHIVE_DIR`); the S3 reader of the deployed archive is
 * not written yet (see docs/monitoring.md).
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { FileArchiveReader } from '#adapters/file-archive-reader';
import { parseModelCard } from '#domain/model-card';
import { METRICS_NAMESPACE, MetricService } from '#shared/metrics-contract';
import type { CalibrationConfig } from './config';
import { createCalibrationHandler } from './handler';

export function createCalibrationMonitor(config: CalibrationConfig) {
  const card = parseModelCard(JSON.parse(readFileSync(config.modelCardPath, 'utf8')));
  const logger = new Logger({
    serviceName: MetricService.CalibrationMonitor,
    persistentKeys: { stage: config.stage },
  });
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: MetricService.CalibrationMonitor,
    defaultDimensions: { stage: config.stage },
  });
  return createCalibrationHandler({
    archive: new FileArchiveReader(config.archiveDir),
    card,
    config,
    metrics,
    logger,
  });
}
