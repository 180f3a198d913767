/**
 * The metrics contract: the one place that names the application's CloudWatch metrics. The
 * handlers publish with these names (Powertools EMF) and `infra/` alarms and dashboards query
 * them, so a renamed metric fails the type check on both sides instead of silently breaking a
 * page.
 *
 * This module imports nothing (no AWS SDK, no CDK), so Lambda bundles can import it at no cost.
 */

/** CloudWatch namespace of every application metric. */
export const METRICS_NAMESPACE = 'FraudScoring';

/** The `service` dimension of each function that publishes application metrics. */
export const MetricService = {
  Score: 'score',
  Events: 'events',
  FeatureUpdater: 'feature-updater',
  DriftMonitor: 'drift-monitor',
  CalibrationMonitor: 'calibration-monitor',
  CanaryJudge: 'canary-judge',
} as const;
export type MetricServiceName = (typeof MetricService)[keyof typeof MetricService];

/** Dimension names, as the handlers publish them. */
export const MetricDimension = {
  Service: 'service',
  Stage: 'stage',
  FunctionVersion: 'functionVersion',
  ModelVersion: 'modelVersion',
  /** {@link segmentKey} of `#domain/segment` (24 values): `SegmentDecision`, calibration figures. */
  Segment: 'segment',
  /** A top feature of the model card's `monitoring.topFeatures` (≤ 5 values). */
  Feature: 'feature',
  /** A shadow scorer's model name and version: `ShadowScore`, `ShadowAgreement`, `ShadowSegmentDecision`. */
  ShadowModel: 'shadowModel',
  ShadowVersion: 'shadowVersion',
  /** The score function version a canary judge verdict is about (`JudgeVerdict`, `JudgeInconclusive`). */
  CanaryVersion: 'canaryVersion',
} as const;
export type MetricDimensionName = (typeof MetricDimension)[keyof typeof MetricDimension];

/**
 * Metrics every API handler publishes through the shared error middleware
 * (`functions/shared/api-middleware.ts`); the score and events contracts both hold them.
 */
export const ApiMetric = {
  Errors: 'Errors',
  ClientErrors: 'ClientErrors',
  PanRejected: 'PanRejected',
} as const;

/**
 * Metrics of the event and answer archive (`#domain/archive`), published by the score and the
 * events function, both Count: records the sink accepted, and records lost (buffer full, or
 * delivery failed after the one retry). Counted per request for the deliveries finished since
 * the previous request of the same environment.
 */
export const ArchiveMetric = {
  ArchiveDelivered: 'ArchiveDelivered',
  ArchiveDropped: 'ArchiveDropped',
} as const;

/**
 * Metrics of the score function. Unit and meaning:
 * - `Requests` (Count, 1 per request); `Errors` (Count: 1 per 500 answer, 0 per 200, so its
 *   average is the 5xx rate); `ClientErrors` (Count, 1 per 4xx); `PanRejected` (Count);
 * - `LatencyTotal` / `LatencyFeatures` / `LatencyInference` / `LatencyIdempotency` (Milliseconds);
 * - `Score` (NoUnit, 0–1); `Decision*` (Count, one per answer);
 * - `FeatureHit` / `FeatureMiss` (Count: card found or not); `FeatureStale` (Count of stale
 *   items); `FeatureAge` (Seconds, age of the card item served);
 * - `Degraded` (Count: 1 per degraded answer, 0 otherwise); `Degraded<Reason>` (Count);
 * - `IdempotentReplay` (Count); `IdempotencyUnavailable` (Count);
 * - `LatencyNeural` (Milliseconds, each neural call, live or shadow, failed ones included);
 *   `NeuralTimeouts` (Count, 1 per call over its budget, 0 otherwise); `NeuralBreakerOpen`
 *   (Count, 1 per call refused by the open breaker, 0 otherwise);
 * - `ShadowScore` (NoUnit, the shadow's deciding probability) and `ShadowAgreement` (NoUnit:
 *   1 when the shadow's decision equals the live one, 0 otherwise, so its average is the
 *   agreement rate), published with the {@link ShadowDimensions} set (the shadow's version).
 * - judge and drift signals, each under the version set plus one extra dimension:
 *   `SegmentDecision` (NoUnit, + `segment`; {@link SegmentDecisionValue} per answer, so
 *   SampleCount = requests, `TC(1.5:2.5)` = declines, `TC(0.5:1.5)` = reviews) and
 *   `FeatureValue` (NoUnit, + `feature`; the model input of each card top feature);
 * - `ShadowSegmentDecision` (NoUnit, the {@link ShadowDimensions} set + `segment`; one value
 *   per answer with a shadow, {@link shadowSegmentDecisionValue}: `3 × live + shadow`, so the
 *   pair cell (l, s) is `TC(k−0.5:k+0.5)` with k = 3l + s): the canary judge's paired input.
 */
