/**
 * The daily calibration and recall monitor (issue 12) as deployed: a function that reads the
 * archive bucket (answers of a matured window, the label events posted since), run once a day,
 * with ticket alarms on the overall ECE and on recall at the decline threshold against the card,
 * and one on the function failing — silence from a broken monitor must not read as health.
 *
 * Its role reads what the join needs and nothing else: `s3:ListBucket` only under the answers'
 * and the labels' prefixes (`score/dt=*`, `event/type=label/dt=*`), `s3:GetObject` only on their
 * objects (never the authorizations, never `errors/`), `kms:Decrypt` on the archive key only
 * through S3. Metrics leave as EMF in the function's log, so it needs no
 * `cloudwatch:PutMetricData`.
 */
import { join } from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { archivePrefix } from '../../functions/shared/domain/archive';
import {
  CalibrationMetric,
  type CalibrationMetricName,
  METRICS_NAMESPACE,
  MetricService,
  type MonitorDimensions,
} from '../../functions/shared/metrics-contract';
import type { CalibrationStageConfig, LambdaArchitecture } from '../config/stage-config';
import { type ServiceAlarm, serviceAlarm } from './alarms';
import type { ModelArtifacts } from './model-artifacts';
import { REPO_ROOT, ServiceFunction } from './service-function';

/** Where the monitor's bundle holds the card (its `MODEL_CARD_PATH`). */
const CARD_IN_BUNDLE = 'model/model.json';

/** The archive the monitor reads (`EventArchive` of the data stack). */
export interface CalibrationArchive {
  /** The archive bucket. */
  readonly bucket: s3.IBucket;
  /** The key the bucket's objects are encrypted with. */
  readonly key: kms.IKey;
}

export interface CalibrationMonitorProps {
  /** Stage name: alarm names, metric dimension. */
  readonly stage: string;
  /** Lambda architecture. */
  readonly architecture: LambdaArchitecture;
  /** Key of the log group. */
  readonly logsKey: kms.IKey;
  /** Days to keep logs. */
  readonly logRetentionDays: number;
  /** The served model: its card holds the thresholds and the recall the live figures face. */
  readonly model: ModelArtifacts;
  /** Where the answers and labels are. */
  readonly archive: CalibrationArchive;
  /** The stage's `calibration` settings. */
  readonly settings: CalibrationStageConfig;
  /**
   * Handler entry override (tests).
   * @default functions/calibration-monitor/lambda.ts
   */
  readonly entry?: string;
}

export class CalibrationMonitor extends Construct {
  readonly monitorFunction: ServiceFunction;
  readonly schedule: events.Rule;
  /** Ticket alarms: ECE, recall gap at decline, failed runs. */
  readonly alarms: readonly ServiceAlarm[];
  /** The overall daily figures, for the dashboard (Maximum per day). */
  readonly metrics: Readonly<
    Record<'ece' | 'recallAtDecline' | 'precisionAtDecline' | 'recallGap' | 'labelled', cloudwatch.Metric>
  >;

