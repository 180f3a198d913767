/**
 * The CloudWatch adapter of the canary judge against a fake CloudWatch (aws-sdk-client-mock):
 * a small metric store that answers `ListMetrics` and `GetMetricData` the way the service does
 * (exact dimension match, one point per minute with data, pages with `NextToken`).
 */
import {
  CloudWatchClient,
  type Dimension,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  ListMetricsCommand,
  type ListMetricsCommandInput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import {
  CloudWatchJudgeSource,
  type JudgeCard,
  UNKNOWN_MODEL_VERSION,
} from '#adapters/cloudwatch-judge-source';
import { CanarySourceError } from '#domain/errors';
import { trimmedCountStatistics } from '#domain/monitoring/drift';
import { SEGMENT_KEYS } from '#domain/segment';

const cloudWatch = mockClient(CloudWatchClient);
const STAGE = 'prod';
const WINDOW = { start: new Date('2026-12-01T10:00:00Z'), end: new Date('2026-12-01T10:10:00Z') };
const MINUTE = 60_000;

const CARD: JudgeCard = {
  name: 'fraud-gbdt',
  version: '2.0.0',
  scoreHistogram: { edges: [0, 0.1, 0.5, 1], counts: [900, 80, 20], fractions: [0.9, 0.08, 0.02] },
  monitoring: {
    topFeatures: ['amount_ratio', 'has_device'],
    featureHistograms: {
      amount_ratio: { edges: [0, 1, 2, 5], fractions: [0.5, 0.3, 0.2] },
      has_device: { edges: [0, 0.5, 1], fractions: [0.4, 0.6] },
    },
  },
};

/** One stored series: its dimensions and, per statistic, values by minute offset. */
interface Series {
  metric: string;
  dims: Record<string, string>;
  stats: Record<string, Record<number, number>>;
}

/** A fake CloudWatch: exact-dimension matching, optional paging, optional per-call failures. */
class FakeCloudWatch {
  series: Series[] = [];
  /** Results per GetMetricData page (paging when fewer than the queries of a call). */
  resultsPerPage = Number.POSITIVE_INFINITY;
  /** Points per result per page (a query's points spread over pages). */
  pointsPerPage = Number.POSITIVE_INFINITY;
  calls: GetMetricDataCommandInput[] = [];

  add(metric: string, dims: Record<string, string>, stats: Record<string, Record<number, number>>): void {
    this.series.push({ metric, dims, stats });
  }

  list(input: ListMetricsCommandInput) {
    const filter = input.Dimensions ?? [];
    const metrics = this.series
      .filter((s) => s.metric === input.MetricName)
      .filter((s) => filter.every((d) => s.dims[d.Name as string] === d.Value))
      .map((s) => ({
        Namespace: input.Namespace,
        MetricName: s.metric,
        Dimensions: Object.entries(s.dims).map(([Name, Value]) => ({ Name, Value })),
      }));
    const seen = new Set<string>();
    return {
      Metrics: metrics.filter((m) => {
        const key = JSON.stringify(m.Dimensions);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      }),
    };
  }

  /** Every (query, point) of a call, in order, then cut into pages by the paging settings. */
  get(input: GetMetricDataCommandInput): GetMetricDataCommandOutput {
    this.calls.push(input);
    const all: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
      const stat = q.MetricStat;
      const dims = Object.fromEntries((stat?.Metric?.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const match = this.series.find(
        (s) =>
          s.metric === stat?.Metric?.MetricName &&
          Object.keys(s.dims).length === Object.keys(dims).length &&
          Object.entries(s.dims).every(([k, v]) => dims[k] === v),
      );
      const byMinute = match?.stats[stat?.Stat ?? ''] ?? {};
      const minutes = Object.keys(byMinute)
        .map(Number)
        .sort((a, b) => a - b);
      return {
        Id: q.Id,
        Timestamps: minutes.map((m) => new Date(WINDOW.start.getTime() + m * MINUTE)),
        Values: minutes.map((m) => byMinute[m] as number),
        StatusCode: 'Complete',
      };
    });
    // Cursor: "result index:point index" of where this page starts.
    const [r0, p0] = (input.NextToken ?? '0:0').split(':').map(Number) as [number, number];
    const page: MetricDataResult[] = [];
    let r = r0;
    let p = p0;
    while (r < all.length && page.length < this.resultsPerPage) {
      const result = all[r] as MetricDataResult;
      const n = result.Values?.length ?? 0;
      const take = Math.min(this.pointsPerPage, n - p);
      page.push({
        ...result,
        Timestamps: result.Timestamps?.slice(p, p + take),
        Values: result.Values?.slice(p, p + take),
      });
      p += take;
      if (p >= n) {
        r += 1;
        p = 0;
      } else break;
    }
    return {
      MetricDataResults: page,
      NextToken: r < all.length ? `${r}:${p}` : undefined,
      $metadata: {},
    };
  }
}

const scoreDims = (functionVersion: string, modelVersion: string) => ({
  service: 'score',
  stage: STAGE,
  functionVersion,
  modelVersion,
});

/** Stores a healthy version: `scale` × the canary's traffic, spread over ten minutes. */
function storeVersion(
  fake: FakeCloudWatch,
  functionVersion: string,
  modelVersion: string,
  scale: number,
  options: { segments?: string[]; latencyShift?: number } = {},
): void {
  const dims = scoreDims(functionVersion, modelVersion);
  const perMinute = (value: number) => Object.fromEntries(Array.from({ length: 10 }, (_, m) => [m, value]));
  fake.add('Requests', dims, { Sum: perMinute(100 * scale) });
  fake.add('Errors', dims, { Sum: { 0: 1 * scale, 5: 2 * scale } });
  fake.add('LatencyTotal', dims, {
    p99: Object.fromEntries(Array.from({ length: 10 }, (_, m) => [m, 40 + m + (options.latencyShift ?? 0)])),
    SampleCount: perMinute(100 * scale),
  });
  const scoreStats = trimmedCountStatistics(CARD.scoreHistogram.edges);
  fake.add('Score', dims, {
    [scoreStats[0] as string]: { 0: 800 * scale, 1: 100 * scale },
    [scoreStats[1] as string]: { 3: 80 * scale },
    [scoreStats[2] as string]: { 4: 20 * scale },
  });
  for (const segment of options.segments ?? ['ecommerce.mid.known', 'moto.high.new']) {
    fake.add(
      'SegmentDecision',
      { ...dims, segment },
      {
        SampleCount: { 0: 300 * scale, 1: 200 * scale },
        'TC(0.5:1.5)': { 1: 25 * scale },
        'TC(1.5:2.5)': { 0: 10 * scale, 2: 5 * scale },
      },
    );
  }
  const ratioStats = trimmedCountStatistics([0, 1, 2, 5]);
  fake.add(
    'FeatureValue',
    { ...dims, feature: 'amount_ratio' },
    {
      [ratioStats[0] as string]: { 0: 500 * scale },
      [ratioStats[1] as string]: { 0: 300 * scale },
      [ratioStats[2] as string]: { 0: 200 * scale },
    },
  );
}

function wire(fake: FakeCloudWatch): void {
  cloudWatch.reset();
  cloudWatch.on(ListMetricsCommand).callsFake((input: ListMetricsCommandInput) => fake.list(input));
  cloudWatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => fake.get(input));
}

