/**
 * The canary judge's observations from CloudWatch: for the baseline and the canary score
 * function versions, per-minute series of the score function's EMF metrics over the judged
 * window, read with `GetMetricData` (one-minute periods, summed where the judge wants totals).
 *
 * - The model version each function version served is found with `ListMetrics` on `Requests`
 *   (the score metrics carry it as a dimension); explicit `MetricStat`s with the full dimension
 *   set follow, so a series with other dimensions is never mixed in.
 * - Histograms (score, top features) are `TC(lo:hi)` trimmed counts on the model card's edges,
 *   open at both ends (the monitoring convention of `trimmedCountStatistics`); decisions per
 *   segment are `SampleCount`, `TC(0.5:1.5)` (reviews) and `TC(1.5:2.5)` (declines) of
 *   `SegmentDecision`; paired shadow decisions are `TC(k−0.5:k+0.5)` of `ShadowSegmentDecision`.
 * - A series with no data reads as zero counts: a version without traffic is too little data
 *   for the judge (inconclusive), never an error.
 * - GetMetricData takes at most 500 queries per call: the queries go in chunks, and each chunk
 *   is paged with `NextToken` (a page may carry more points of a query already seen).
 */
import {
  type CloudWatchClient,
  type Dimension,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  ListMetricsCommand,
  type ListMetricsCommandOutput,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { CanarySourceError } from '#domain/errors';
import type { CanarySeriesSource, JudgeWindow } from '#domain/judge/ports';
import type { DecisionCounts, JudgeInput, VersionObservation } from '#domain/judge/types';
import type { ModelCard } from '#domain/model-card';
import { trimmedCountStatistics } from '#domain/monitoring/drift';
import { SEGMENT_KEYS } from '#domain/segment';
import {
  METRICS_NAMESPACE,
  MetricDimension,
  MetricService,
  ScoreMetric,
  SegmentDecisionValue,
} from '#shared/metrics-contract';

/** GetMetricData's limit of queries per call. */
export const MAX_QUERIES_PER_CALL = 500;

/** The model version of a function version that published nothing in the window's lookback. */
export const UNKNOWN_MODEL_VERSION = 'unknown';

/** The parts of the model card the judge reads: bins of the score and of the top features. */
export type JudgeCard = Pick<ModelCard, 'name' | 'version' | 'scoreHistogram' | 'monitoring'>;

export interface CloudWatchJudgeSourceOptions {
  /** The `stage` dimension of the score metrics. */
  readonly stage: string;
  /**
   * The card of the model the judge ships with (the stack deploys both together, so it is the
   * canary's): its score edges bin both versions, its holdout counts are the canary's reference
   * when the canary serves this model and the baseline another.
   */
  readonly card: JudgeCard;
  /**
   * Queries per GetMetricData call.
   * @default 500
   */
  readonly maxQueriesPerCall?: number;
}

/** Error names of a throttled CloudWatch call (after the SDK's own retries). */
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'LimitExceededException',
  'TooManyRequestsException',
]);

/** One data point of a query. */
interface Point {
  readonly t: number;
  readonly v: number;
}

/** Collects the queries of one read and hands each its own points once they are fetched. */
class QueryPlan {
  readonly queries: MetricDataQuery[] = [];
  private readonly points = new Map<string, Point[]>();

  /** Adds a one-minute `MetricStat`; returns the reader of its points (call after {@link fetch}). */
  add(metricName: string, dimensions: readonly Dimension[], stat: string): () => readonly Point[] {
    const id = `q${this.queries.length}`;
    this.queries.push({
      Id: id,
      MetricStat: {
        Metric: { Namespace: METRICS_NAMESPACE, MetricName: metricName, Dimensions: [...dimensions] },
        Period: 60,
        Stat: stat,
      },
      ReturnData: true,
    });
    return () => this.points.get(id) ?? [];
  }

  record(id: string, timestamps: readonly Date[], values: readonly number[]): void {
    const list = this.points.get(id) ?? [];
    values.forEach((v, i) => {
      const t = timestamps[i]?.getTime();
      if (t !== undefined && Number.isFinite(v)) list.push({ t, v });
    });
    this.points.set(id, list);
  }
}

const total = (points: readonly Point[]) => points.reduce((sum, p) => sum + p.v, 0);

