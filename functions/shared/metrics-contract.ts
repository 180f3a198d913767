/**
 * The metrics contract: namespace, metric names and dimension sets of the application's EMF
 * metrics. The handlers publish through these names and `infra/` builds alarms and dashboards
 * from the same ones, so a renamed metric fails the type check instead of silencing a page.
 * Plain data: no AWS SDK or CDK imports, so Lambda bundles can import it.
 */

export const METRICS_NAMESPACE = 'FraudScoring';

/** Metrics every API handler publishes through the shared error middleware. */
export const ApiMetric = Object.freeze({
  Errors: 'Errors',
  ClientErrors: 'ClientErrors',
  PanRejected: 'PanRejected',
} as const);

/** Metrics of the score function, published per `{service, stage, functionVersion, modelVersion}`. */
export const ScoreMetric = Object.freeze({
  ...ApiMetric,
  Requests: 'Requests',
  LatencyTotal: 'LatencyTotal',
  LatencyFeatures: 'LatencyFeatures',
  LatencyInference: 'LatencyInference',
  LatencyIdempotency: 'LatencyIdempotency',
  Score: 'Score',
  DecisionApprove: 'DecisionApprove',
  DecisionReview: 'DecisionReview',
  DecisionDecline: 'DecisionDecline',
  FeatureHit: 'FeatureHit',
  FeatureMiss: 'FeatureMiss',
  FeatureStale: 'FeatureStale',
  FeatureAge: 'FeatureAge',
  Degraded: 'Degraded',
  DegradedFeaturesUnavailable: 'DegradedFeaturesUnavailable',
  DegradedModelUnavailable: 'DegradedModelUnavailable',
  DegradedNeuralUnavailable: 'DegradedNeuralUnavailable',
  IdempotentReplay: 'IdempotentReplay',
  IdempotencyUnavailable: 'IdempotencyUnavailable',
} as const);
export type ScoreMetricName = (typeof ScoreMetric)[keyof typeof ScoreMetric];

/** Metrics of the events function, published per `{service, stage}`. */
export const EventsMetric = Object.freeze({
  ...ApiMetric,
  EventsAccepted: 'EventsAccepted',
} as const);
export type EventsMetricName = (typeof EventsMetric)[keyof typeof EventsMetric];

/** Metrics of the feature updater, published per `{service, stage}`. */
export const UpdaterMetric = Object.freeze({
  EventsApplied: 'EventsApplied',
  EventsDuplicate: 'EventsDuplicate',
  EventsFailed: 'EventsFailed',
} as const);
export type UpdaterMetricName = (typeof UpdaterMetric)[keyof typeof UpdaterMetric];

/** The `service` dimension (Powertools' `serviceName`) of each function that publishes metrics. */
export const MetricService = Object.freeze({
  score: 'score',
  events: 'events',
  featureUpdater: 'feature-updater',
} as const);
export type MetricServiceName = (typeof MetricService)[keyof typeof MetricService];

/** Dimension names of the score metrics, sorted as CloudWatch SEARCH schemas want them. */
export const SCORE_DIMENSIONS = ['functionVersion', 'modelVersion', 'service', 'stage'] as const;
/** Dimension names of the events and updater metrics. */
export const SERVICE_DIMENSIONS = ['service', 'stage'] as const;

/** The per-version dimensions the score handler adds to the defaults (`stage`, `service`). */
export interface ScoreVersionDimensions {
  functionVersion: string;
  modelVersion: string;
}

/** `Degraded<Reason>` metric of a `degraded` flag (`features_unavailable` → `DegradedFeaturesUnavailable`). */
export function degradedMetric(
  reason: 'features_unavailable' | 'model_unavailable' | 'neural_unavailable',
): ScoreMetricName {
  const table = {
    features_unavailable: ScoreMetric.DegradedFeaturesUnavailable,
    model_unavailable: ScoreMetric.DegradedModelUnavailable,
    neural_unavailable: ScoreMetric.DegradedNeuralUnavailable,
  } as const;
  return table[reason];
}

/** `Decision<Decision>` metric of a decision. */
export function decisionMetric(decision: 'approve' | 'review' | 'decline'): ScoreMetricName {
  const table = {
    approve: ScoreMetric.DecisionApprove,
    review: ScoreMetric.DecisionReview,
    decline: ScoreMetric.DecisionDecline,
  } as const;
  return table[decision];
}
