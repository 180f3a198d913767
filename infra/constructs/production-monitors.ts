/**
 * The production monitors of the slow tier (issue 12): the hourly drift monitor — PSI of the
 * live score and top-feature histograms against the model card — and, where the stage has the
 * event and answer archive, the daily calibration monitor over it (`calibration-monitor.ts`:
 * ECE and recall at decline on matured labels), with their ticket alarms; and the dashboard row
 * that shows drift, calibration, shadow agreement and the judge's verdict.
 */
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  ALL_METRIC_NAMES,
  CalibrationMetric,
  DriftMetric,
  METRICS_NAMESPACE,
  MetricService,
  type MonitorDimensions,
} from '../../functions/shared/metrics-contract';
import type { CalibrationStageConfig, LambdaArchitecture } from '../config/stage-config';
import { type ServiceAlarm, serviceAlarm } from './alarms';
import { type CalibrationArchive, CalibrationMonitor } from './calibration-monitor';
import type { ModelArtifacts } from './model-artifacts';
import { REPO_ROOT, ServiceFunction } from './service-function';

/** Where the drift monitor's bundle holds the card (its `MODEL_CARD_PATH`). */
const CARD_IN_BUNDLE = 'model/model.json';

export interface ProductionMonitorsProps {
  /** Stage name: alarm names, metric dimension. */
  readonly stage: string;
  /** Lambda architecture. */
  readonly architecture: LambdaArchitecture;
  /** Key of the log groups. */
  readonly logsKey: kms.IKey;
  /** Days to keep logs. */
  readonly logRetentionDays: number;
  /** The served model: its card is the baseline (score histogram, top-feature histograms). */
  readonly model: ModelArtifacts;
  /**
   * PSI above which a population counts as shifted.
   * @default 0.2
   */
  readonly psiThreshold?: number;
  /**
   * Consecutive hourly runs PSI must stay above the threshold before the ticket opens.
   * @default 3
   */
  readonly psiSustainHours?: number;
  /**
   * Minimum live values per hour for a PSI to be published.
   * @default 500
   */
  readonly minSamples?: number;
  /**
   * Handler entry override (tests).
   * @default functions/drift-monitor/lambda.ts
   */
  readonly entry?: string;
  /**
   * The calibration monitor: the archive it reads and the stage's settings.
   * @default - no calibration monitor (a stage without the archive has no labels to join)
   */
  readonly calibration?: {
    readonly archive: CalibrationArchive;
    readonly settings: CalibrationStageConfig;
    /** Handler entry override (tests). @default functions/calibration-monitor/lambda.ts */
    readonly entry?: string;
  };
}

export class ProductionMonitors extends Construct {
  readonly driftFunction: ServiceFunction;
  readonly schedule: events.Rule;
  /** The daily calibration monitor, where the stage has the archive. */
  readonly calibration?: CalibrationMonitor;
  /** Ticket alarms; the stack routes them to the ticket topic. */
  readonly alarms: readonly ServiceAlarm[];
  /** The dashboard row (add it to the service dashboard). */
  readonly widgets: readonly cloudwatch.IWidget[];

