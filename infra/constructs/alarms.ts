/**
 * One way to build an alarm: named `<stage>-<resource>-<signal>-<severity>`, described with
 * its runbook section, evaluated with the severity's defaults unless the stage config
 * overrides them, and treating missing data as fine (no traffic is not an incident).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { AlarmEvaluation, Severity } from '../config/stage-config';
import { alarmDescription, alarmName } from './naming';

export interface ServiceAlarmProps {
  /** Stage name, the first part of the alarm name. */
  stage: string;
  /** What is watched, e.g. `score`, `api`, `events`. */
  resource: string;
  /** Which signal, e.g. `canary-errors`, `latency-p99`. Together with resource: the runbook anchor. */
  signal: string;
  /** Decides the topic: page (on-call, now) or ticket (this week). */
  severity: Severity;
  /** One sentence: what is wrong when this alarm fires. */
  summary: string;
  /** Metric or metric math; its period is replaced by the evaluation period. */
  metric: cloudwatch.IMetric;
  /** Threshold and evaluation. */
  settings: AlarmEvaluation & { threshold: number };
  /**
   * Breach direction.
   * @default ComparisonOperator.GREATER_THAN_THRESHOLD
   */
  comparison?: cloudwatch.ComparisonOperator;
  /**
   * Missing data handling.
   * @default TreatMissingData.NOT_BREACHING
   */
  treatMissingData?: cloudwatch.TreatMissingData;
}

/** An alarm built from {@link ServiceAlarmProps}, plus the severity it belongs to. */
export interface ServiceAlarm {
  alarm: cloudwatch.Alarm;
  severity: Severity;
}

export function serviceAlarm(scope: Construct, id: string, props: ServiceAlarmProps): ServiceAlarm {
  const period = Duration.minutes(props.settings.periodMinutes);
  const metric = withPeriod(props.metric, period);
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmName: alarmName(props.stage, props.resource, props.signal, props.severity),
    alarmDescription: alarmDescription(props.summary, props.resource, props.signal),
    metric,
    threshold: props.settings.threshold,
    evaluationPeriods: props.settings.evaluationPeriods,
    datapointsToAlarm: props.settings.datapointsToAlarm,
    comparisonOperator: props.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: props.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return { alarm, severity: props.severity };
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