export class CloudWatchJudgeSource implements CanarySeriesSource {
  private readonly maxQueries: number;

  constructor(
    private readonly client: CloudWatchClient,
    private readonly options: CloudWatchJudgeSourceOptions,
  ) {
    this.maxQueries = options.maxQueriesPerCall ?? MAX_QUERIES_PER_CALL;
    if (
      !(Number.isInteger(this.maxQueries) && this.maxQueries >= 1 && this.maxQueries <= MAX_QUERIES_PER_CALL)
    )
      throw new RangeError(`maxQueriesPerCall must be 1–${MAX_QUERIES_PER_CALL}, got ${this.maxQueries}`);
  }

  async read(window: JudgeWindow, baseline: string, canary: string): Promise<JudgeInput> {
    const { card } = this.options;
    const [baselineModel, canaryModel] = await Promise.all([
      this.modelVersion(baseline),
      this.modelVersion(canary),
    ]);
    // The metrics carry the model version only; the card names the model when the canary serves it
    // (a neural shadow `fraud-seq 1.0.0` must not pass for a tree canary `fraud-gbdt 1.0.0`).
    const canaryName = canaryModel === card.version ? card.name : undefined;
    const shadow = baselineModel
      ? await this.shadowSeries(baseline, baselineModel, { name: canaryName, version: canaryModel })
      : undefined;

    const plan = new QueryPlan();
    const readBaseline = this.planVersion(plan, baseline, baselineModel);
    const readCanary = this.planVersion(plan, canary, canaryModel);
    const readPaired = shadow ? this.planPaired(plan, shadow.series) : undefined;
    await this.fetch(plan, window);

    const featureEdges: Record<string, readonly number[]> = {};
    for (const [name, histogram] of this.features()) featureEdges[name] = histogram;
    const base = readBaseline();
    const cand = canaryName === undefined ? readCanary() : { ...readCanary(), modelName: canaryName };
    const servesCard = canaryModel === card.version && baselineModel !== card.version;
    return {
      baseline: base,
      canary: cand,
      scoreEdges: card.scoreHistogram.edges,
      ...(servesCard ? { canaryCard: { counts: card.scoreHistogram.counts } } : {}),
      featureEdges,
      ...(shadow && readPaired ? { paired: { shadow: shadow.shadow, segments: readPaired() } } : {}),
    };
  }

  /** The card's top features with their bin edges. */
  private features(): [string, readonly number[]][] {
    const monitoring = this.options.card.monitoring;
    if (!monitoring) return [];
    return monitoring.topFeatures.flatMap((name) => {
      const histogram = monitoring.featureHistograms[name];
      return histogram ? [[name, histogram.edges] as [string, readonly number[]]] : [];
    });
  }

  private scoreDimensions(functionVersion: string, modelVersion: string): Dimension[] {
    return [
      { Name: MetricDimension.Service, Value: MetricService.Score },
      { Name: MetricDimension.Stage, Value: this.options.stage },
      { Name: MetricDimension.FunctionVersion, Value: functionVersion },
      { Name: MetricDimension.ModelVersion, Value: modelVersion },
    ];
  }

