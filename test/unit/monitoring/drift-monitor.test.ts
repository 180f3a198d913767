import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchHistogramSource } from '#adapters/cloudwatch-histogram-source';
import type { HistogramRequest, HistogramSource } from '#domain/monitoring/drift';
import { createDriftHandler, driftWindow } from '../../../functions/drift-monitor/handler';
import { captureOutput } from '../../support/output';

const card = {
  version: '1.0.0',
  scoreHistogram: { edges: [0, 0.5, 1], counts: [50, 50], fractions: [0.5, 0.5] },
  monitoring: {
    topFeatures: ['has_device'],
    featureHistograms: { has_device: { edges: [0, 0.5, 1], fractions: [0.75, 0.25] } },
  },
};

class FakeSource implements HistogramSource {
  readonly requests: HistogramRequest[] = [];
  constructor(private readonly counts: Record<string, number[]>) {}
  async binCounts(request: HistogramRequest): Promise<number[]> {
    this.requests.push(request);
    return this.counts[request.extraDimension?.value ?? 'score'] ?? [];
  }
}

async function run(source: FakeSource, minSamples = 100) {
  const handler = createDriftHandler({
    source,
    card,
    config: { windowMinutes: 60, lagMinutes: 5, minSamples },
    metrics: new Metrics({
      namespace: 'Test',
      serviceName: 'drift-monitor',
      defaultDimensions: { stage: 'dev' },
    }),
    logger: new Logger({ serviceName: 'drift-monitor' }),
    now: () => Date.parse('2026-12-01T10:02:30Z'),
  });
  return captureOutput(() => handler());
}

describe('drift monitor', () => {
  it('publishes the score and feature PSI against the card over the last whole hour', async () => {
    // prepare: score 80/20 against 50/50 (PSI 0.415888), feature as trained (PSI 0)
    const source = new FakeSource({ score: [800, 200], has_device: [750, 250] });
    // act
    const { result, output } = await run(source);
    // assert
    expect(source.requests[0]).toMatchObject({
      metric: 'Score',
      modelVersion: '1.0.0',
      start: new Date('2026-12-01T08:57:00Z'),
      end: new Date('2026-12-01T09:57:00Z'),
    });
    expect(source.requests[1]).toMatchObject({
      metric: 'FeatureValue',
      extraDimension: { name: 'feature', value: 'has_device' },
    });
    expect(result.score.psi).toBeCloseTo(0.415888, 5);
    expect(result.score.shifted).toBe(true);
    expect(result.features[0]?.psi).toBeCloseTo(0, 9);
    expect(output).toMatch(/"DriftPsiScore":0\.41588/);
    expect(output).toContain('"feature":"has_device"');
    expect(output).toContain('"DriftPsiFeature":0');
    expect(output).toContain('population shifted');
  });

  it('publishes no PSI (only the sample count) when the hour was too quiet', async () => {
    // prepare
    const source = new FakeSource({ score: [30, 20], has_device: [40, 10] });
    // act
    const { result, output } = await run(source, 100);
    // assert
    expect(result.score.psi).toBeUndefined();
    expect(output).toContain('"DriftSamples":50');
    expect(output).not.toContain('DriftPsiScore');
    expect(output).not.toContain('DriftPsiFeature');
  });

  it('aligns the window to whole minutes before the lag', () => {
    // act
    const window = driftWindow(Date.parse('2026-12-01T10:02:59.9Z'), 60, 5);
    // assert
    expect(window.end.toISOString()).toBe('2026-12-01T09:57:00.000Z');
    expect(window.start.toISOString()).toBe('2026-12-01T08:57:00.000Z');
  });
});

describe('CloudWatchHistogramSource', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  afterEach(() => cloudwatch.reset());

  it('sums each bin trimmed count over the exact-set series of every function version', async () => {
    // prepare
    const dims = (version: string, extra: { Name: string; Value: string }[] = []) => [
      { Name: 'service', Value: 'score' },
      { Name: 'stage', Value: 'prod' },
      { Name: 'functionVersion', Value: version },
      { Name: 'modelVersion', Value: '1.0.0' },
      ...extra,
    ];
    cloudwatch.on(ListMetricsCommand).resolves({
      Metrics: [
        { MetricName: 'Score', Dimensions: dims('7') },
        { MetricName: 'Score', Dimensions: dims('8') },
        { MetricName: 'Score', Dimensions: dims('8', [{ Name: 'segment', Value: 'x' }]) },
      ],
    });
    cloudwatch.on(GetMetricDataCommand).callsFake((input) => ({
      MetricDataResults: input.MetricDataQueries.map((q: { Id: string }) => ({
        Id: q.Id,
        Values: [q.Id.endsWith('b0') ? 10 : 3],
      })),
    }));
    const source = new CloudWatchHistogramSource(new CloudWatchClient({ region: 'us-east-1' }), 'prod');
    // act
    const counts = await source.binCounts({
      metric: 'Score',
      modelVersion: '1.0.0',
      edges: [0, 0.2, 1],
      start: new Date('2026-12-01T09:00:00Z'),
      end: new Date('2026-12-01T10:00:00Z'),
    });
    // assert
    expect(counts).toEqual([20, 6]);
    const list = cloudwatch.commandCalls(ListMetricsCommand)[0]?.args[0].input;
    expect(list).toMatchObject({ Namespace: 'FraudScoring', MetricName: 'Score', RecentlyActive: 'PT3H' });
    const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries ?? [];
    expect(queries.map((q) => q.MetricStat?.Stat)).toEqual(['TC(:0.2)', 'TC(0.2:)', 'TC(:0.2)', 'TC(0.2:)']);
    expect(queries.every((q) => q.MetricStat?.Period === 3600)).toBe(true);
  });

  it('gives zero counts when no series was active', async () => {
    // prepare
    cloudwatch.on(ListMetricsCommand).resolves({ Metrics: [] });
    const source = new CloudWatchHistogramSource(new CloudWatchClient({ region: 'us-east-1' }), 'prod');
    // act
    const counts = await source.binCounts({
      metric: 'Score',
      modelVersion: '1.0.0',
      edges: [0, 0.5, 1],
      start: new Date(0),
      end: new Date(3_600_000),
    });
    // assert
    expect(counts).toEqual([0, 0]);
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});