  constructor(scope: Construct, id: string, props: CalibrationMonitorProps) {
    super(scope, id);
    const { stage, model, settings, archive } = props;

    this.monitorFunction = new ServiceFunction(this, 'Function', {
      service: MetricService.CalibrationMonitor,
      stage,
      entry: props.entry ?? join(REPO_ROOT, 'functions/calibration-monitor/lambda.ts'),
      description: `Daily ECE, recall and precision of ${model.card.name}@${model.card.version} on matured labels from the archive`,
      architecture: props.architecture,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      // A run reads every label partition since the window began (weeks of them) and a few days
      // of answers: minutes at prod's traffic (docs/monitoring.md#sizing), Lambda's limit as margin.
      timeout: Duration.minutes(15),
      memoryMb: settings.memoryMb,
      environment: {
        MODEL_CARD_PATH: CARD_IN_BUNDLE,
        ARCHIVE_BUCKET: archive.bucket.bucketName,
        CALIBRATION_MATURITY_DAYS: String(settings.maturityDays),
        CALIBRATION_SPAN_DAYS: String(settings.spanDays),
        CALIBRATION_ECE_BINS: String(settings.eceBins),
        CALIBRATION_MIN_SEGMENT_ANSWERS: String(settings.minAnswersPerSegment),
      },
      bundleFiles: [{ from: model.cardPath, to: CARD_IN_BUNDLE }],
    });
    const fn = this.monitorFunction.function;
    this.grantArchiveRead(fn, stage, archive);

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Runs the ${stage} calibration monitor once a day`,
      schedule: events.Schedule.cron({ minute: '0', hour: String(settings.runAtHourUtc) }),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
    });

    const dimensions: MonitorDimensions = {
      service: MetricService.CalibrationMonitor,
      stage,
      modelVersion: model.card.version,
    };
    const daily = (name: CalibrationMetricName, label: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { ...dimensions },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.days(1),
        label,
      });
    this.metrics = {
      ece: daily(CalibrationMetric.CalibrationEce, 'ECE'),
      recallAtDecline: daily(CalibrationMetric.RecallAtDecline, 'recall @ decline %'),
      precisionAtDecline: daily(CalibrationMetric.PrecisionAtDecline, 'precision @ decline %'),
      recallGap: daily(CalibrationMetric.RecallGapAtDecline, 'recall gap to the card (points)'),
      labelled: daily(CalibrationMetric.LabelledAnswers, 'labelled answers'),
    };

    // One datapoint a day: any breach among the last 24 hourly periods raises the ticket, and
    // the hours between runs (no data) keep the state, so the alarm reads as the last run's verdict.
    const lastRun = { periodMinutes: 60 as const, evaluationPeriods: 24, datapointsToAlarm: 1 };
    const card = `${model.card.name}@${model.card.version}`;
    this.alarms = [
      serviceAlarm(this, 'EceAlarm', {
        stage,
        resource: 'calibration',
        signal: 'ece',
        severity: 'ticket',
        summary: `The live scores of ${card} no longer match observed fraud rates: ECE on matured labels above ${settings.eceThreshold}.`,
        metric: daily(CalibrationMetric.CalibrationEce, 'ECE'),
        settings: { threshold: settings.eceThreshold, ...lastRun },
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      serviceAlarm(this, 'RecallGapAlarm', {
        stage,
        resource: 'calibration',
        signal: 'recall-gap',
        severity: 'ticket',
        summary: `Live recall at the decline threshold of ${card} is more than ${settings.recallGapPoints} points below its card (${(model.card.thresholds.decline.recall * 100).toFixed(1)} %).`,
        metric: daily(CalibrationMetric.RecallGapAtDecline, 'recall gap'),
        settings: { threshold: settings.recallGapPoints, ...lastRun },
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      serviceAlarm(this, 'FailedRunAlarm', {
        stage,
        resource: 'calibration',
        signal: 'failed-run',
        severity: 'ticket',
        summary:
          'The calibration monitor failed (archive unreadable, timeout or out of memory): its figures and alarms are stale.',
        metric: fn.metricErrors({ statistic: cloudwatch.Stats.SUM }),
        settings: { threshold: 0, periodMinutes: 60, evaluationPeriods: 1, datapointsToAlarm: 1 },
      }),
    ];
  }

  /**
   * List and read the answer and label partitions, decrypt their objects through S3. The
   * prefixes come from `archivePrefix`, the layout Firehose writes.
   */
  private grantArchiveRead(fn: iam.IGrantable, stage: string, archive: CalibrationArchive): void {
    // `score/dt=*`, `event/type=label/dt=*`
    const partitions = [archivePrefix('score', '*'), archivePrefix('event', '*', 'label')].map((prefix) =>
      prefix.slice(0, -1),
    );
    // The bucket lives in the data stack. Its ARN is imported under a name of ours (not CDK's
    // hashed one) so that the acknowledgement below can name the exact resources it covers.
    const exportName = `FraudScoring-${stage}-CalibrationArchiveBucketArn`;
    const bucketArn =
      Stack.of(archive.bucket) === Stack.of(this)
        ? archive.bucket.bucketArn
        : Stack.of(archive.bucket).exportValue(archive.bucket.bucketArn, { name: exportName });
    fn.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucketArn],
        conditions: { StringLike: { 's3:prefix': partitions } },
      }),
    );
    fn.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: partitions.map((prefix) => `${bucketArn}/${prefix}`),
      }),
    );
    fn.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [archive.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    // In one stack cdk-nag names the bucket by its logical id instead; the stages keep it apart.
    if (bucketArn === archive.bucket.bucketArn) return;
    for (const prefix of partitions)
      Validations.of(this.monitorFunction).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${exportName}/${prefix}]`,
        reason:
          'GetObject on the archive bucket’s `score/dt=*` and `event/type=label/dt=*` objects: Firehose names the objects per date partition and time, so a run can only name the partitions, not the keys; nothing else of the bucket (not the authorization events, not `errors/`) is readable.',
      });
  }
}
