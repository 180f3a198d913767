/**
 * The canary judge as `index.ts` wires it — real SDK clients, the real model card, the real
 * judge — against a fake Lambda and CloudWatch on 127.0.0.1 (`AWS_ENDPOINT_URL_*`), so the
 * requests go through the SDK's own serialization (CloudWatch's JSON protocol). Identical
 * versions pass; a canary 30 % slower fails; both publish the verdict as EMF.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { judgeConfig } from '#domain/judge/config';
import { trimmedCountStatistics } from '#domain/monitoring/drift';
import { createCanaryJudge } from '../../functions/canary-judge/index';

const CARD_PATH = join(__dirname, '..', '..', 'models', 'fraud-gbdt', '1.0.0', 'model.json');
const card = JSON.parse(readFileSync(CARD_PATH, 'utf8')) as {
  version: string;
  scoreHistogram: { edges: number[]; fractions: number[] };
  monitoring: {
    topFeatures: string[];
    featureHistograms: Record<string, { edges: number[]; fractions: number[] }>;
  };
};
const START = Date.parse('2026-12-01T10:00:00Z');

interface Scenario {
  routing: { FunctionVersion: string; RoutingConfig?: { AdditionalVersionWeights: Record<string, number> } };
  /** Multiplies the canary's per-minute p99. */
  canarySlowdown: number;
}

/** Requests per minute of each version (10 % canary). */
const PER_MINUTE: Record<string, number> = { '41': 2700, '42': 300 };

/** The value a one-minute query has in `minute` for `version` (deterministic, proportional to traffic). */
function value(
  scenario: Scenario,
  metric: string,
  stat: string,
  dims: Record<string, string>,
  minute: number,
) {
  const version = dims.functionVersion as string;
  const r = PER_MINUTE[version] ?? 0;
  const latency = (40 + ((minute * 7) % 5)) * (version === '42' ? scenario.canarySlowdown : 1);
  const bins = (edges: number[], fractions: number[]) => {
    const i = trimmedCountStatistics(edges).indexOf(stat);
    return i < 0 ? undefined : Math.round((fractions[i] ?? 0) * r);
  };
  switch (metric) {
    case 'Requests':
      return r;
    case 'Errors':
      return r / 1000;
    case 'LatencyTotal':
      return stat === 'p99' ? latency : r;
    case 'Score':
      return bins(card.scoreHistogram.edges, card.scoreHistogram.fractions);
    case 'SegmentDecision':
      if (dims.segment !== 'ecommerce.mid.known') return undefined;
      return { SampleCount: r, 'TC(0.5:1.5)': r / 10, 'TC(1.5:2.5)': (3 * r) / 100 }[stat];
    case 'FeatureValue': {
      const histogram = card.monitoring.featureHistograms[dims.feature ?? ''];
      return histogram ? bins(histogram.edges, histogram.fractions) : undefined;
    }
    default:
      return undefined;
  }
}

interface FakeAws {
  server: Server;
  scenario: Scenario;
  targets: string[];
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => resolve(text));
  });
}

/** Lambda (REST JSON) and CloudWatch (JSON 1.0, `X-Amz-Target`) on one local port. */
function fakeAws(): Promise<FakeAws> {
  const fake = { scenario: { routing: { FunctionVersion: '41' }, canarySlowdown: 1 }, targets: [] } as Omit<
    FakeAws,
    'server'
  >;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const text = await body(req);
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    const target = String(req.headers['x-amz-target'] ?? '');
    fake.targets.push(target || `${req.method} ${req.url}`);
    if (req.url?.startsWith('/2015-03-31/functions/fraud-score/aliases/live')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ Name: 'live', ...fake.scenario.routing }));
      return;
    }
    const input = JSON.parse(text || '{}');
    if (target.endsWith('.ListMetrics')) {
      const filter = Object.fromEntries(
        (input.Dimensions ?? []).map((d: { Name: string; Value: string }) => [d.Name, d.Value]),
      );
      const version = filter.functionVersion as string;
      const metrics =
        input.MetricName === 'Requests' && PER_MINUTE[version]
          ? [
              {
                Namespace: 'FraudScoring',
                MetricName: 'Requests',
                Dimensions: [
                  { Name: 'service', Value: 'score' },
                  { Name: 'stage', Value: 'prod' },
                  { Name: 'functionVersion', Value: version },
                  { Name: 'modelVersion', Value: card.version },
                ],
              },
            ]
          : [];
      res.end(JSON.stringify({ Metrics: metrics }));
      return;
    }
    if (target.endsWith('.GetMetricData')) {
      const start = Number(input.StartTime) * 1000;
      const end = Number(input.EndTime) * 1000;
      const results = input.MetricDataQueries.map(
        (q: {
          Id: string;
          MetricStat: {
            Stat: string;
            Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] };
          };
        }) => {
          const dims = Object.fromEntries(q.MetricStat.Metric.Dimensions.map((d) => [d.Name, d.Value]));
          const timestamps: number[] = [];
          const values: number[] = [];
          for (let t = start; t < end; t += 60_000) {
            const v = value(
              fake.scenario,
              q.MetricStat.Metric.MetricName,
              q.MetricStat.Stat,
              dims,
              (t - START) / 60_000,
            );
            if (v === undefined || v === 0) continue;
            timestamps.push(t / 1000);
            values.push(v);
          }
          return { Id: q.Id, Timestamps: timestamps, Values: values, StatusCode: 'Complete' };
        },
      );
      res.end(JSON.stringify({ MetricDataResults: results }));
      return;
    }
    res.statusCode = 400;
    res.end(JSON.stringify({ __type: 'UnknownOperation', message: target }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(Object.assign(fake, { server }))),
  );
}

