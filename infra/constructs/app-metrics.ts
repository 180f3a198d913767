/**
 * The application's EMF metrics (Powertools, namespace `FraudScoring`).
 *
 * Dimension sets, exactly as the handlers publish them — CloudWatch only matches a metric
 * queried with the same full set:
 * - score: `{service: 'score', stage, functionVersion, modelVersion}` (handler.ts adds the last two
 *   with `addDimensions`, which Powertools publishes as one set together with the defaults);
 * - events and feature-updater: `{service, stage}`.
 *
 * Alarms need a fixed set, so score alarms name one function version (the one this deploy
 * publishes). Dashboards use SEARCH expressions that match every version, which is what
 * shows a canary next to the stable version.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE } from './service-function';

/** Metric names the score handler publishes. */
export type ScoreMetricName =
  | 'Requests'
  | 'Errors'
  | 'ClientErrors'
  | 'LatencyTotal'
  | 'LatencyFeatures'
  | 'LatencyInference'
  | 'Score'
  | 'DecisionApprove'
  | 'DecisionReview'
  | 'DecisionDecline'
  | 'FeatureHit'
  | 'FeatureMiss'
  | 'FeatureStale'
  | 'FeatureAge'
  | 'Degraded'
  | 'DegradedFeaturesUnavailable'
  | 'DegradedModelUnavailable'
  | 'PanRejected'
  | 'IdempotentReplay'
  | 'IdempotencyUnavailable';

/** The dimension names of the score handler's metrics, sorted as CloudWatch SEARCH schemas want them. */
export const SCORE_DIMENSIONS = ['functionVersion', 'modelVersion', 'service', 'stage'] as const;

/** One score metric of one function version and model version. */
export function scoreMetric(
  name: ScoreMetricName,
  options: {
    stage: string;
    functionVersion: string;
    modelVersion: string;
    statistic: string;
    label?: string;
  },
): cloudwatch.Metric {
  return appMetric(name, options, {
    service: 'score',
    stage: options.stage,
    functionVersion: options.functionVersion,
    modelVersion: options.modelVersion,
  });
}

/**
 * A SEARCH over every function and model version of a score metric, one line per version
 * (label `<functionVersion> <modelVersion>`).
 */
export function scoreSearch(
  name: ScoreMetricName,
  options: { stage: string; statistic: string; periodSeconds?: number; label?: string },
): cloudwatch.MathExpression {
  const period = options.periodSeconds ?? 60;
  return new cloudwatch.MathExpression({
    expression:
      `SEARCH('{${METRICS_NAMESPACE},${SCORE_DIMENSIONS.join(',')}} ` +
      `MetricName="${name}" service="score" stage="${options.stage}"', '${options.statistic}', ${period})`,
    label: options.label ?? '',
    period: Duration.seconds(period),
    usingMetrics: {},
  });
}

/** A metric of the events or feature-updater function (`{service, stage}`). */
export function serviceMetric(
  service: 'events' | 'feature-updater',
  name: string,
  options: { stage: string; statistic: string; label?: string },
): cloudwatch.Metric {
  return appMetric(name, options, { service, stage: options.stage });
}

/** A one-minute metric of the application's namespace with its full dimension set. */
function appMetric(
  name: string,
  options: { statistic: string; label?: string },
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
