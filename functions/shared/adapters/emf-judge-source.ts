/**
 * The judge's series source on the local stack: reads the EMF lines the front workers wrote
 * (`<data dir>/metrics/*.jsonl`, see `scripts/local/emf-file.ts`) and asks them the questions the
 * CloudWatch adapter asks `GetMetricData`, with the same metric names, exact dimension sets and
 * statistics, aggregated per minute:
 *
 * | judge input | metric (score version set) | statistic |
 * | --- | --- | --- |
 * | `latencyMinutes` | `LatencyTotal` | p99 per minute |
 * | `requestsPerMinute` | `LatencyTotal` | SampleCount per minute |
 * | `requests` | `Requests` | Sum |
 * | `errors` | `Errors` | Sum |
 * | `segments[key]` | `SegmentDecision` + `segment` | SampleCount, `TC(0.5:1.5)`, `TC(1.5:2.5)` |
 * | `scoreCounts` | `Score` | `TC(lo:hi)` per card bin |
 * | `featureCounts[name]` | `FeatureValue` + `feature` | `TC(lo:hi)` per card bin |
 * | `paired.segments[key][k]` | `ShadowSegmentDecision` + `shadowModel`, `shadowVersion`, `segment` (baseline) | `TC(k−0.5:k+0.5)` |
 *
 * As in the CloudWatch adapter: the port names function versions, and the model version each
 * served is the `modelVersion` its `Requests` were published under (several is an error, none
 * reads as an empty observation, `unknown`); the bins come from one card, the canary's (the
 * judge ships with it), whose holdout histogram is the reference when the canary serves that
 * model and the baseline another; the per-minute sample count is `LatencyTotal`'s.
 */
import type { CanarySeriesSource, JudgeWindow } from '#domain/judge/ports';
import type { DecisionCounts, JudgeInput, VersionObservation } from '#domain/judge/types';
import type { ModelCard } from '#domain/model-card';
import { trimmedCountStatistics } from '#domain/monitoring/drift';
import {
  METRICS_NAMESPACE,
  MetricDimension,
  MetricService,
  ScoreMetric,
  SegmentDecisionValue,
} from '#shared/metrics-contract';
import { EmfMetricStore, type MetricSeriesId } from './emf-metric-store';

/**
 * The paired live/shadow decision metric of the contract (`3 × live + shadow` per answer with a
 * shadow). Named here until the metrics contract carries it as `ScoreMetric.ShadowSegmentDecision`.
 */
export const SHADOW_SEGMENT_DECISION = ScoreMetric.ShadowSegmentDecision;

/** What the judge needs of a model card: bins of the score and of the top features. */
export type JudgeModelCard = Pick<ModelCard, 'version' | 'scoreHistogram' | 'monitoring'> &
  Partial<Pick<ModelCard, 'name'>>;

/** The model version of a function version that published nothing in the window. */
export const UNKNOWN_MODEL_VERSION = 'unknown';

/** One side of the comparison, once its model version is known. */
interface JudgedVersion {
  readonly functionVersion: string;
  readonly modelVersion: string;
}

/** Paired decisions as the judge's input carries them (see the contract). */
export interface PairedDecisionCounts {
  readonly shadow: { readonly model: string; readonly version: string };
  /** Per segment key, 9 counts indexed `3 × live + shadow`. */
  readonly segments: Readonly<Record<string, readonly number[]>>;
}

/** The judge's input with the optional paired decisions. */
export type JudgeInputWithPairs = JudgeInput & { readonly paired?: PairedDecisionCounts };

export interface EmfJudgeSourceOptions {
  /** The folder of `*.jsonl` EMF files. */
  readonly metricsDir: string;
  /** The `stage` dimension the workers published under. */
  readonly stage: string;
  /** The canary's model card: its bins bin both versions. */
  readonly card: JudgeModelCard;
}

const REVIEW = SegmentDecisionValue.review;
const DECLINE = SegmentDecisionValue.decline;

/** Reads the local stack's EMF files; implements the judge's {@link CanarySeriesSource}. */
export class EmfJudgeSource implements CanarySeriesSource {
  constructor(private readonly options: EmfJudgeSourceOptions) {}

