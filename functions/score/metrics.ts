/**
 * What one score answer publishes: the metric recording of the score function, by the names
 * of the metrics contract, and the `Server-Timing` header. The dimensions are fixed at init
 * (see {@link metricDimensions}); everything here is per request.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { FEATURE_NAMES } from '#domain/features';
import type { ModelCard } from '#domain/model-card';
import type { ModelRunner } from '#domain/ports';
import type { ScoreOutcome } from '#domain/score';
import { segmentKey, segmentOf } from '#domain/segment';
import type { Channel } from '#domain/types';
import type { EmfLineWriter } from '#shared/emf-lines';
import {
  DecisionMetric,
  DegradedMetric,
  MetricDimension,
  ScoreMetric,
  type ScoreVersionDimensions,
  SegmentDecisionValue,
  shadowSegmentDecisionValue,
} from '#shared/metrics-contract';
import type { ScoreConfig } from './config';

/** A top feature of the model card, published as `FeatureValue` from the model input. */
export interface MonitoredFeature {
  readonly name: string;
  /** Position in the model input (`FEATURE_NAMES`). */
  readonly index: number;
}

/** The judge signals' fixed parts: the line writer and the card's top features. */
export interface JudgeSignals {
  /** Writes the extra-set lines (see `#shared/emf-lines` for why not Powertools). */
  readonly lines: EmfLineWriter;
  readonly features: readonly MonitoredFeature[];
}

/** What the per-segment and per-feature metrics need per answer besides the outcome. */
export interface JudgeSignalContext extends JudgeSignals {
  readonly request: { readonly channel: Channel; readonly amount: number };
  readonly dimensions: ScoreVersionDimensions;
}

/** The card's `monitoring.topFeatures` with their input positions; none for an older card. */
export function monitoredFeatures(
  card: Pick<ModelCard, 'monitoring'> | undefined,
): readonly MonitoredFeature[] {
  return (card?.monitoring?.topFeatures ?? [])
    .map((name) => ({ name, index: FEATURE_NAMES.indexOf(name) }))
    .filter((feature) => feature.index >= 0);
}

/**
 * The judge's and the drift monitor's signals of one scored answer: its decision under its
 * segment (`SegmentDecision`) and each top feature's model input (`FeatureValue`), each under
 * the version set plus its one extra dimension, so they cannot multiply the answer's own
 * metrics; with shadows, each shadow's (live, shadow) decision pair under its segment
 * (`ShadowSegmentDecision`, the judge's paired input). 1 + (≤ 5) + shadows lines in one write;
 * at most 24 + 5 series per version, and 24 per shadow version.
 */
function recordJudgeSignals(outcome: ScoreOutcome, context: JudgeSignalContext): void {
  const { lines, dimensions } = context;
  const segment = segmentKey(segmentOf(context.request, outcome.signals.cardFound));
  lines.add(
    { ...dimensions, [MetricDimension.Segment]: segment },
    ScoreMetric.SegmentDecision,
    'None',
    SegmentDecisionValue[outcome.response.decision],
  );
  for (const shadow of outcome.shadows) {
    lines.add(
      {
        ...dimensions,
        [MetricDimension.ShadowModel]: shadow.model.name,
        [MetricDimension.ShadowVersion]: shadow.model.version,
        [MetricDimension.Segment]: segment,
      },
      ScoreMetric.ShadowSegmentDecision,
      'None',
      shadowSegmentDecisionValue(outcome.response.decision, shadow.decision),
    );
  }
  // A read that failed fed the model defaults: not the population's inputs (that outage has its
  // own alarms), so it must not pass for drift.
  const vector = outcome.response.degraded.includes('features_unavailable')
    ? undefined
    : outcome.signals.vector;
  for (const feature of vector ? context.features : []) {
    const value = (vector as readonly number[])[feature.index];
    if (value === undefined || !Number.isFinite(value)) continue;
    lines.add(
      { ...dimensions, [MetricDimension.Feature]: feature.name },
      ScoreMetric.FeatureValue,
      'None',
      value,
    );
  }
  lines.flush();
}

/**
 * Records the metrics of one answer. A replayed answer counts as a replay only (its decision
 * was counted when it was first made). With `judge`, also the per-segment and per-feature lines.
 */
