/**
 * One way to build an alarm: named `<stage>-<resource>-<signal>-<severity>`, described with
 * its runbook section, evaluated with the severity's defaults unless the stage config
 * overrides them, and treating missing data as fine unless the alarm says otherwise (no
 * traffic is not an incident, except for the alarm that watches traffic).
 *
 * {@link buildAlarms} turns a table of {@link AlarmSpec}s into alarms of one severity, so the
 * page and ticket sets are data, not a loop written per alarm.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import {
  type AlarmEvaluation,
  type AlarmSettings,
  type AlarmThreshold,
  alarmSettings,
  type Severity,
} from '../config/stage-config';
import { alarmDescription, alarmName } from './naming';

export interface ServiceAlarmProps {
  /** Stage name, the first part of the alarm name. */
  readonly stage: string;
  /** What is watched, e.g. `score`, `api`, `events`. */
  readonly resource: string;
  /** Which signal, e.g. `canary-errors`, `latency-p99`. Together with resource: the runbook anchor. */
  readonly signal: string;
  /** Decides the topic: page (on-call, now) or ticket (this week). */
  readonly severity: Severity;
  /** One sentence: what is wrong when this alarm fires. */
  readonly summary: string;
  /** Metric or metric math; its period is replaced by the evaluation period. */
  readonly metric: cloudwatch.IMetric;
  /** Threshold (standard deviations for `anomaly-low`) and evaluation. */
  readonly settings: AlarmSettings;
  /**
   * `threshold`: compare with `settings.threshold`. `anomaly-low`: breach below the lower edge of
   * CloudWatch's anomaly-detection band of the metric, `settings.threshold` standard deviations wide.
   * @default 'threshold'
   */
  readonly kind?: 'threshold' | 'anomaly-low';
  /**
   * Breach direction (threshold alarms).
   * @default ComparisonOperator.GREATER_THAN_THRESHOLD
   */
  readonly comparison?: cloudwatch.ComparisonOperator;
  /**
   * Missing data handling.
   * @default TreatMissingData.NOT_BREACHING
   */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /**
   * A function version the alarm belongs to: the name becomes
   * `<stage>-<resource>-v<version>-<signal>-<severity>`, so every version gets a new alarm (and a
   * fresh state). The runbook anchor stays `<resource>-<signal>`.
   * @default - no version in the name
   */
  readonly version?: string;
}

/** An alarm built from {@link ServiceAlarmProps}, plus the severity it belongs to. */
export interface ServiceAlarm {
  /** The CloudWatch alarm. */
  readonly alarm: cloudwatch.Alarm;
  /** The topic it goes to. */
  readonly severity: Severity;
}

export function serviceAlarm(scope: Construct, id: string, props: ServiceAlarmProps): ServiceAlarm {
  const period = Duration.minutes(props.settings.periodMinutes);
  const metric = withPeriod(props.metric, period);
  const common = {
    alarmName: alarmName(props.stage, props.resource, props.signal, props.severity, props.version),
    alarmDescription: alarmDescription(props.summary, props.resource, props.signal),
    metric,
    evaluationPeriods: props.settings.evaluationPeriods,
    datapointsToAlarm: props.settings.datapointsToAlarm,
    treatMissingData: props.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
  };
  const alarm =
    props.kind === 'anomaly-low'
      ? new cloudwatch.AnomalyDetectionAlarm(scope, id, {
          ...common,
          stdDevs: props.settings.threshold,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
        })
      : new cloudwatch.Alarm(scope, id, {
          ...common,
          threshold: props.settings.threshold,
          comparisonOperator: props.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        });
  return { alarm, severity: props.severity };
}

/** One row of an alarm table: everything but the stage, the severity and the evaluation defaults. */
export interface AlarmSpec extends Omit<ServiceAlarmProps, 'stage' | 'severity' | 'settings'> {
  /** Construct id of the alarm. */
  readonly id: string;
  /** The stage config's threshold, possibly overriding the severity's evaluation defaults. */
  readonly threshold: AlarmThreshold;
}

/** The alarms of a table, all of one severity, with that severity's evaluation defaults. */
export function buildAlarms(
  scope: Construct,
  options: {
    readonly stage: string;
    readonly severity: Severity;
    readonly defaults: AlarmEvaluation;
  },
  specs: readonly AlarmSpec[],
): ServiceAlarm[] {
  return specs.map(({ id, threshold, ...spec }) =>
    serviceAlarm(scope, id, {
      ...spec,
      stage: options.stage,
      severity: options.severity,
      settings: alarmSettings(options, threshold),
    }),
  );
}

/** The metric (or every metric of a math expression) evaluated over `period`. */
export function withPeriod(metric: cloudwatch.IMetric, period: Duration): cloudwatch.IMetric {
  if (metric instanceof cloudwatch.Metric) return metric.with({ period });
  if (metric instanceof cloudwatch.MathExpression) {
    return new cloudwatch.MathExpression({
      expression: metric.expression,
      label: metric.label,
      period,
      usingMetrics: Object.fromEntries(
        Object.entries(metric.usingMetrics).map(([name, m]) => [name, withPeriod(m, period)]),
      ),
    });
  }
  return metric;
}
