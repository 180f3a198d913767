/**
 * CDK metrics for the application's EMF metrics. Names, namespace and dimension sets come from
 * the metrics contract (`functions/shared/metrics-contract.ts`), which the handlers publish with.
 *
 * CloudWatch only matches a metric queried with its full dimension set:
 * - score: `{service: 'score', stage, functionVersion, modelVersion}`;
 * - events and feature-updater: `{service, stage}`.
 *
 * Alarms need a fixed set, so score alarms name one function version (the one this deploy
 * publishes). Dashboards use SEARCH expressions that match every version, which is what
 * shows a canary next to the stable version.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  METRICS_NAMESPACE,
  MetricService,
  type MetricServiceName,
  SCORE_DIMENSION_NAMES,
  type ScoreDimensions,
  type ScoreMetricName,
  type ServiceMetricNames,
} from '../../functions/shared/metrics-contract';

/** How a metric is read. */
export interface MetricReadOptions {
  /** CloudWatch statistic, e.g. `Sum`, `Average`, `p99`. */
  readonly statistic: string;
  /**
   * Legend label.
   * @default - CloudWatch's default label
   */
  readonly label?: string;
}

/** One score metric of one function version and model version. */
export function scoreMetric(
  name: ScoreMetricName,
  options: MetricReadOptions & Omit<ScoreDimensions, 'service'>,
): cloudwatch.Metric {
  const dimensions: ScoreDimensions = {
    service: MetricService.Score,
    stage: options.stage,
    functionVersion: options.functionVersion,
    modelVersion: options.modelVersion,
  };
  return appMetric(name, options, { ...dimensions });
}

/**
 * A SEARCH over every function and model version of a score metric, one line per version
 * (label `<functionVersion> <modelVersion>`).
 */
export function scoreSearch(
  name: ScoreMetricName,
  options: MetricReadOptions & { readonly stage: string; readonly periodSeconds?: number },
): cloudwatch.MathExpression {
  const period = options.periodSeconds ?? 60;
  return new cloudwatch.MathExpression({
    expression:
      `SEARCH('{${METRICS_NAMESPACE},${SCORE_DIMENSION_NAMES.join(',')}} ` +
      `MetricName="${name}" service="${MetricService.Score}" stage="${options.stage}"', '${options.statistic}', ${period})`,
    label: options.label ?? '',
    period: Duration.seconds(period),
    usingMetrics: {},
  });
}

/** A metric of the events or feature-updater function (`{service, stage}`). */
export function serviceMetric<S extends Exclude<MetricServiceName, 'score'>>(
  service: S,
  name: ServiceMetricNames[S],
  options: MetricReadOptions & { readonly stage: string },
): cloudwatch.Metric {
  return appMetric(name, options, { service, stage: options.stage });
}

/** A one-minute metric of the application's namespace with its full dimension set. */
function appMetric(
  name: string,
  options: MetricReadOptions,
  dimensionsMap: Record<string, string>,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    statistic: options.statistic,
    period: Duration.minutes(1),
    label: options.label,
    dimensionsMap,
  });
}