describe('canary judge wiring (real SDK clients, fake AWS on 127.0.0.1)', () => {
  let aws: FakeAws;
  let nowMs = START;
  const saved = { ...process.env };
  let emf: Record<string, unknown>[] = [];
  let write: jest.SpyInstance;

  beforeAll(async () => {
    aws = await fakeAws();
    const url = `http://127.0.0.1:${(aws.server.address() as AddressInfo).port}`;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_LAMBDA: url,
      AWS_ENDPOINT_URL_CLOUDWATCH: url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    jest.spyOn(Date, 'now').mockImplementation(() => nowMs);
    write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      for (const line of String(chunk).split('\n'))
        if (line.includes('"_aws"')) emf.push(JSON.parse(line) as Record<string, unknown>);
      return true;
    });
  });
  afterAll(async () => {
    write.mockRestore();
    jest.restoreAllMocks();
    process.env = saved;
    await new Promise((resolve) => aws.server.close(resolve));
  });

  const judge = () =>
    createCanaryJudge({
      stage: 'prod',
      region: 'eu-west-1',
      scoreFunctionName: 'fraud-score',
      scoreAliasName: 'live',
      modelCardPath: CARD_PATH,
      lagMinutes: 1,
      judge: judgeConfig(),
    });

  /** Runs the judge once at 10:00:30 and again ten minutes later (a 10-minute canary window). */
  async function deploy(slowdown: number) {
    emf = [];
    aws.scenario = {
      routing: { FunctionVersion: '41', RoutingConfig: { AdditionalVersionWeights: { '42': 0.1 } } },
      canarySlowdown: slowdown,
    };
    const handler = judge();
    nowMs = START + 90_000;
    await handler();
    nowMs = START + 11 * 60_000 + 30_000;
    return handler();
  }

  it('idles while alias live has no weighted routing', async () => {
    // prepare
    aws.scenario = { routing: { FunctionVersion: '41' }, canarySlowdown: 1 };
    aws.targets.length = 0;
    // act
    const run = await judge()();
    // assert
    expect(run).toEqual({ status: 'idle', baseline: '41' });
    expect(aws.targets).toEqual(['GET /2015-03-31/functions/fraud-score/aliases/live']);
  });

  it('passes identical versions over the canary window and publishes JudgeVerdict 0', async () => {
    // act
    const run = await deploy(1);
    // assert
    if (run.status !== 'judged') throw new Error(`not judged: ${JSON.stringify(run)}`);
    expect(run.window).toEqual({ start: '2026-12-01T10:00:00.000Z', end: '2026-12-01T10:10:00.000Z' });
    expect(run.verdict).toMatchObject({ outcome: 'pass', change: 'code' });
    expect(run.verdict.tests.find((t) => t.test === 'latency')?.samples).toEqual({
      baseline: 10,
      canary: 10,
    });
    expect(emf.at(-1)).toMatchObject({
      JudgeVerdict: 0,
      JudgeInconclusive: 0,
      canaryVersion: '42',
      stage: 'prod',
    });
    expect(aws.targets.filter((t) => t.endsWith('.GetMetricData')).length).toBeGreaterThanOrEqual(2);
  });

  it('fails a canary 30 % slower and publishes JudgeVerdict 1', async () => {
    // act
    const run = await deploy(1.3);
    // assert
    if (run.status !== 'judged') throw new Error('not judged');
    expect(run.verdict.outcome).toBe('fail');
    expect(run.verdict.because.some((b) => b.startsWith('latency:'))).toBe(true);
    expect(emf.at(-1)).toMatchObject({ JudgeVerdict: 1, JudgeInconclusive: 0, canaryVersion: '42' });
  });
});