  /** Reads the files anew on every call, like a query of CloudWatch. */
  async read(window: JudgeWindow, baseline: string, canary: string): Promise<JudgeInputWithPairs> {
    const store = await EmfMetricStore.load(this.options.metricsDir, window);
    return judgeInputOf(store, window, this.options.stage, baseline, canary, this.options.card);
  }
}

/**
 * The judge's input from a store already read (the adapter's work, reusable by tools and tests).
 * @throws Error when a function version published under several model versions
 */
export function judgeInputOf(
  store: EmfMetricStore,
  window: JudgeWindow,
  stage: string,
  baselineVersion: string,
  canaryVersion: string,
  card: JudgeModelCard,
): JudgeInputWithPairs {
  const reader = new VersionReader(store, window, stage);
  const baseline = { functionVersion: baselineVersion, modelVersion: reader.modelVersion(baselineVersion) };
  const canary = { functionVersion: canaryVersion, modelVersion: reader.modelVersion(canaryVersion) };
  const scoreEdges = card.scoreHistogram.edges;
  const featureEdges: Record<string, readonly number[]> = {};
  for (const name of card.monitoring?.topFeatures ?? []) {
    const histogram = card.monitoring?.featureHistograms[name];
    if (histogram) featureEdges[name] = histogram.edges;
  }
  const servesCard = canary.modelVersion === card.version && baseline.modelVersion !== card.version;
  // The metrics carry the model version only; the card names the model when the canary serves it
  // (a neural shadow `fraud-seq 1.0.0` must not pass for a tree canary `fraud-gbdt 1.0.0`).
  const canaryName = canary.modelVersion === card.version ? card.name : undefined;
  const paired = reader.paired(baseline, { ...canary, modelName: canaryName });
  const canaryObservation = reader.observe(canary, scoreEdges, featureEdges);
  return {
    baseline: reader.observe(baseline, scoreEdges, featureEdges),
    canary: canaryName === undefined ? canaryObservation : { ...canaryObservation, modelName: canaryName },
    scoreEdges,
    ...(servesCard ? { canaryCard: { counts: card.scoreHistogram.counts } } : {}),
    featureEdges,
    ...(paired ? { paired } : {}),
  };
}

/** The queries of one window, per version. */
class VersionReader {
  constructor(
    private readonly store: EmfMetricStore,
    private readonly window: JudgeWindow,
    private readonly stage: string,
  ) {}

  /** The model version `functionVersion` published its `Requests` under in the window. */
  modelVersion(functionVersion: string): string {
    const filter = {
      [MetricDimension.Service]: MetricService.Score,
      [MetricDimension.Stage]: this.stage,
      [MetricDimension.FunctionVersion]: functionVersion,
    };
    const versions = new Set<string>();
    for (const series of this.store.list(METRICS_NAMESPACE, ScoreMetric.Requests, filter)) {
      const model = series.dimensions[MetricDimension.ModelVersion];
      if (Object.keys(series.dimensions).length === 4 && model) versions.add(model);
    }
    if (versions.size > 1)
      throw new Error(
        `function version ${functionVersion} published Requests under several model versions (${[...versions].sort().join(', ')}); cannot tell which one it serves`,
      );
    return versions.values().next().value ?? UNKNOWN_MODEL_VERSION;
  }

  observe(
    version: JudgedVersion,
    scoreEdges: readonly number[],
    featureEdges: Readonly<Record<string, readonly number[]>>,
  ): VersionObservation {
    const dims = this.dimensions(version);
    const latency = this.query(ScoreMetric.LatencyTotal, dims, 'p99');
    const latencyCount = this.query(ScoreMetric.LatencyTotal, dims, 'SampleCount');
    const requests = this.query(ScoreMetric.Requests, dims, 'Sum');
    const segments: Record<string, DecisionCounts> = {};
    for (const series of this.exactSeries(ScoreMetric.SegmentDecision, dims, [MetricDimension.Segment])) {
      const key = series.dimensions[MetricDimension.Segment] as string;
      segments[key] = {
        answers: this.total(ScoreMetric.SegmentDecision, series.dimensions, 'SampleCount'),
        reviews: this.total(ScoreMetric.SegmentDecision, series.dimensions, bandOf(REVIEW)),
        declines: this.total(ScoreMetric.SegmentDecision, series.dimensions, bandOf(DECLINE)),
      };
    }
    const featureCounts: Record<string, number[]> = {};
    for (const [name, edges] of Object.entries(featureEdges)) {
      const featureDims = { ...dims, [MetricDimension.Feature]: name };
      featureCounts[name] = trimmedCountStatistics(edges).map((stat) =>
        this.total(ScoreMetric.FeatureValue, featureDims, stat),
      );
    }
    return {
      functionVersion: version.functionVersion,
      modelVersion: version.modelVersion,
      latencyMinutes: latency.values,
      // Answers per minute: the sample count behind each p99 (same minutes, same order).
      requestsPerMinute: latencyCount.values,
      requests: sumOf(requests.values),
      errors: this.total(ScoreMetric.Errors, dims, 'Sum'),
      segments,
      scoreCounts: trimmedCountStatistics(scoreEdges).map((stat) =>
        this.total(ScoreMetric.Score, dims, stat),
      ),
      featureCounts,
    };
  }