export const ScoreMetric = {
  ...ApiMetric,
  ...ArchiveMetric,
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
  LatencyNeural: 'LatencyNeural',
  NeuralTimeouts: 'NeuralTimeouts',
  NeuralBreakerOpen: 'NeuralBreakerOpen',
  ShadowScore: 'ShadowScore',
  ShadowAgreement: 'ShadowAgreement',
  SegmentDecision: 'SegmentDecision',
  FeatureValue: 'FeatureValue',
  ShadowSegmentDecision: 'ShadowSegmentDecision',
} as const;
export type ScoreMetricName = (typeof ScoreMetric)[keyof typeof ScoreMetric];

/** The decision metric of each decision the policy can return. */
export const DecisionMetric = {
  approve: ScoreMetric.DecisionApprove,
  review: ScoreMetric.DecisionReview,
  decline: ScoreMetric.DecisionDecline,
} as const satisfies Record<string, ScoreMetricName>;

/**
 * The value `SegmentDecision` records per decision: ordered so that one trimmed-count band
 * counts one decision (`TC(0.5:1.5)` reviews, `TC(1.5:2.5)` declines) without a series each.
 */
export const SegmentDecisionValue = {
  approve: 0,
  review: 1,
  decline: 2,
} as const satisfies Record<keyof typeof DecisionMetric, number>;

/**
 * The value `ShadowSegmentDecision` records for one (live, shadow) decision pair: `3 × live +
 * shadow` in {@link SegmentDecisionValue} numbers, 0–8, so each of the 9 pair cells is one
 * trimmed-count band of one series per segment and shadow version.
 */
export function shadowSegmentDecisionValue(
  live: keyof typeof SegmentDecisionValue,
  shadow: keyof typeof SegmentDecisionValue,
): number {
  return 3 * SegmentDecisionValue[live] + SegmentDecisionValue[shadow];
}

/** The metric of each `degraded` reason of the score response. */
export const DegradedMetric = {
  features_unavailable: ScoreMetric.DegradedFeaturesUnavailable,
  model_unavailable: ScoreMetric.DegradedModelUnavailable,
  neural_unavailable: ScoreMetric.DegradedNeuralUnavailable,
} as const satisfies Record<string, ScoreMetricName>;

/** Metrics of the events function (`POST /v1/events`), all Count. */
export const EventsMetric = {
  ...ApiMetric,
  ...ArchiveMetric,
  EventsAccepted: 'EventsAccepted',
} as const;
export type EventsMetricName = (typeof EventsMetric)[keyof typeof EventsMetric];

/** Metrics of the SQS-triggered feature updater, all Count. */
export const UpdaterMetric = {
  EventsApplied: 'EventsApplied',
  EventsDuplicate: 'EventsDuplicate',
  EventsFailed: 'EventsFailed',
} as const;
export type UpdaterMetricName = (typeof UpdaterMetric)[keyof typeof UpdaterMetric];

/**
 * Metrics of the hourly drift monitor (NoUnit), under `service`, `stage`, `modelVersion`:
 * `DriftPsiScore` (PSI of the live score histogram against the card's) and `DriftPsiFeature`
 * (+ `feature`: PSI of a top feature against the card's training histogram); `DriftSamples`
 * (Count: scores in the window the PSI was computed on).
 */
export const DriftMetric = {
  DriftPsiScore: 'DriftPsiScore',
  DriftPsiFeature: 'DriftPsiFeature',
  DriftSamples: 'DriftSamples',
} as const;
export type DriftMetricName = (typeof DriftMetric)[keyof typeof DriftMetric];

