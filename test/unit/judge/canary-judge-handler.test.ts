/**
 * The canary judge function: idles without weighted routing, judges the canary with a fake
 * series source, keeps the window's start across runs of one deployment, publishes the verdict
 * metrics as EMF and logs the report in one line. Also the alias reader and the config loader.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { aliasRouting, LambdaAliasRouting } from '#adapters/lambda-alias-routing';
import { AliasRoutingError, CanarySourceError, ConfigError } from '#domain/errors';
import { DEFAULT_JUDGE_CONFIG } from '#domain/judge/config';
import type { AliasRouting, CanarySeriesSource, JudgeWindow } from '#domain/judge/ports';
import type { JudgeInput, VersionObservation } from '#domain/judge/types';
import { loadCanaryJudgeConfig } from '../../../functions/canary-judge/config';
import { createCanaryJudgeHandler, judgeWindow } from '../../../functions/canary-judge/handler';

const T0 = Date.parse('2026-12-01T10:00:30Z');
const MINUTE = 60_000;

/** A healthy version; `scale` multiplies every count (the baseline sees 9× the canary's traffic). */
function version(functionVersion: string, scale: number, overrides: Partial<VersionObservation> = {}) {
  return {
    functionVersion,
    modelVersion: '1.0.0',
    latencyMinutes: [40, 42, 41, 43, 40, 44, 41, 42, 40, 43],
    requestsPerMinute: new Array(10).fill(300 * scale),
    requests: 3000 * scale,
    errors: 3 * scale,
    segments: {
      'ecommerce.mid.known': { answers: 3000 * scale, reviews: 300 * scale, declines: 90 * scale },
    },
    scoreCounts: [2600 * scale, 250 * scale, 70 * scale, 80 * scale],
    featureCounts: { amount_ratio: [900 * scale, 1800 * scale, 300 * scale] },
    ...overrides,
  } satisfies VersionObservation;
}

/** A source that serves one canary shape and records each read. */
class FakeSource implements CanarySeriesSource {
  reads: { window: JudgeWindow; baseline: string; canary: string }[] = [];
  constructor(private readonly canary: Partial<VersionObservation> = {}) {}
  async read(window: JudgeWindow, baseline: string, canary: string): Promise<JudgeInput> {
    this.reads.push({ window, baseline, canary });
    return {
      baseline: version(baseline, 9),
      canary: version(canary, 1, this.canary),
      scoreEdges: [0, 0.1, 0.5, 0.9, 1],
      featureEdges: { amount_ratio: [0, 1, 2, 5] },
    };
  }
}

class FakeAlias {
  constructor(public current: AliasRouting) {}
  async routing(): Promise<AliasRouting> {
    return this.current;
  }
}

/** Captures what Powertools writes (EMF blobs and log lines) as parsed JSON. */
function captureStdout(): { lines: Record<string, unknown>[]; restore: () => void } {
  const lines: Record<string, unknown>[] = [];
  const spies = [jest.spyOn(console, 'log'), jest.spyOn(console, 'info'), jest.spyOn(console, 'warn')];
  for (const spy of spies)
    spy.mockImplementation((line: unknown) => {
      if (typeof line === 'string' && line.startsWith('{')) lines.push(JSON.parse(line));
    });
  const writes = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      for (const part of String(chunk).split('\n')) if (part.startsWith('{')) lines.push(JSON.parse(part));
      return true;
    }),
  );
  return {
    lines,
    restore: () => {
      for (const spy of [...spies, ...writes]) spy.mockRestore();
    },
  };
}

function setup(routing: AliasRouting, canary: Partial<VersionObservation> = {}) {
  const alias = new FakeAlias(routing);
  const source = new FakeSource(canary);
  let nowMs = T0;
  const metrics = new Metrics({
    namespace: 'FraudScoring',
    serviceName: 'canary-judge',
    defaultDimensions: { stage: 'prod' },
  });
  const logger = new Logger({ serviceName: 'canary-judge', logLevel: 'INFO' });
  const handler = createCanaryJudgeHandler({
    alias,
    source,
    judge: DEFAULT_JUDGE_CONFIG,
    lagMinutes: 1,
    metrics,
    logger,
    now: () => nowMs,
  });
  return { alias, source, handler, advance: (ms: number) => (nowMs += ms) };
}

/** The EMF blobs among captured lines: metric name → value, with the blob's dimensions. */
function emf(lines: Record<string, unknown>[]) {
  return lines
    .filter((l) => l._aws !== undefined)
    .map((l) => {
      const aws = l._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      const names = aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name) ?? [];
      return {
        dimensions: aws.CloudWatchMetrics[0]?.Dimensions[0] ?? [],
        values: Object.fromEntries(names.map((n) => [n, l[n]])),
        line: l,
      };
    });
}