  /**
   * The baseline's paired decisions with a shadow, when it published any: the shadow that is
   * the canary's model (name and version), then its version, else the one with the most pairs;
   * the judge skips the paired tests when the names differ.
   */
  paired(
    baseline: JudgedVersion,
    canary: JudgedVersion & { modelName?: string },
  ): PairedDecisionCounts | undefined {
    const dims = this.dimensions(baseline);
    const shadows = new Map<
      string,
      { model: string; version: string; series: MetricSeriesId[]; pairs: number }
    >();
    for (const series of this.exactSeries(SHADOW_SEGMENT_DECISION, dims, [
      'shadowModel',
      'shadowVersion',
      MetricDimension.Segment,
    ])) {
      const model = series.dimensions.shadowModel as string;
      const version = series.dimensions.shadowVersion as string;
      const key = JSON.stringify([model, version]);
      const entry = shadows.get(key) ?? { model, version, series: [], pairs: 0 };
      entry.series.push(series);
      entry.pairs += this.total(SHADOW_SEGMENT_DECISION, series.dimensions, 'SampleCount');
      shadows.set(key, entry);
    }
    const candidates = [...shadows.values()].filter((s) => s.pairs > 0);
    if (candidates.length === 0) return undefined;
    const chosen =
      candidates.find((s) => s.version === canary.modelVersion && s.model === canary.modelName) ??
      candidates.find((s) => s.version === canary.modelVersion) ??
      candidates.reduce((best, s) => (s.pairs > best.pairs ? s : best));
    const segments: Record<string, number[]> = {};
    for (const series of chosen.series) {
      segments[series.dimensions[MetricDimension.Segment] as string] = Array.from({ length: 9 }, (_, k) =>
        this.total(SHADOW_SEGMENT_DECISION, series.dimensions, `TC(${k - 0.5}:${k + 0.5})`),
      );
    }
    return { shadow: { model: chosen.model, version: chosen.version }, segments };
  }

  private dimensions(version: JudgedVersion): Record<string, string> {
    return {
      [MetricDimension.Service]: MetricService.Score,
      [MetricDimension.Stage]: this.stage,
      [MetricDimension.FunctionVersion]: version.functionVersion,
      [MetricDimension.ModelVersion]: version.modelVersion,
    };
  }

  /** Series with exactly the version set plus `extra` (a series with more dimensions is another series). */
  private exactSeries(
    name: string,
    dims: Record<string, string>,
    extra: readonly string[],
  ): MetricSeriesId[] {
    const size = Object.keys(dims).length + extra.length;
    return this.store
      .list(METRICS_NAMESPACE, name, dims)
      .filter(
        (series) =>
          Object.keys(series.dimensions).length === size &&
          extra.every((key) => series.dimensions[key] !== undefined),
      );
  }

  private query(name: string, dimensions: Record<string, string>, stat: string) {
    return this.store.query({
      namespace: METRICS_NAMESPACE,
      name,
      dimensions,
      stat,
      periodSeconds: 60,
      start: this.window.start,
      end: this.window.end,
    });
  }

  /** The per-minute statistic summed over the window (counts add across minutes). */
  private total(name: string, dimensions: Record<string, string>, stat: string): number {
    return sumOf(this.query(name, dimensions, stat).values);
  }
}

/** The trimmed-count band of one decision value (`TC(1.5:2.5)` = declines). */
function bandOf(value: number): string {
  return `TC(${value - 0.5}:${value + 0.5})`;
}

function sumOf(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