/**
 * Metrics of the daily calibration monitor, under `service`, `stage`, `modelVersion`, overall
 * and again with `segment` for each segment with enough labelled answers: `CalibrationEce`
 * (NoUnit, equal-mass ECE), `RecallAtDecline` / `PrecisionAtDecline` / `RecallAtReview` /
 * `PrecisionAtReview` (Percent, 0–100: "more than 5 points" reads directly), `RecallGapAtDecline`
 * (Percent: the card's recall at decline minus the live one; positive = worse) and
 * `LabelledAnswers` (Count of answers joined with a matured label; 0 is published too). Overall
 * only, every run: `ArchiveLinesSkipped` and `ArchiveObjectsUnreadable` (Count: damaged archive
 * lines, and objects whose compression broke off, that the run could not use).
 */
export const CalibrationMetric = {
  CalibrationEce: 'CalibrationEce',
  RecallAtDecline: 'RecallAtDecline',
  PrecisionAtDecline: 'PrecisionAtDecline',
  RecallAtReview: 'RecallAtReview',
  PrecisionAtReview: 'PrecisionAtReview',
  RecallGapAtDecline: 'RecallGapAtDecline',
  LabelledAnswers: 'LabelledAnswers',
  ArchiveLinesSkipped: 'ArchiveLinesSkipped',
  ArchiveObjectsUnreadable: 'ArchiveObjectsUnreadable',
} as const;
export type CalibrationMetricName = (typeof CalibrationMetric)[keyof typeof CalibrationMetric];

/**
 * Metrics of the canary judge (NoUnit, one value per run while a canary is routed), under
 * `service`, `stage`, `canaryVersion`: `JudgeVerdict` (1 when the verdict is `fail`, else 0 —
 * the deployment group's rollback alarm watches its Maximum) and `JudgeInconclusive` (1 when
 * `inconclusive`, else 0). Both 0: `pass`.
 */
export const JudgeMetric = {
  JudgeVerdict: 'JudgeVerdict',
  JudgeInconclusive: 'JudgeInconclusive',
} as const;
export type JudgeMetricName = (typeof JudgeMetric)[keyof typeof JudgeMetric];

/** The dimension set of the judge's metrics. */
export interface JudgeDimensions {
  readonly service: typeof MetricService.CanaryJudge;
  readonly stage: string;
  readonly canaryVersion: string;
}

/** Every metric name of a service. */
export interface ServiceMetricNames {
  score: ScoreMetricName;
  events: EventsMetricName;
  'feature-updater': UpdaterMetricName;
  'drift-monitor': DriftMetricName;
  'calibration-monitor': CalibrationMetricName;
  'canary-judge': JudgeMetricName;
}

/**
 * The dimension set of the score function's metrics. CloudWatch matches a metric only with its
 * full set: the handler publishes `stage` and `service` as defaults and adds `functionVersion`
 * and `modelVersion` per request (one set).
 */
export interface ScoreDimensions {
  readonly service: typeof MetricService.Score;
  readonly stage: string;
  readonly functionVersion: string;
  readonly modelVersion: string;
}

/** The per-version dimensions the score handler adds to its defaults. */
export type ScoreVersionDimensions = Pick<ScoreDimensions, 'functionVersion' | 'modelVersion'>;

/**
 * The dimension set of `ShadowScore` and `ShadowAgreement`: the score set plus the shadow
 * model's name and version, so two shadows (or two shadow versions) never mix.
 */
export interface ShadowDimensions extends ScoreDimensions {
  readonly shadowModel: string;
  readonly shadowVersion: string;
}

/** The dimension set of the events function and the feature updater. */
export interface ServiceDimensions<S extends MetricServiceName = MetricServiceName> {
  readonly service: S;
  readonly stage: string;
}

/**
 * The dimension set of the monitors' metrics: the model version they judge, not a function
 * version (they read every function version that served it).
 */
export interface MonitorDimensions<S extends MetricServiceName = MetricServiceName> {
  readonly service: S;
  readonly stage: string;
  readonly modelVersion: string;
}

/** The score dimension names, sorted as a CloudWatch SEARCH schema wants them. */
export const SCORE_DIMENSION_NAMES = [
  MetricDimension.FunctionVersion,
  MetricDimension.ModelVersion,
  MetricDimension.Service,
  MetricDimension.Stage,
] as const satisfies readonly (keyof ScoreDimensions)[];

/** Every metric name of the contract, for checks that a query names a published metric. */
export const ALL_METRIC_NAMES: ReadonlySet<string> = new Set<string>([
  ...Object.values(ScoreMetric),
  ...Object.values(EventsMetric),
  ...Object.values(UpdaterMetric),
  ...Object.values(DriftMetric),
  ...Object.values(CalibrationMetric),
  ...Object.values(JudgeMetric),
]);
