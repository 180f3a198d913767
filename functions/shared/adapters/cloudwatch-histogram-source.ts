/**
 * Live histograms from CloudWatch: finds every series of the metric for the model version
 * (one per function version that served it, recently active) with `ListMetrics`, then sums
 * each bin's `TC(lo:hi)` trimmed count over those series with `GetMetricData`. Explicit series
 * instead of a SEARCH expression, so the exact dimension set is checked (a series with more
 * dimensions is never counted twice) and the queries are plain `MetricStat`s.
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  ListMetricsCommand,
  type Metric,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  type HistogramRequest,
  type HistogramSource,
  trimmedCountStatistics,
} from '#domain/monitoring/drift';
import { METRICS_NAMESPACE, MetricDimension, MetricService } from '#shared/metrics-contract';

/** GetMetricData takes at most 500 queries per call. */
const MAX_QUERIES = 500;

export class CloudWatchHistogramSource implements HistogramSource {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly stage: string,
  ) {}

  async binCounts(request: HistogramRequest): Promise<number[]> {
    const statistics = trimmedCountStatistics(request.edges);
    const series = await this.series(request);
    const queries: { query: MetricDataQuery; bin: number }[] = [];
    const period = Math.max(
      60,
      Math.round((request.end.getTime() - request.start.getTime()) / 1000 / 60) * 60,
    );
    series.forEach((metric, s) => {
      statistics.forEach((stat, bin) => {
        queries.push({
          bin,
          query: { Id: `s${s}b${bin}`, MetricStat: { Metric: metric, Period: period, Stat: stat } },
        });
      });
    });
    const counts = new Array<number>(statistics.length).fill(0);
    for (let i = 0; i < queries.length; i += MAX_QUERIES) {
      const chunk = queries.slice(i, i + MAX_QUERIES);
      const binOf = new Map(chunk.map(({ query, bin }) => [query.Id as string, bin]));
      let nextToken: string | undefined;
      do {
        const page = await this.client.send(
          new GetMetricDataCommand({
            MetricDataQueries: chunk.map(({ query }) => query),
            StartTime: request.start,
            EndTime: request.end,
            NextToken: nextToken,
          }),
        );
        for (const result of page.MetricDataResults ?? []) {
          const bin = binOf.get(result.Id ?? '');
          if (bin === undefined) continue;
          const sum = (result.Values ?? []).reduce((a, b) => a + b, 0);
          counts[bin] = (counts[bin] as number) + sum;
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return counts;
  }

  /** The request's series with exactly the score dimension set (+ the extra dimension). */
  private async series(request: HistogramRequest): Promise<Metric[]> {
    const filter = [
      { Name: MetricDimension.Service, Value: MetricService.Score },
      { Name: MetricDimension.Stage, Value: this.stage },
      { Name: MetricDimension.ModelVersion, Value: request.modelVersion },
      ...(request.extraDimension
        ? [{ Name: request.extraDimension.name, Value: request.extraDimension.value }]
        : []),
    ];
    const expected = new Set<string>([
      MetricDimension.Service,
      MetricDimension.Stage,
      MetricDimension.ModelVersion,
      MetricDimension.FunctionVersion,
      ...(request.extraDimension ? [request.extraDimension.name] : []),
    ]);
    const found: Metric[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListMetricsCommand({
          Namespace: METRICS_NAMESPACE,
          MetricName: request.metric,
          Dimensions: filter,
          RecentlyActive: 'PT3H',
          NextToken: nextToken,
        }),
      );
      for (const metric of page.Metrics ?? []) {
        const names = (metric.Dimensions ?? []).map((d) => d.Name ?? '');
        if (names.length === expected.size && names.every((name) => expected.has(name))) found.push(metric);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return found;
  }
}