describe('canary judge handler', () => {
  let captured: ReturnType<typeof captureStdout>;
  beforeEach(() => {
    captured = captureStdout();
  });
  afterEach(() => captured.restore());

  it('idles without weighted routing: logs idle, reads nothing, publishes nothing', async () => {
    // prepare
    const { handler, source } = setup({ baseline: '41' });
    // act
    const run = await handler();
    // assert
    expect(run).toEqual({ status: 'idle', baseline: '41' });
    expect(source.reads).toHaveLength(0);
    expect(emf(captured.lines)).toHaveLength(0);
    expect(captured.lines.some((l) => l.message === 'idle' && l.baseline === '41')).toBe(true);
  });

  it('passes an identical canary and publishes JudgeVerdict 0 and JudgeInconclusive 0 for its version', async () => {
    // prepare
    const { handler, source } = setup({ baseline: '41', canary: { version: '42', weight: 0.1 } });
    // act
    const run = await handler();
    // assert
    expect(run.status).toBe('judged');
    if (run.status !== 'judged') throw new Error('not judged');
    expect(run.verdict.outcome).toBe('pass');
    expect(source.reads[0]).toMatchObject({ baseline: '41', canary: '42' });
    const [blob] = emf(captured.lines);
    expect(blob?.values).toEqual({ JudgeVerdict: 0, JudgeInconclusive: 0 });
    expect(blob?.dimensions.sort()).toEqual(['canaryVersion', 'service', 'stage']);
    expect(blob?.line).toMatchObject({ canaryVersion: '42', service: 'canary-judge', stage: 'prod' });
    const report = captured.lines.find((l) => l.message === 'canary judge verdict');
    expect(report).toMatchObject({
      outcome: 'pass',
      baselineVersion: '41',
      canaryVersion: '42',
      weight: 0.1,
    });
    expect((report?.report as { tests: unknown[] } | undefined)?.tests.length).toBeGreaterThan(5);
  });

  it('fails a slower canary: JudgeVerdict 1, and the report line says which test failed', async () => {
    // prepare: p99 +30 % in every minute.
    const slow = version('42', 1).latencyMinutes.map((ms) => ms * 1.3);
    const { handler } = setup(
      { baseline: '41', canary: { version: '42', weight: 0.1 } },
      { latencyMinutes: slow },
    );
    // act
    const run = await handler();
    // assert
    if (run.status !== 'judged') throw new Error('not judged');
    expect(run.verdict.outcome).toBe('fail');
    expect(emf(captured.lines)[0]?.values).toEqual({ JudgeVerdict: 1, JudgeInconclusive: 0 });
    const report = captured.lines.find((l) => l.message === 'canary judge verdict');
    expect(report?.level).toBe('WARN');
    expect(((report?.because ?? []) as string[]).some((b) => b.startsWith('latency:'))).toBe(true);
  });

  it('calls a canary with too little traffic inconclusive: JudgeInconclusive 1, JudgeVerdict 0', async () => {
    // prepare
    const { handler } = setup(
      { baseline: '41', canary: { version: '42', weight: 0.1 } },
      {
        latencyMinutes: [40, 41],
        requestsPerMinute: [3, 3],
        requests: 6,
        errors: 0,
        segments: { 'ecommerce.mid.known': { answers: 6, reviews: 1, declines: 0 } },
        scoreCounts: [5, 1, 0, 0],
        featureCounts: { amount_ratio: [2, 3, 1] },
      },
    );
    // act
    const run = await handler();
    // assert
    if (run.status !== 'judged') throw new Error('not judged');
    expect(run.verdict.outcome).toBe('inconclusive');
    expect(emf(captured.lines)[0]?.values).toEqual({ JudgeVerdict: 0, JudgeInconclusive: 1 });
  });

  it('keeps the window start of one deployment across runs and restarts it for the next canary', async () => {
    // prepare
    const { handler, source, alias, advance } = setup({
      baseline: '41',
      canary: { version: '42', weight: 0.1 },
    });
    // act
    await handler();
    advance(5 * MINUTE);
    await handler();
    alias.current = { baseline: '42' };
    advance(MINUTE);
    await handler();
    alias.current = { baseline: '42', canary: { version: '43', weight: 0.1 } };
    advance(MINUTE);
    await handler();
    // assert
    const windows = source.reads.map((r) => [
      r.canary,
      r.window.start.toISOString(),
      r.window.end.toISOString(),
    ]);
    expect(windows).toEqual([
      ['42', '2026-12-01T09:59:00.000Z', '2026-12-01T10:00:00.000Z'],
      ['42', '2026-12-01T09:59:00.000Z', '2026-12-01T10:04:00.000Z'],
      ['43', '2026-12-01T10:06:00.000Z', '2026-12-01T10:07:00.000Z'],
    ]);
  });

  it('publishes nothing and throws when the source cannot read (the alarm then sees missing data)', async () => {
    // prepare
    const { handler, source } = setup({ baseline: '41', canary: { version: '42', weight: 0.1 } });
    source.read = async () => {
      throw new CanarySourceError('CloudWatch GetMetricData throttled');
    };
    // act
    const run = handler();
    // assert
    await expect(run).rejects.toThrow(CanarySourceError);
    expect(emf(captured.lines)).toHaveLength(0);
  });
});

