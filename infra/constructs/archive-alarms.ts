/**
 * The archive's ticket alarms: records the functions dropped, and deliveries Firehose failed
 * to write to S3.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type { Construct } from 'constructs';
import type { ArchiveKind } from '../../functions/shared/domain/archive';
import { ArchiveMetric, MetricService } from '../../functions/shared/metrics-contract';
import type { AlarmEvaluation, AlarmThreshold } from '../config/stage-config';
import { type AlarmSpec, buildAlarms, type ServiceAlarm } from './alarms';
import { scoreMetric, serviceMetric } from './app-metrics';

/** Ticket thresholds of the archive (stage config `archive.alarms`). */
export interface ArchiveAlarmSettings {
  /** Records a function dropped (buffer full or delivery failed), count per period. */
  readonly droppedRecords: AlarmThreshold;
  /** Share of records Firehose failed to deliver to S3, percent (1 − DeliveryToS3.Success). */
  readonly deliveryFailurePercent: AlarmThreshold;
}

/** The archive's ticket alarms: records dropped by the functions, deliveries failing in Firehose. */
export function archiveAlarms(
  scope: Construct,
  options: {
    readonly stage: string;
    readonly defaults: AlarmEvaluation;
    readonly thresholds: ArchiveAlarmSettings;
    readonly streams: Record<ArchiveKind, firehose.CfnDeliveryStream>;
    readonly functionVersion: string;
    readonly modelVersion: string;
  },
): ServiceAlarm[] {
  const { stage } = options;
  const firehoseMetric = (kind: ArchiveKind, metricName: string, statistic: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/Firehose',
      metricName,
      statistic,
      dimensionsMap: { DeliveryStreamName: options.streams[kind].ref },
    });
  const specs: AlarmSpec[] = [
    {
      id: 'ArchiveDroppedAlarm',
      resource: 'archive',
      signal: 'dropped-records',
      summary:
        'The score or events function dropped archive records (buffer full, or Firehose refused them twice).',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(score, 0) + FILL(events, 0)',
        label: 'archive records dropped',
        usingMetrics: {
          score: scoreMetric(ArchiveMetric.ArchiveDropped, {
            stage,
            functionVersion: options.functionVersion,
            modelVersion: options.modelVersion,
            statistic: 'Sum',
          }),
          events: serviceMetric(MetricService.Events, ArchiveMetric.ArchiveDropped, {
            stage,
            statistic: 'Sum',
          }),
        },
      }),
      threshold: options.thresholds.droppedRecords,
    },
    {
      id: 'ArchiveDeliveryAlarm',
      resource: 'archive',
      signal: 'delivery-failures',
      summary:
        'Firehose fails to write archive records to S3 (bucket policy, KMS key or partitioning errors).',
      metric: new cloudwatch.MathExpression({
        // DeliveryToS3.Success is the delivered share (0–1); a period without deliveries is fine.
        expression: '100 * (1 - MIN([FILL(score, 1), FILL(event, 1)]))',
        label: 'archive delivery failures (%)',
        usingMetrics: {
          score: firehoseMetric('score', 'DeliveryToS3.Success', 'Average'),
          event: firehoseMetric('event', 'DeliveryToS3.Success', 'Average'),
        },
      }),
      threshold: options.thresholds.deliveryFailurePercent,
    },
  ];
  return buildAlarms(scope, { stage, severity: 'ticket', defaults: options.defaults }, specs);
}