const source = (maxQueriesPerCall?: number) =>
  new CloudWatchJudgeSource(new CloudWatchClient({ region: 'eu-west-1' }), {
    stage: STAGE,
    card: CARD,
    maxQueriesPerCall,
  });

afterAll(() => cloudWatch.restore());

describe('CloudWatchJudgeSource', () => {
  it('reads per-version totals, per-minute latency, segments and histograms from the series', async () => {
    // prepare
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9);
    storeVersion(fake, '42', '2.0.0', 1);
    wire(fake);
    // act
    const input = await source().read(WINDOW, '41', '42');
    // assert
    expect(input.baseline).toMatchObject({
      functionVersion: '41',
      modelVersion: '1.0.0',
      requests: 9000,
      errors: 27,
    });
    expect(input.canary).toEqual({
      functionVersion: '42',
      // the canary serves the card's version: the card names its model
      modelName: 'fraud-gbdt',
      modelVersion: '2.0.0',
      latencyMinutes: [40, 41, 42, 43, 44, 45, 46, 47, 48, 49],
      requestsPerMinute: new Array(10).fill(100),
      requests: 1000,
      errors: 3,
      segments: {
        'ecommerce.mid.known': { answers: 500, reviews: 25, declines: 15 },
        'moto.high.new': { answers: 500, reviews: 25, declines: 15 },
      },
      scoreCounts: [900, 80, 20],
      featureCounts: { amount_ratio: [500, 300, 200], has_device: [0, 0] },
    });
    expect(input.scoreEdges).toEqual(CARD.scoreHistogram.edges);
    expect(input.featureEdges).toEqual({ amount_ratio: [0, 1, 2, 5], has_device: [0, 0.5, 1] });
    // The canary serves the card's model and the baseline another: the card is its reference.
    expect(input.canaryCard).toEqual({ counts: [900, 80, 20] });
    expect(input.paired).toBeUndefined();
  });

  it('gives no card reference to a code-only change (both versions serve the same model)', async () => {
    // prepare
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '2.0.0', 9);
    storeVersion(fake, '42', '2.0.0', 1);
    wire(fake);
    // act
    const input = await source().read(WINDOW, '41', '42');
    // assert
    expect(input.canaryCard).toBeUndefined();
    expect(input.baseline.modelVersion).toBe(input.canary.modelVersion);
  });

  it('asks for one-minute MetricStats with the exact score dimension set and the right statistics', async () => {
    // prepare
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9);
    storeVersion(fake, '42', '2.0.0', 1);
    wire(fake);
    // act
    await source().read(WINDOW, '41', '42');
    // assert
    const queries = fake.calls.flatMap((c) => c.MetricDataQueries ?? []);
    const features = 3 + 2; // bins of amount_ratio and has_device
    const perVersion = 4 + 3 + SEGMENT_KEYS.length * 3 + features;
    expect(queries).toHaveLength(2 * perVersion);
    expect(new Set(queries.map((q) => q.Id)).size).toBe(queries.length);
    for (const call of fake.calls) {
      expect(call.StartTime).toEqual(WINDOW.start);
      expect(call.EndTime).toEqual(WINDOW.end);
    }
    for (const q of queries) {
      expect(q.Id).toMatch(/^[a-z][A-Za-z0-9_]*$/);
      expect(q.MetricStat?.Period).toBe(60);
      expect(q.MetricStat?.Metric?.Namespace).toBe('FraudScoring');
      const names = (q.MetricStat?.Metric?.Dimensions ?? []).map((d: Dimension) => d.Name).sort();
      const extra = names.filter(
        (n) => !['functionVersion', 'modelVersion', 'service', 'stage'].includes(n as string),
      );
      expect(names.length - extra.length).toBe(4);
      expect(extra.length).toBeLessThanOrEqual(1);
    }
    const statsOf = (metric: string) =>
      new Set(
        queries.filter((q) => q.MetricStat?.Metric?.MetricName === metric).map((q) => q.MetricStat?.Stat),
      );
    expect(statsOf('SegmentDecision')).toEqual(new Set(['SampleCount', 'TC(0.5:1.5)', 'TC(1.5:2.5)']));
    expect(statsOf('Score')).toEqual(new Set(['TC(:0.1)', 'TC(0.1:0.5)', 'TC(0.5:)']));
    expect(statsOf('LatencyTotal')).toEqual(new Set(['p99', 'SampleCount']));
    expect(statsOf('Requests')).toEqual(new Set(['Sum']));
    expect(statsOf('Errors')).toEqual(new Set(['Sum']));
  });

  it('reads zero counts for series with no data and an unknown model for a version without traffic', async () => {
    // prepare: the canary has published nothing yet; the baseline has one segment only.
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9, { segments: ['ecommerce.mid.known'] });
    wire(fake);
    // act
    const input = await source().read(WINDOW, '41', '42');
    // assert
    expect(input.canary).toEqual({
      functionVersion: '42',
      modelVersion: UNKNOWN_MODEL_VERSION,
      latencyMinutes: [],
      requestsPerMinute: [],
      requests: 0,
      errors: 0,
      segments: {},
      scoreCounts: [0, 0, 0],
      featureCounts: { amount_ratio: [0, 0, 0], has_device: [0, 0] },
    });
    expect(Object.keys(input.baseline.segments)).toEqual(['ecommerce.mid.known']);
    expect(input.baseline.featureCounts.has_device).toEqual([0, 0]);
    // Nothing is asked for a version whose model is unknown.
    const asked = fake.calls.flatMap((c) => c.MetricDataQueries ?? []);
    expect(
      asked.every((q) =>
        q.MetricStat?.Metric?.Dimensions?.some((d) => d.Name === 'functionVersion' && d.Value === '41'),
      ),
    ).toBe(true);
  });

  it('pages with NextToken and adds a query’s points spread over several pages', async () => {
    // prepare
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9);
    storeVersion(fake, '42', '2.0.0', 1);
    wire(fake);
    const whole = await source().read(WINDOW, '41', '42');
    fake.calls = [];
    fake.resultsPerPage = 7;
    fake.pointsPerPage = 3;
    // act
    const paged = await source().read(WINDOW, '41', '42');
    // assert
    expect(fake.calls.length).toBeGreaterThan(20);
    expect(fake.calls.slice(1).every((c) => c.NextToken !== undefined)).toBe(true);
    expect(paged).toEqual(whole);
  });

  it('splits the queries into calls of at most 500 (or the configured chunk) with the same result', async () => {
    // prepare
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9);
    storeVersion(fake, '42', '2.0.0', 1);
    wire(fake);
    const whole = await source().read(WINDOW, '41', '42');
    const total = fake.calls.flatMap((c) => c.MetricDataQueries ?? []).length;
    fake.calls = [];
    // act
    const chunked = await source(40).read(WINDOW, '41', '42');
    // assert
    expect(fake.calls).toHaveLength(Math.ceil(total / 40));
    expect(fake.calls.every((c) => (c.MetricDataQueries ?? []).length <= 40)).toBe(true);
    expect(chunked).toEqual(whole);
  });

  it('fills the paired cells from the baseline’s ShadowSegmentDecision, choosing the shadow that runs the canary’s model', async () => {
    // prepare
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9);
    storeVersion(fake, '42', '2.0.0', 1);
    const dims = scoreDims('41', '1.0.0');
    for (const [shadowVersion, base] of [
      ['1.5.0', 1000],
      ['2.0.0', 10],
    ] as const) {
      for (const segment of SEGMENT_KEYS) {
        const stats = Object.fromEntries(
          Array.from({ length: 9 }, (_, k) => [`TC(${k - 0.5}:${k + 0.5})`, { 0: base + k, 4: 1 }]),
        );
        fake.add(
          'ShadowSegmentDecision',
          { ...dims, shadowModel: 'fraud-gbdt', shadowVersion, segment },
          stats,
        );
      }
    }
    wire(fake);
    // act
    const input = await source().read(WINDOW, '41', '42');
    // assert
    expect(input.paired?.shadow).toEqual({ model: 'fraud-gbdt', version: '2.0.0' });
    expect(Object.keys(input.paired?.segments ?? {}).sort()).toEqual([...SEGMENT_KEYS].sort());
    expect(input.paired?.segments['ecommerce.mid.known']).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19]);
    // 2 × the plain queries (7 + 24 × 3 + 5 feature bins) + 24 × 9 paired cells.
    const queries = fake.calls.flatMap((c) => c.MetricDataQueries ?? []);
    expect(queries).toHaveLength(2 * (7 + SEGMENT_KEYS.length * 3 + 5) + SEGMENT_KEYS.length * 9);
    expect(queries.filter((q) => q.MetricStat?.Metric?.MetricName === 'ShadowSegmentDecision')).toHaveLength(
      SEGMENT_KEYS.length * 9,
    );
  });

  it('does not take a neural shadow with the same version string for the tree canary', async () => {
    // prepare: the baseline runs two shadows at version 2.0.0, fraud-seq (first in sort order) and fraud-gbdt
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9);
    storeVersion(fake, '42', '2.0.0', 1);
    const dims = scoreDims('41', '1.0.0');
    for (const [shadowModel, base] of [
      ['fraud-seq', 500],
      ['fraud-gbdt', 10],
    ] as const) {
      for (const segment of SEGMENT_KEYS) {
        const stats = Object.fromEntries(
          Array.from({ length: 9 }, (_, k) => [`TC(${k - 0.5}:${k + 0.5})`, { 0: base + k }]),
        );
        fake.add('ShadowSegmentDecision', { ...dims, shadowModel, shadowVersion: '2.0.0', segment }, stats);
      }
    }
    wire(fake);
    // act
    const input = await source().read(WINDOW, '41', '42');
    // assert
    expect(input.canary.modelName).toBe('fraud-gbdt');
    expect(input.paired?.shadow).toEqual({ model: 'fraud-gbdt', version: '2.0.0' });
    expect(input.paired?.segments['ecommerce.mid.known']).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18]);
  });

  it('turns a throttled GetMetricData into a CanarySourceError that says so', async () => {
    // prepare
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9);
    wire(fake);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    cloudWatch.on(GetMetricDataCommand).rejects(throttled);
    // act
    const read = source().read(WINDOW, '41', '42');
    // assert
    await expect(read).rejects.toThrow(CanarySourceError);
    await expect(source().read(WINDOW, '41', '42')).rejects.toThrow(
      /GetMetricData throttled \(ThrottlingException\)/,
    );
  });

  it('fails clearly on a refused ListMetrics, a Forbidden query, and a version under two models', async () => {
    // prepare
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9);
    wire(fake);
    cloudWatch
      .on(ListMetricsCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    // act / assert
    await expect(source().read(WINDOW, '41', '42')).rejects.toThrow(
      /CloudWatch ListMetrics failed: AccessDenied: not authorized/,
    );

    wire(fake);
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'q0', StatusCode: 'Forbidden', Messages: [{ Code: 'Forbidden', Value: 'no access' }] },
      ],
    });
    await expect(source().read(WINDOW, '41', '42')).rejects.toThrow(
      /q0 returned Forbidden \(Forbidden: no access\)/,
    );

    storeVersion(fake, '41', '1.1.0', 9);
    wire(fake);
    await expect(source().read(WINDOW, '41', '42')).rejects.toThrow(
      /several model versions \(1.0.0, 1.1.0\)/,
    );
  });

  it('rejects a chunk size CloudWatch would refuse', () => {
    // act / assert
    expect(() => source(0)).toThrow(RangeError);
    expect(() => source(501)).toThrow(RangeError);
  });

  it('for any paging, returns what one unpaged call returns', async () => {
    // prepare
    const fake = new FakeCloudWatch();
    storeVersion(fake, '41', '1.0.0', 9);
    storeVersion(fake, '42', '2.0.0', 1);
    wire(fake);
    const whole = await source().read(WINDOW, '41', '42');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 500 }),
        async (results, points, chunk) => {
          fake.resultsPerPage = results;
          fake.pointsPerPage = points;
          // act
          const paged = await source(chunk).read(WINDOW, '41', '42');
          // assert
          expect(paged).toEqual(whole);
        },
      ),
      { numRuns: 15 },
    );
  });
});
