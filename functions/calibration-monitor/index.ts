/**
 * The calibration monitor's wiring: the model card, the archive reader and observability,
 * built once per environment. With `ARCHIVE_BUCKET` (AWS) the reader streams the Firehose
 * objects from S3; without it, the local stack's directory layout (`npm run monitor:calibration`).
 */
import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { FileArchiveReader } from '#adapters/file-archive-reader';
import { S3ArchiveObjects, S3ArchiveReader } from '#adapters/s3-archive-reader';
import { parseModelCard } from '#domain/model-card';
import { MetricService } from '#shared/metrics-contract';
import { serviceObservability } from '#shared/observability';
import type { CalibrationConfig } from './config';
import { createCalibrationHandler } from './handler';

export function createCalibrationMonitor(config: CalibrationConfig) {
  const card = parseModelCard(JSON.parse(readFileSync(config.modelCardPath, 'utf8')));
  const { logger, metrics } = serviceObservability(MetricService.CalibrationMonitor, config.stage);
  const archive = config.archiveBucket
    ? new S3ArchiveReader(
        new S3ArchiveObjects(new S3Client({}), config.archiveBucket, config.archivePrefix),
        {
          log: (message, details) => logger.warn(message, details),
        },
      )
    : new FileArchiveReader(config.archiveDir);
  return createCalibrationHandler({ archive, card, config, metrics, logger });
}