  constructor(scope: Construct, id: string, props: ProductionMonitorsProps) {
    super(scope, id);
    const { stage, model } = props;
    const threshold = props.psiThreshold ?? 0.2;
    const sustain = props.psiSustainHours ?? 3;

    this.driftFunction = new ServiceFunction(this, 'Drift', {
      service: MetricService.DriftMonitor,
      stage,
      entry: props.entry ?? join(REPO_ROOT, 'functions/drift-monitor/lambda.ts'),
      description: `Hourly PSI of live scores and top features against ${model.card.name}@${model.card.version}`,
      architecture: props.architecture,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      timeout: Duration.minutes(2),
      memoryMb: 256,
      environment: {
        MODEL_CARD_PATH: CARD_IN_BUNDLE,
        DRIFT_WINDOW_MINUTES: '60',
        DRIFT_MIN_SAMPLES: String(props.minSamples ?? 500),
      },
      bundleFiles: [{ from: model.cardPath, to: CARD_IN_BUNDLE }],
    });
    // Neither action supports resource-level permissions (IAM: "Resource": "*" only).
    this.driftFunction.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:ListMetrics', 'cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
    );
    this.schedule = new events.Rule(this, 'DriftSchedule', {
      description: `Runs the ${stage} drift monitor every hour`,
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.driftFunction.function, { retryAttempts: 2 })],
    });

    const dimensions: MonitorDimensions = {
      service: MetricService.DriftMonitor,
      stage,
      modelVersion: model.card.version,
    };
    const drift = (name: string, extra: Record<string, string> = {}, label?: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { ...dimensions, ...extra },
        statistic: 'Maximum',
        period: Duration.hours(1),
        label,
      });
    const settings = {
      threshold,
      periodMinutes: 60 as const,
      evaluationPeriods: sustain,
      datapointsToAlarm: sustain,
    };
    const scorePsi = drift(DriftMetric.DriftPsiScore, {}, 'score PSI');
    const topFeatures = model.card.monitoring?.topFeatures ?? [];
    const featurePsi = topFeatures.map((feature) => drift(DriftMetric.DriftPsiFeature, { feature }, feature));

    const alarms: ServiceAlarm[] = [
      serviceAlarm(this, 'ScorePsiAlarm', {
        stage,
        resource: 'drift',
        signal: 'score-psi',
        severity: 'ticket',
        summary: `The live score distribution of model ${model.card.version} has stayed shifted from its card (PSI > ${threshold}) for ${sustain} hours.`,
        metric: scorePsi,
        settings,
      }),
    ];
    if (featurePsi.length > 0) {
      alarms.push(
        serviceAlarm(this, 'FeaturePsiAlarm', {
          stage,
          resource: 'drift',
          signal: 'feature-psi',
          severity: 'ticket',
          summary: `A top input feature of model ${model.card.version} has stayed shifted from its training histogram (PSI > ${threshold}) for ${sustain} hours.`,
          metric: new cloudwatch.MathExpression({
            expression: `MAX([${featurePsi.map((_, i) => `f${i}`).join(',')}])`,
            label: 'max feature PSI',
            period: Duration.hours(1),
            usingMetrics: Object.fromEntries(featurePsi.map((metric, i) => [`f${i}`, metric])),
          }),
          settings,
        }),
      );
    }
    if (props.calibration) {
      this.calibration = new CalibrationMonitor(this, 'Calibration', {
        stage,
        architecture: props.architecture,
        logsKey: props.logsKey,
        logRetentionDays: props.logRetentionDays,
        model,
        archive: props.calibration.archive,
        settings: props.calibration.settings,
        entry: props.calibration.entry,
      });
      alarms.push(...this.calibration.alarms);
    }
    this.alarms = alarms;

    const calibration = (name: string, label: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { ...dimensions, service: MetricService.CalibrationMonitor },
        statistic: 'Maximum',
        period: Duration.days(1),
        label,
      });
    const eceLimit = props.calibration?.settings.eceThreshold ?? 0.02;
    const gapLimit = props.calibration?.settings.recallGapPoints ?? 5;
    const psiLine = { value: threshold, label: `shift (${threshold})`, color: '#d62728' };
    this.widgets = [
      new cloudwatch.TextWidget({
        markdown: `### Model health (${model.card.name}@${model.card.version})\nDrift (hourly PSI against the card), calibration (daily, matured labels), shadow agreement and the canary judge's verdict. Runbook: docs/runbook.md, docs/monitoring.md.`,
        width: 24,
        height: 2,
      }),
      new cloudwatch.GraphWidget({
        title: 'Drift: PSI against the card',
        left: [scorePsi, ...featurePsi],
        leftAnnotations: [psiLine],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Calibration (daily, matured labels)',
        left: [calibration(CalibrationMetric.CalibrationEce, 'ECE')],
        leftAnnotations: [{ value: eceLimit, label: `ECE limit (${eceLimit})`, color: '#d62728' }],
        right: [
          calibration(CalibrationMetric.RecallAtDecline, 'recall @ decline %'),
          calibration(CalibrationMetric.PrecisionAtDecline, 'precision @ decline %'),
          calibration(CalibrationMetric.RecallGapAtDecline, 'recall gap to the card (points)'),
        ],
        rightAnnotations: [
          { value: gapLimit, label: `recall gap limit (${gapLimit} points)`, color: '#ff7f0e' },
        ],
        period: Duration.days(1),
        width: 8,
      }),
      searchWidget(stage, 'ShadowAgreement', 'Shadow agreement', 'Average'),
      searchWidget(stage, 'JudgeVerdict', 'Canary judge verdict', 'Maximum'),
    ];
  }
}

/**
 * A graph of a metric another part of the system publishes (shadow scoring, the judge), by
 * name over every dimension set of the stage; a note instead while the metrics contract does
 * not name it yet, so the dashboard never queries a metric nobody publishes.
 */
function searchWidget(
  stage: string,
  metricName: string,
  title: string,
  statistic: string,
): cloudwatch.IWidget {
  if (!ALL_METRIC_NAMES.has(metricName))
    return new cloudwatch.TextWidget({
      markdown: `**${title}**: \`${metricName}\` is not published yet.`,
      width: 4,
      height: 6,
    });
  return new cloudwatch.GraphWidget({
    title,
    left: [
      new cloudwatch.MathExpression({
        expression: `SEARCH('Namespace="${METRICS_NAMESPACE}" MetricName="${metricName}" stage="${stage}"', '${statistic}', 300)`,
        label: '',
        period: Duration.minutes(5),
        usingMetrics: {},
      }),
    ],
    width: 4,
  });
}