  /** Queries of one version's observation; the returned function assembles it after the fetch. */
  private planVersion(
    plan: QueryPlan,
    functionVersion: string,
    modelVersion: string | undefined,
  ): () => VersionObservation {
    if (modelVersion === undefined) {
      const empty = emptyObservation(
        functionVersion,
        this.options.card.scoreHistogram.edges,
        this.features(),
      );
      return () => empty;
    }
    const dims = this.scoreDimensions(functionVersion, modelVersion);
    const requests = plan.add(ScoreMetric.Requests, dims, 'Sum');
    const errors = plan.add(ScoreMetric.Errors, dims, 'Sum');
    const p99 = plan.add(ScoreMetric.LatencyTotal, dims, 'p99');
    const latencyCount = plan.add(ScoreMetric.LatencyTotal, dims, 'SampleCount');
    const scoreBins = trimmedCountStatistics(this.options.card.scoreHistogram.edges).map((stat) =>
      plan.add(ScoreMetric.Score, dims, stat),
    );
    const segments = SEGMENT_KEYS.map((key) => {
      const segmentDims = [...dims, { Name: MetricDimension.Segment, Value: key }];
      const band = (value: number) => `TC(${value - 0.5}:${value + 0.5})`;
      return {
        key,
        answers: plan.add(ScoreMetric.SegmentDecision, segmentDims, 'SampleCount'),
        reviews: plan.add(ScoreMetric.SegmentDecision, segmentDims, band(SegmentDecisionValue.review)),
        declines: plan.add(ScoreMetric.SegmentDecision, segmentDims, band(SegmentDecisionValue.decline)),
      };
    });
    const features = this.features().map(([name, edges]) => ({
      name,
      bins: trimmedCountStatistics(edges).map((stat) =>
        plan.add(ScoreMetric.FeatureValue, [...dims, { Name: MetricDimension.Feature, Value: name }], stat),
      ),
    }));

    return () => {
      // Minutes with latency samples, oldest first; a minute without a p99 stays NaN (not used).
      const counts = new Map(latencyCount().map((p) => [p.t, p.v]));
      const p99s = new Map(p99().map((p) => [p.t, p.v]));
      const minutes = [...counts.keys()].sort((a, b) => a - b);
      const segmentCounts: Record<string, DecisionCounts> = {};
      for (const s of segments) {
        const answers = total(s.answers());
        if (answers > 0)
          segmentCounts[s.key] = { answers, reviews: total(s.reviews()), declines: total(s.declines()) };
      }
      const featureCounts: Record<string, readonly number[]> = {};
      for (const f of features) featureCounts[f.name] = f.bins.map((bin) => total(bin()));
      return {
        functionVersion,
        modelVersion,
        latencyMinutes: minutes.map((t) => p99s.get(t) ?? Number.NaN),
        requestsPerMinute: minutes.map((t) => counts.get(t) ?? 0),
        requests: total(requests()),
        errors: total(errors()),
        segments: segmentCounts,
        scoreCounts: scoreBins.map((bin) => total(bin())),
        featureCounts,
      };
    };
  }

  /** Nine cells per segment that has a paired series; counts indexed `3 × live + shadow`. */
  private planPaired(plan: QueryPlan, series: readonly { segment: string; dimensions: Dimension[] }[]) {
    const cells = series.map(({ segment, dimensions }) => ({
      segment,
      reads: Array.from({ length: 9 }, (_, k) =>
        plan.add(ScoreMetric.ShadowSegmentDecision, dimensions, `TC(${k - 0.5}:${k + 0.5})`),
      ),
    }));
    return () => {
      const segments: Record<string, number[]> = {};
      for (const { segment, reads } of cells) segments[segment] = reads.map((read) => total(read()));
      return segments;
    };
  }

  /**
   * The model version `functionVersion` published its `Requests` under, or undefined when it
   * published none in the last three hours (no traffic yet).
   *
   * @throws CanarySourceError when it published under several (a version bundles one model)
   */
  private async modelVersion(functionVersion: string): Promise<string | undefined> {
    const metrics = await this.listMetrics(ScoreMetric.Requests, [
      { Name: MetricDimension.Service, Value: MetricService.Score },
      { Name: MetricDimension.Stage, Value: this.options.stage },
      { Name: MetricDimension.FunctionVersion, Value: functionVersion },
    ]);
    const versions = new Set<string>();
    for (const dimensions of metrics) {
      if (dimensions.length !== 4) continue;
      const model = dimensions.find((d) => d.Name === MetricDimension.ModelVersion)?.Value;
      if (model) versions.add(model);
    }
    if (versions.size > 1)
      throw new CanarySourceError(
        `function version ${functionVersion} published Requests under several model versions (${[...versions].sort().join(', ')}); cannot tell which one it serves`,
      );
    return versions.values().next().value;
  }