describe('judgeWindow', () => {
  it('starts a minute before the first sighting and ends lag minutes before now, whole minutes', () => {
    // act
    const window = judgeWindow(T0, T0 + 10 * MINUTE + 5_000, 2);
    // assert
    expect(window.start.toISOString()).toBe('2026-12-01T09:59:00.000Z');
    expect(window.end.toISOString()).toBe('2026-12-01T10:08:00.000Z');
  });

  it('is never empty, even on the first run', () => {
    // act
    const window = judgeWindow(T0, T0, 5);
    // assert
    expect(window.end.getTime() - window.start.getTime()).toBe(MINUTE);
  });
});

describe('alias routing', () => {
  const lambda = mockClient(LambdaClient);
  afterAll(() => lambda.restore());

  it('reads the baseline and the weighted canary from GetAlias of the configured alias', async () => {
    // prepare
    lambda.reset();
    lambda.on(GetAliasCommand).resolves({
      FunctionVersion: '41',
      RoutingConfig: { AdditionalVersionWeights: { '42': 0.1 } },
    });
    // act
    const routing = await new LambdaAliasRouting(new LambdaClient({}), 'fraud-score', 'live').routing();
    // assert
    expect(routing).toEqual({ baseline: '41', canary: { version: '42', weight: 0.1 } });
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: 'fraud-score',
      Name: 'live',
    });
  });

  it('reads no canary without routing or with a zero weight', () => {
    // act / assert
    expect(aliasRouting({ FunctionVersion: '41' }, 'f:live')).toEqual({ baseline: '41' });
    expect(
      aliasRouting(
        { FunctionVersion: '41', RoutingConfig: { AdditionalVersionWeights: { '42': 0 } } },
        'f:live',
      ),
    ).toEqual({ baseline: '41' });
  });

  it('rejects an alias on $LATEST, two weighted versions and a failing GetAlias', async () => {
    // act / assert
    expect(() => aliasRouting({ FunctionVersion: '$LATEST' }, 'f:live')).toThrow(AliasRoutingError);
    expect(() =>
      aliasRouting(
        { FunctionVersion: '41', RoutingConfig: { AdditionalVersionWeights: { '42': 0.1, '43': 0.1 } } },
        'f:live',
      ),
    ).toThrow(/2 extra versions/);
    lambda.reset();
    lambda.on(GetAliasCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(
      new LambdaAliasRouting(new LambdaClient({}), 'fraud-score', 'live').routing(),
    ).rejects.toThrow(/GetAlias fraud-score:live failed: AccessDeniedException: denied/);
  });
});

describe('loadCanaryJudgeConfig', () => {
  it('reads the score alias and merges JUDGE_CONFIG over the judge defaults', () => {
    // act
    const config = loadCanaryJudgeConfig({
      SCORE_FUNCTION_NAME: 'fraud-score',
      STAGE: 'prod',
      JUDGE_CONFIG: JSON.stringify({ alpha: 0.005, latency: { minMinutes: 8 } }),
    });
    // assert
    expect(config).toMatchObject({
      stage: 'prod',
      scoreFunctionName: 'fraud-score',
      scoreAliasName: 'live',
      lagMinutes: 1,
    });
    expect(config.judge.alpha).toBe(0.005);
    expect(config.judge.latency).toEqual({ ...DEFAULT_JUDGE_CONFIG.latency, minMinutes: 8 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('fails fast on a missing function name, bad JSON and an out-of-range judge setting', () => {
    // act / assert
    expect(() => loadCanaryJudgeConfig({})).toThrow(/SCORE_FUNCTION_NAME is required/);
    expect(() => loadCanaryJudgeConfig({ SCORE_FUNCTION_NAME: 'f', JUDGE_CONFIG: '{' })).toThrow(ConfigError);
    expect(() => loadCanaryJudgeConfig({ SCORE_FUNCTION_NAME: 'f', JUDGE_CONFIG: '[1]' })).toThrow(
      /JSON object/,
    );
    expect(() => loadCanaryJudgeConfig({ SCORE_FUNCTION_NAME: 'f', JUDGE_CONFIG: '{"alpha":0.9}' })).toThrow(
      /JUDGE_CONFIG: judge config alpha/,
    );
  });
});
