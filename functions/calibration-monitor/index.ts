/**
 * The calibration monitor's wiring: the model card, the archive reader and observability.
 * The reader is the local-layout one (`ARCHIVE_DIR`); the S3 reader of the deployed archive is
 * not written yet (see docs/monitoring.md).
 */
import { readFileSync } from 'node:fs';
import { FileArchiveReader } from '#adapters/file-archive-reader';
import { parseModelCard } from '#domain/model-card';
import { MetricService } from '#shared/metrics-contract';
import { serviceObservability } from '#shared/observability';
import type { CalibrationConfig } from './config';
import { createCalibrationHandler } from './handler';

export function createCalibrationMonitor(config: CalibrationConfig) {
  const card = parseModelCard(JSON.parse(readFileSync(config.modelCardPath, 'utf8')));
  const { logger, metrics } = serviceObservability(MetricService.CalibrationMonitor, config.stage);
  return createCalibrationHandler({
    archive: new FileArchiveReader(config.archiveDir),
    card,
    config,
    metrics,
    logger,
  });
}