export function recordScoreOutcome(
  metrics: Metrics,
  outcome: ScoreOutcome,
  dimensions?: ScoreVersionDimensions,
  judge?: JudgeSignalContext,
): void {
  metrics.addMetric(ScoreMetric.Errors, MetricUnit.Count, 0);
  if (outcome.idempotency === 'replayed') {
    metrics.addMetric(ScoreMetric.IdempotentReplay, MetricUnit.Count, 1);
    return;
  }
  const { timings, signals, response } = outcome;
  metrics.addMetric(ScoreMetric.LatencyFeatures, MetricUnit.Milliseconds, timings.featuresMs);
  metrics.addMetric(ScoreMetric.LatencyInference, MetricUnit.Milliseconds, timings.inferenceMs);
  metrics.addMetric(ScoreMetric.LatencyTotal, MetricUnit.Milliseconds, timings.totalMs);
  if (outcome.idempotency !== 'off')
    metrics.addMetric(ScoreMetric.LatencyIdempotency, MetricUnit.Milliseconds, timings.idempotencyMs);
  if (outcome.idempotency === 'unavailable')
    metrics.addMetric(ScoreMetric.IdempotencyUnavailable, MetricUnit.Count, 1);
  if (response.score !== null) metrics.addMetric(ScoreMetric.Score, MetricUnit.NoUnit, response.score);
  metrics.addMetric(DecisionMetric[response.decision], MetricUnit.Count, 1);
  metrics.addMetric(
    signals.cardFound ? ScoreMetric.FeatureHit : ScoreMetric.FeatureMiss,
    MetricUnit.Count,
    1,
  );
  if (signals.staleItems > 0)
    metrics.addMetric(ScoreMetric.FeatureStale, MetricUnit.Count, signals.staleItems);
  if (signals.cardAgeMs !== undefined)
    metrics.addMetric(ScoreMetric.FeatureAge, MetricUnit.Seconds, signals.cardAgeMs / 1000);
  for (const reason of response.degraded) metrics.addMetric(DegradedMetric[reason], MetricUnit.Count, 1);
  metrics.addMetric(ScoreMetric.Degraded, MetricUnit.Count, response.degraded.length > 0 ? 1 : 0);
  recordCompanions(metrics, outcome, dimensions);
  if (judge) recordJudgeSignals(outcome, judge);
}

/**
 * The neural calls (live or shadow) and the shadows' paired signals. Shadow metrics carry the
 * shadow's own name and version, so they go out as single metrics with that dimension set.
 */
function recordCompanions(
  metrics: Metrics,
  outcome: ScoreOutcome,
  dimensions: ScoreVersionDimensions | undefined,
): void {
  for (const run of outcome.signals.companions) {
    if (run.name !== 'neural') continue;
    metrics.addMetric(ScoreMetric.LatencyNeural, MetricUnit.Milliseconds, run.ms);
    metrics.addMetric(ScoreMetric.NeuralTimeouts, MetricUnit.Count, run.failure === 'timeout' ? 1 : 0);
    metrics.addMetric(
      ScoreMetric.NeuralBreakerOpen,
      MetricUnit.Count,
      run.failure === 'breaker_open' ? 1 : 0,
    );
  }
  for (const shadow of outcome.shadows) {
    const dims = { ...dimensions, shadowModel: shadow.model.name, shadowVersion: shadow.model.version };
    const values: [string, number][] = [
      [ScoreMetric.ShadowScore, shadow.score],
      [ScoreMetric.ShadowAgreement, shadow.agrees ? 1 : 0],
    ];
    // A single metric publishes (and forgets its dimensions) at its addMetric: one per value.
    for (const [name, value] of values) {
      const single = metrics.singleMetric();
      for (const [key, dim] of Object.entries(dims)) single.addDimension(key, dim);
      single.addMetric(name, MetricUnit.NoUnit, value);
    }
  }
}

/**
 * The `Server-Timing` header of an answer: `idempotency` only when answers are stored, one
 * entry per companion call (`neural;dur=`, with `desc` `shadow` or the failure kind), and
 * `shadow_wait` for the wait after the decision when shadows run.
 */
export function serverTiming(
  outcome: Pick<ScoreOutcome, 'timings' | 'idempotency'> & {
    signals?: Pick<ScoreOutcome['signals'], 'companions'>;
  },
): string {
  const t = outcome.timings;
  const runs = outcome.signals?.companions ?? [];
  // Every answer carries this header: built as one string, without the intermediate arrays.
  let header = `features;dur=${t.featuresMs.toFixed(2)}, inference;dur=${t.inferenceMs.toFixed(2)}`;
  for (const run of runs) {
    const desc = run.ok ? (run.role === 'shadow' ? 'shadow' : undefined) : run.failure;
    header += `, ${run.name};dur=${run.ms.toFixed(2)}${desc ? `;desc="${desc}"` : ''}`;
  }
  if (t.shadowMs > 0) header += `, shadow_wait;dur=${t.shadowMs.toFixed(2)}`;
  if (outcome.idempotency !== 'off') header += `, idempotency;dur=${t.idempotencyMs.toFixed(2)}`;
  return `${header}, total;dur=${t.totalMs.toFixed(2)}`;
}

/**
 * Dimensions of every score metric. `modelVersion` is the version this deploy ships
 * (`MODEL_VERSION`), also when the model failed to load: the version-scoped alarms query that
 * exact set, so a rules-only environment must publish under it to be seen (its degraded
 * answers, its 5xx) instead of under a dimension set no alarm watches.
 */
export function metricDimensions(
  config: Pick<ScoreConfig, 'functionVersion' | 'modelVersion'>,
  model: ModelRunner | undefined,
): ScoreVersionDimensions {
  return {
    functionVersion: config.functionVersion,
    modelVersion: config.modelVersion ?? model?.model.version ?? 'none',
  };
}