  /**
   * The baseline's paired shadow series: one (shadowModel, shadowVersion), preferring the
   * shadow that runs the canary's model (name and version), then its version, else the first in
   * sort order; the judge skips the paired tests when the names differ.
   */
  private async shadowSeries(
    functionVersion: string,
    modelVersion: string,
    canaryModel: { name?: string; version?: string },
  ) {
    const metrics = await this.listMetrics(
      ScoreMetric.ShadowSegmentDecision,
      this.scoreDimensions(functionVersion, modelVersion),
    );
    const bySegment = new Map<
      string,
      { model: string; version: string; segment: string; dimensions: Dimension[] }
    >();
    const found: { model: string; version: string; segment: string; dimensions: Dimension[] }[] = [];
    for (const dimensions of metrics) {
      const value = (name: string) => dimensions.find((d) => d.Name === name)?.Value;
      const model = value('shadowModel');
      const version = value('shadowVersion');
      const segment = value(MetricDimension.Segment);
      if (dimensions.length !== 7 || !model || !version || !segment) continue;
      found.push({ model, version, segment, dimensions });
    }
    if (found.length === 0) return undefined;
    const shadows = [...new Set(found.map((f) => `${f.model}@${f.version}`))].sort();
    const chosen =
      found.find((f) => f.version === canaryModel.version && f.model === canaryModel.name) ??
      found.find((f) => f.version === canaryModel.version) ??
      found.find((f) => `${f.model}@${f.version}` === shadows[0]);
    if (!chosen) return undefined;
    for (const f of found) {
      if (f.model === chosen.model && f.version === chosen.version) bySegment.set(f.segment, f);
    }
    return {
      shadow: { model: chosen.model, version: chosen.version },
      series: [...bySegment.values()].sort((a, b) => a.segment.localeCompare(b.segment)),
    };
  }

  /** Dimension sets of every series of `metricName` matching `filter`, active in the last 3 h. */
  private async listMetrics(metricName: string, filter: Dimension[]): Promise<Dimension[][]> {
    const found: Dimension[][] = [];
    let nextToken: string | undefined;
    do {
      const page: ListMetricsCommandOutput = await this.call('ListMetrics', () =>
        this.client.send(
          new ListMetricsCommand({
            Namespace: METRICS_NAMESPACE,
            MetricName: metricName,
            Dimensions: filter,
            RecentlyActive: 'PT3H',
            NextToken: nextToken,
          }),
        ),
      );
      for (const metric of page.Metrics ?? []) found.push(metric.Dimensions ?? []);
      nextToken = page.NextToken;
    } while (nextToken);
    return found;
  }

  /** Runs the plan's queries in chunks of `maxQueries`, each chunk paged to its end. */
  private async fetch(plan: QueryPlan, window: JudgeWindow): Promise<void> {
    for (let i = 0; i < plan.queries.length; i += this.maxQueries) {
      const chunk = plan.queries.slice(i, i + this.maxQueries);
      let nextToken: string | undefined;
      do {
        const page: GetMetricDataCommandOutput = await this.call('GetMetricData', () =>
          this.client.send(
            new GetMetricDataCommand({
              MetricDataQueries: chunk,
              StartTime: window.start,
              EndTime: window.end,
              ScanBy: 'TimestampAscending',
              NextToken: nextToken,
            }),
          ),
        );
        for (const result of page.MetricDataResults ?? []) {
          if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
            const detail = (result.Messages ?? []).map((m) => `${m.Code}: ${m.Value}`).join('; ');
            throw new CanarySourceError(
              `GetMetricData query ${result.Id} returned ${result.StatusCode}${detail ? ` (${detail})` : ''}`,
            );
          }
          plan.record(result.Id ?? '', result.Timestamps ?? [], result.Values ?? []);
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
  }

  /** One CloudWatch call; any failure becomes a {@link CanarySourceError} that says what failed. */
  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const err = error as Error;
      const throttled = THROTTLED.has(err.name);
      throw new CanarySourceError(
        throttled
          ? `CloudWatch ${operation} throttled (${err.name}) after the SDK's retries: no verdict this run, the next scheduled run tries again`
          : `CloudWatch ${operation} failed: ${err.name}: ${err.message}`,
        { cause: error },
      );
    }
  }
}

/** A version that published nothing: zero counts, so every test is too little data. */
function emptyObservation(
  functionVersion: string,
  scoreEdges: readonly number[],
  features: readonly [string, readonly number[]][],
): VersionObservation {
  const zeros = (edges: readonly number[]) => new Array<number>(edges.length - 1).fill(0);
  return {
    functionVersion,
    modelVersion: UNKNOWN_MODEL_VERSION,
    latencyMinutes: [],
    requestsPerMinute: [],
    requests: 0,
    errors: 0,
    segments: {},
    scoreCounts: zeros(scoreEdges),
    featureCounts: Object.fromEntries(features.map(([name, edges]) => [name, zeros(edges)])),
  };
}
