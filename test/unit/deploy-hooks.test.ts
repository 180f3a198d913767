import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import {
  DeleteFunctionCommand,
  InvokeCommand,
  type InvokeCommandInput,
  LambdaClient,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { createPostTrafficHook } from '../../functions/deploy-hooks/alarm-check';
import {
  loadPostTrafficConfig,
  loadPreTrafficConfig,
  type PostTrafficConfig,
  type PreTrafficConfig,
} from '../../functions/deploy-hooks/config';
import { withoutReservedKeys } from '../../functions/deploy-hooks/lifecycle';
import {
  createPreTrafficHook,
  parseReplaySet,
  percentile,
  smokeTransactionId,
} from '../../functions/deploy-hooks/replay-check';
import { versionsToPrune } from '../../functions/deploy-hooks/version-pruning';
import { createReplayHandler } from '../../functions/score/replay';
import { OnnxModelRunner } from '../../functions/shared/adapters/onnx-model-runner';
import { ConfigError } from '../../functions/shared/domain/errors';

const TARGET = 'arn:aws:lambda:eu-west-1:123456789012:function:fraud-score:42';
const EVENT = { DeploymentId: 'd-ABC123XYZ', LifecycleEventHookExecutionId: 'hook-exec-1' };

const lambda = mockClient(LambdaClient);
const codeDeploy = mockClient(CodeDeployClient);
const cloudWatch = mockClient(CloudWatchClient);
const logger = new Logger({ serviceName: 'deploy-hooks-test', logLevel: 'SILENT' });

let dir: string;
let replayPath: string;

interface Case {
  transactionId: string;
  request: Record<string, unknown>;
  features: number[];
  score: number;
  label: 0 | 1;
}

/** Five cases; the fake model's score is the mean of the features. */
const CASES: Case[] = Array.from({ length: 5 }, (_, i) => ({
  transactionId: `tx_${i}`,
  request: { transactionId: `tx_${i}`, cardId: 'card_1', merchantId: 'm_1', amount: 1000 + i },
  features: [i / 10, (i + 1) / 10, 0.5],
  score: (i / 10 + (i + 1) / 10 + 0.5) / 3,
  label: (i % 2) as 0 | 1,
}));

function payload(value: unknown): Uint8ArrayBlobAdapter {
  return Uint8ArrayBlobAdapter.fromString(typeof value === 'string' ? value : JSON.stringify(value));
}

function requestOf(input: InvokeCommandInput): Record<string, unknown> {
  return JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
}

interface FakeTarget {
  /** Added to the score of this transaction index. */
  skew?: { index: number; by: number };
  durationMs?: number | ((batch: number) => number);
  functionError?: boolean;
  smokeStatus?: number;
}

/** A fake score function version: answers replay batches and API Gateway events like functions/score. */
function fakeTarget(options: FakeTarget = {}) {
  let batch = 0;
  lambda.on(InvokeCommand).callsFake((input: InvokeCommandInput) => {
    const request = requestOf(input);
    if (options.functionError) {
      return {
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: payload({ errorType: 'ModelUnavailableError', errorMessage: 'model unavailable' }),
      };
    }
    if (request.kind === 'replay') {
      const cases = request.cases as { features: number[] }[];
      const offset = batch * 2; // batch size 2 in these tests
      const scores = cases.map((c, i) => {
        const mean = c.features.reduce((s, v) => s + v, 0) / c.features.length;
        return options.skew?.index === offset + i ? mean + options.skew.by : mean;
      });
      const duration =
        typeof options.durationMs === 'function' ? options.durationMs(batch) : (options.durationMs ?? 3);
      batch += 1;
      return {
        StatusCode: 200,
        Payload: payload({ model: { name: 'fraud-gbdt', version: '1.0.0' }, scores, durationMs: duration }),
      };
    }
    const status = options.smokeStatus ?? 200;
    const body = status === 200 ? { transactionId: 'x', decision: 'approve', score: 0.1 } : { error: {} };
    return { StatusCode: 200, Payload: payload({ statusCode: status, body: JSON.stringify(body) }) };
  });
}

function config(overrides: Partial<PreTrafficConfig> = {}): PreTrafficConfig {
  return {
    targetFunctionArn: TARGET,
    replayPath,
    tolerance: 1e-5,
    maxLatencyMs: 250,
    batchSize: 2,
    ...overrides,
  };
}

function reported() {
  return codeDeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-hooks-'));
  replayPath = join(dir, 'replay.jsonl');
  writeFileSync(replayPath, `${CASES.map((c) => JSON.stringify(c)).join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  lambda.reset();
  codeDeploy.reset();
  cloudWatch.reset();
  codeDeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: 'x' });
});

describe('pre-traffic hook', () => {
  const hook = (overrides: Partial<PreTrafficConfig> = {}) =>
    createPreTrafficHook({
      lambda: new LambdaClient({}),
      codeDeploy: new CodeDeployClient({}),
      logger,
      config: config(overrides),
    });

  it('reports Succeeded when every score matches, batches are fast and the smoke request answers', async () => {
    // prepare
    fakeTarget();
    // act
    const outcome = await hook()(EVENT);
    // assert
    expect(outcome.status).toBe('Succeeded');
    expect(outcome.details).toMatchObject({
      cases: 5,
      batches: 3,
      mismatches: 0,
      models: ['fraud-gbdt@1.0.0'],
    });
    expect(reported()).toEqual([
      {
        deploymentId: EVENT.DeploymentId,
        lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId,
        status: 'Succeeded',
      },
    ]);
  });

  it('invokes the target version synchronously with replay batches, then one API Gateway event', async () => {
    fakeTarget();
    await hook()(EVENT);
    const calls = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(4);
    for (const call of calls) {
      expect(call.FunctionName).toBe(TARGET);
      expect(call.InvocationType).toBe('RequestResponse');
    }
    expect(requestOf(calls[0] as InvokeCommandInput)).toEqual({
      kind: 'replay',
      cases: [{ features: CASES[0]?.features }, { features: CASES[1]?.features }],
    });
    const smoke = requestOf(calls[3] as InvokeCommandInput);
    expect(smoke).toMatchObject({
      httpMethod: 'POST',
      path: '/v1/score',
      resource: '/v1/score',
      isBase64Encoded: false,
    });
    expect(JSON.parse(smoke.body as string)).toEqual({
      ...CASES[0]?.request,
      transactionId: `pretraffic-${EVENT.DeploymentId}-tx_0`,
    });
  });

  it('reports Failed and logs the mismatch when one score is off by more than the tolerance', async () => {
    // prepare
    fakeTarget({ skew: { index: 3, by: 2e-5 } });
    const errors = jest.spyOn(logger, 'error');
    // act
    const outcome = await hook()(EVENT);
    // assert
    expect(outcome.status).toBe('Failed');
    expect(outcome.reason).toBe('score_mismatch');
    expect(outcome.details?.firstMismatches).toEqual([
      expect.objectContaining({ transactionId: 'tx_3', expected: CASES[3]?.score }),
    ]);
    expect(errors).toHaveBeenCalledWith(
      'pre-traffic failed',
      expect.objectContaining({ firstMismatches: [expect.objectContaining({ transactionId: 'tx_3' })] }),
    );
    expect(reported().map((r) => r.status)).toEqual(['Failed']);
    errors.mockRestore();
  });

  it('accepts a difference within the tolerance', async () => {
    fakeTarget({ skew: { index: 1, by: 5e-6 } });
    const outcome = await hook()(EVENT);
    expect(outcome.status).toBe('Succeeded');
    expect(outcome.details?.maxDiff as number).toBeCloseTo(5e-6, 9);
  });

  it('reports Failed when one batch is slower than MAX_LATENCY_MS', async () => {
    fakeTarget({ durationMs: (batch) => (batch === 1 ? 251 : 10) });
    const outcome = await hook()(EVENT);
    expect(outcome.status).toBe('Failed');
    expect(outcome.reason).toBe('slow_batch');
    expect(outcome.details?.firstSlowBatches).toEqual([{ batch: 2, durationMs: 251 }]);
    expect(reported().map((r) => r.status)).toEqual(['Failed']);
  });

  it('reports Failed when the target returns a function error', async () => {
    fakeTarget({ functionError: true });
    const outcome = await hook()(EVENT);
    expect(outcome.status).toBe('Failed');
    expect(outcome.details).toMatchObject({ error: 'TargetInvocationError' });
    expect(String(outcome.details?.errorMessage)).toContain('model unavailable');
    expect(reported().map((r) => r.status)).toEqual(['Failed']);
  });

  it('reports Failed when the target answers with something that is not JSON', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload('<html>oops') });
    const outcome = await hook()(EVENT);
    expect(outcome.status).toBe('Failed');
    expect(outcome.details).toMatchObject({ error: 'TargetInvocationError' });
    expect(reported()).toHaveLength(1);
  });

  it('reports Failed when the smoke request gets a 500', async () => {
    fakeTarget({ smokeStatus: 500 });
    const outcome = await hook()(EVENT);
    expect(outcome.status).toBe('Failed');
    expect(outcome.reason).toBe('smoke_failed');
    expect(outcome.details?.smoke).toEqual({ statusCode: 500, decision: undefined });
    expect(reported().map((r) => r.status)).toEqual(['Failed']);
  });

  it('reports Failed exactly once, with the event ids, when reading the replay file throws', async () => {
    // prepare
    fakeTarget();
    const failing = createPreTrafficHook({
      lambda: new LambdaClient({}),
      codeDeploy: new CodeDeployClient({}),
      logger,
      config: config(),
      readReplayFile: () => Promise.reject(new Error('EACCES: permission denied')),
    });
    // act
    const outcome = await failing(EVENT);
    // assert
    expect(outcome).toMatchObject({ status: 'Failed', reason: 'error' });
    expect(reported()).toEqual([
      {
        deploymentId: EVENT.DeploymentId,
        lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId,
        status: 'Failed',
      },
    ]);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('reports Failed when the replay file does not exist or the configuration is invalid', async () => {
    await hook({ replayPath: join(dir, 'missing.jsonl') })(EVENT);
    const badConfig = createPreTrafficHook({
      lambda: new LambdaClient({}),
      codeDeploy: new CodeDeployClient({}),
      logger,
      config: () => loadPreTrafficConfig({ TARGET_FUNCTION_ARN: 'fraud-score:live' }),
    });
    const outcome = await badConfig(EVENT);
    expect(outcome.details).toMatchObject({ error: 'ConfigError' });
    expect(reported().map((r) => r.status)).toEqual(['Failed', 'Failed']);
  });

  it('reports Failed before the Lambda timeout when the target hangs', async () => {
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
    const hung = createPreTrafficHook({
      lambda: new LambdaClient({}),
      codeDeploy: new CodeDeployClient({}),
      logger,
      config: config(),
      safetyMarginMs: 950,
    });
    const outcome = await hung(EVENT, { getRemainingTimeInMillis: () => 1000 } as never);
    expect(outcome).toMatchObject({ status: 'Failed', reason: 'deadline' });
    expect(reported()).toHaveLength(1);
  });

  it("speaks the score function's replay contract (createReplayHandler in functions/score)", async () => {
    // prepare: the real replay handler over a fake model whose score is the feature mean
    const model = {
      model: { name: 'fraud-gbdt', version: '1.0.0' },
      score: async (rows: readonly (readonly number[])[]) =>
        rows.map((r) => r.reduce((s, v) => s + v, 0) / r.length),
    };
    const replay = createReplayHandler(model);
    lambda.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
      const request = requestOf(input);
      if (request.kind === 'replay') return { StatusCode: 200, Payload: payload(await replay(request)) };
      return { StatusCode: 200, Payload: payload({ statusCode: 200, body: '{"decision":"approve"}' }) };
    });
    // act
    const outcome = await hook()(EVENT);
    // assert
    expect(outcome.status).toBe('Succeeded');
    expect(outcome.details).toMatchObject({ batches: 3, models: ['fraud-gbdt@1.0.0'] });
  });

  const MODEL_DIR = join(__dirname, '..', '..', 'models', 'fraud-gbdt', '1.0.0');
  const withModel = existsSync(join(MODEL_DIR, 'model.onnx')) ? it : it.skip;

  withModel(
    'passes the real model against its own replay set (onnxruntime-node, default batch size)',
    async () => {
      // prepare: the score function's replay handler over the real OnnxModelRunner
      const replay = createReplayHandler(await OnnxModelRunner.load(MODEL_DIR));
      lambda.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
        const request = requestOf(input);
        if (request.kind === 'replay') return { StatusCode: 200, Payload: payload(await replay(request)) };
        return { StatusCode: 200, Payload: payload({ statusCode: 200, body: '{"decision":"review"}' }) };
      });
      const card = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8'));
      // act
      const outcome = await hook({
        replayPath: join(MODEL_DIR, card.replay.file),
        tolerance: card.replay.tolerance,
        batchSize: 64,
      })(EVENT);
      // assert
      expect(outcome.details).toMatchObject({ cases: card.replay.cases, mismatches: 0 });
      expect(outcome.status).toBe('Succeeded');
    },
  );

  it('throws without reporting when the event is not a lifecycle event (nothing to report to)', async () => {
    await expect(hook()({})).rejects.toMatchObject({ name: 'InvalidHookEventError' });
    expect(reported()).toHaveLength(0);
  });

  it('throws when CodeDeploy rejects the status, so Lambda retries the hook', async () => {
    fakeTarget();
    codeDeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(new Error('ThrottlingException'));
    await expect(hook()(EVENT)).rejects.toMatchObject({ name: 'HookStatusReportError' });
  });
});

describe('replay helpers', () => {
  it('parses replay.jsonl, skipping blank lines, and names the bad line', () => {
    expect(parseReplaySet(`${JSON.stringify(CASES[0])}\n\n${JSON.stringify(CASES[1])}\n`)).toHaveLength(2);
    expect(() => parseReplaySet(`${JSON.stringify(CASES[0])}\n{oops`)).toThrow(/replay\.jsonl:2 is not JSON/);
    expect(() => parseReplaySet(JSON.stringify({ ...CASES[0], score: 'high' }))).toThrow(/:1: score/);
    expect(() => parseReplaySet('\n')).toThrow(/no cases/);
  });

  it('computes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
  });

  it('builds a smoke transactionId the score contract accepts', () => {
    const id = smokeTransactionId('d-ABC', `tx/${'x'.repeat(200)}`);
    expect(id.startsWith('pretraffic-d-ABC-tx-')).toBe(true);
    expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });

  it('reads the pre-traffic settings with their defaults and rejects an unqualified target', () => {
    expect(loadPreTrafficConfig({ TARGET_FUNCTION_ARN: TARGET, LAMBDA_TASK_ROOT: '/var/task' })).toEqual({
      targetFunctionArn: TARGET,
      replayPath: '/var/task/replay.jsonl',
      tolerance: 1e-5,
      maxLatencyMs: 250,
      batchSize: 64,
    });
    expect(() => loadPreTrafficConfig({ TARGET_FUNCTION_ARN: TARGET.replace(/:42$/, ':live') })).toThrow(
      ConfigError,
    );
    expect(() => loadPreTrafficConfig({ TARGET_FUNCTION_ARN: TARGET, REPLAY_BATCH: '1000' })).toThrow(
      /REPLAY_BATCH/,
    );
  });
});

/** Post-traffic settings that look once, with no evidence check and no pruning. */
function postConfig(overrides: Partial<PostTrafficConfig> = {}): PostTrafficConfig {
  return {
    alarmNames: ['prod-score-errors-page', 'prod-score-canary-verdict-page'],
    bakeMs: 0,
    pollMs: 30_000,
    minInvocations: 1,
    evidenceWindow: 'canary',
    onLowTraffic: 'fail',
    retainedVersions: 5,
    maxDeletions: 20,
    ...overrides,
  };
}

describe('post-traffic hook', () => {
  const NAMES = ['prod-score-errors-page', 'prod-score-canary-verdict-page'];
  const hook = () =>
    createPostTrafficHook({
      cloudWatch: new CloudWatchClient({}),
      codeDeploy: new CodeDeployClient({}),
      logger,
      config: postConfig({ alarmNames: NAMES }),
    });

  it('reports Succeeded when no alarm is in ALARM (INSUFFICIENT_DATA is fine)', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: NAMES[0], StateValue: 'OK' }],
      CompositeAlarms: [{ AlarmName: NAMES[1], StateValue: 'INSUFFICIENT_DATA' }],
    });
    const outcome = await hook()(EVENT);
    expect(outcome.status).toBe('Succeeded');
    expect(reported()).toEqual([
      {
        deploymentId: EVENT.DeploymentId,
        lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId,
        status: 'Succeeded',
      },
    ]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toMatchObject({
      AlarmNames: NAMES,
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });

  it('reports Failed when an alarm is in ALARM', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: NAMES[0], StateValue: 'ALARM' },
        { AlarmName: NAMES[1], StateValue: 'OK' },
      ],
    });
    const outcome = await hook()(EVENT);
    expect(outcome).toMatchObject({ status: 'Failed', reason: 'alarm_in_alarm_state' });
    expect(outcome.details?.inAlarm).toEqual([NAMES[0]]);
    expect(reported().map((r) => r.status)).toEqual(['Failed']);
  });

  it('reports Failed when a named alarm does not exist', async () => {
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [{ AlarmName: NAMES[0], StateValue: 'OK' }] });
    const outcome = await hook()(EVENT);
    expect(outcome).toMatchObject({ status: 'Failed', reason: 'alarm_not_found' });
  });

  it('follows NextToken pages', async () => {
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ AlarmName: NAMES[0], StateValue: 'OK' }], NextToken: 'p2' })
      .resolvesOnce({ MetricAlarms: [{ AlarmName: NAMES[1], StateValue: 'ALARM' }] });
    const outcome = await hook()(EVENT);
    expect(outcome.details?.inAlarm).toEqual([NAMES[1]]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)[1]?.args[0].input.NextToken).toBe('p2');
  });

  it('reports Failed when DescribeAlarms throws', async () => {
    cloudWatch.on(DescribeAlarmsCommand).rejects(new Error('AccessDenied'));
    const outcome = await hook()(EVENT);
    expect(outcome).toMatchObject({ status: 'Failed', reason: 'error' });
    expect(reported().map((r) => r.status)).toEqual(['Failed']);
  });

  it('reads ALARM_NAMES as a trimmed, de-duplicated list and requires one', () => {
    expect(loadPostTrafficConfig({ ALARM_NAMES: ' a, b ,a,, ' }).alarmNames).toEqual(['a', 'b']);
    expect(() => loadPostTrafficConfig({})).toThrow(ConfigError);
  });
});

describe('post-traffic bake, evidence and pruning', () => {
  const NAMES = ['prod-score-v42-canary-errors-page'];
  const TARGET_VERSION = { functionName: 'fraud-score', version: '42', aliasName: 'live' };

  /** A fake clock: `sleep` advances it, so a 6-minute bake runs in microseconds. */
  function fakeClock() {
    let t = Date.parse('2026-11-30T22:00:00Z');
    const sleeps: number[] = [];
    return {
      now: () => new Date(t),
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
      },
      sleeps,
    };
  }

  const bakingHook = (config: Partial<PostTrafficConfig>, clock = fakeClock(), withLambda = true) =>
    createPostTrafficHook({
      cloudWatch: new CloudWatchClient({}),
      codeDeploy: new CodeDeployClient({}),
      lambda: withLambda ? new LambdaClient({}) : undefined,
      logger,
      now: clock.now,
      sleep: clock.sleep,
      config: postConfig({ alarmNames: NAMES, ...config }),
    });

  const ok = { MetricAlarms: [{ AlarmName: NAMES[0], StateValue: 'OK' as const }] };
  const invocations = (values: number[]) =>
    cloudWatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'invocations', Values: values }] });
  const versions = (list: string[], aliasVersion = '42', weighted: Record<string, number> = {}) => {
    lambda.on(ListVersionsByFunctionCommand).resolves({ Versions: list.map((Version) => ({ Version })) });
    lambda.on(ListAliasesCommand).resolves({
      Aliases: [
        {
          Name: 'live',
          FunctionVersion: aliasVersion,
          RoutingConfig: { AdditionalVersionWeights: weighted },
        },
      ],
    });
    lambda.on(DeleteFunctionCommand).resolves({});
  };
  const deleted = () => lambda.commandCalls(DeleteFunctionCommand).map((c) => c.args[0].input.Qualifier);

  it('polls the alarms every 30 s for the whole bake before it succeeds', async () => {
    // prepare
    const clock = fakeClock();
    cloudWatch.on(DescribeAlarmsCommand).resolves(ok);
    invocations([150, 200]);
    versions(['$LATEST', '41', '42']);
    // act
    const outcome = await bakingHook(
      { bakeMs: 6 * 60_000, target: TARGET_VERSION, minInvocations: 200 },
      clock,
    )(EVENT);
    // assert
    expect(outcome).toMatchObject({ status: 'Succeeded', reason: 'no_alarm' });
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(13);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(6 * 60_000);
    expect(Math.max(...clock.sleeps)).toBe(30_000);
    expect(outcome.details).toMatchObject({ bakedMs: 6 * 60_000, evidence: { invocations: 350 } });
    expect(reported().map((r) => r.status)).toEqual(['Succeeded']);
  });

  it('fails as soon as a guardrail goes into ALARM during the bake, without waiting for its end', async () => {
    // prepare
    const clock = fakeClock();
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce(ok)
      .resolvesOnce(ok)
      .resolves({ MetricAlarms: [{ AlarmName: NAMES[0], StateValue: 'ALARM' as const }] });
    // act
    const outcome = await bakingHook({ bakeMs: 6 * 60_000, target: TARGET_VERSION }, clock)(EVENT);
    // assert
    expect(outcome).toMatchObject({ status: 'Failed', reason: 'alarm_in_alarm_state' });
    expect(outcome.details).toMatchObject({ polls: 3, bakedMs: 60_000, inAlarm: NAMES });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
    expect(lambda.commandCalls(DeleteFunctionCommand)).toHaveLength(0);
    expect(reported().map((r) => r.status)).toEqual(['Failed']);
  });

  it('fails closed when the canary saw fewer invocations than required', async () => {
    // prepare
    cloudWatch.on(DescribeAlarmsCommand).resolves(ok);
    invocations([3, 4]);
    versions(['40', '41', '42']);
    // act
    const outcome = await bakingHook({ target: TARGET_VERSION, minInvocations: 200, onLowTraffic: 'fail' })(
      EVENT,
    );
    // assert
    expect(outcome).toMatchObject({
      status: 'Failed',
      reason: 'insufficient_canary_traffic',
      details: { evidence: { invocations: 7, minInvocations: 200, version: '42' } },
    });
    expect(lambda.commandCalls(DeleteFunctionCommand)).toHaveLength(0);
  });

  it('passes with a low-traffic reason where the stage allows it', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves(ok);
    invocations([]);
    versions(['42']);
    const outcome = await bakingHook({ target: TARGET_VERSION, minInvocations: 20, onLowTraffic: 'pass' })(
      EVENT,
    );
    expect(outcome).toMatchObject({ status: 'Succeeded', reason: 'no_alarm_low_traffic' });
  });

  it('queries Invocations of the new version through the alias', async () => {
    // prepare
    cloudWatch.on(DescribeAlarmsCommand).resolves(ok);
    invocations([500]);
    versions(['42']);
    // act
    await bakingHook({ target: TARGET_VERSION })(EVENT);
    // assert
    const query = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.[0];
    expect(query?.MetricStat?.Metric).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [
        { Name: 'FunctionName', Value: 'fraud-score' },
        { Name: 'Resource', Value: 'fraud-score:live' },
        { Name: 'ExecutedVersion', Value: '42' },
      ],
    });
    expect(query?.MetricStat?.Stat).toBe('Sum');
  });

  it('counts the canary phase only: invocations until the hook started, read after the bake', async () => {
    // prepare
    const clock = fakeClock();
    const hookStart = clock.now().getTime();
    cloudWatch.on(DescribeAlarmsCommand).resolves(ok);
    invocations([500]);
    versions(['42']);
    // act
    await bakingHook({ bakeMs: 6 * 60_000, target: TARGET_VERSION }, clock)(EVENT);
    const allAtOnce = fakeClock();
    await bakingHook(
      { bakeMs: 60_000, target: TARGET_VERSION, evidenceWindow: 'deployment' },
      allAtOnce,
    )(EVENT);
    // assert
    const [canary, whole] = cloudWatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(canary?.EndTime?.getTime()).toBe(hookStart);
    expect(whole?.EndTime?.getTime()).toBe(hookStart + 60_000);
  });

  it('prunes versions beyond the newest N that no alias points to, oldest first', async () => {
    // prepare: 12 versions, live on 42 with a stuck weight on 30
    cloudWatch.on(DescribeAlarmsCommand).resolves(ok);
    invocations([500]);
    versions(['$LATEST', ...Array.from({ length: 13 }, (_, i) => String(30 + i))], '42', { '30': 0.1 });
    // act
    const outcome = await bakingHook({ target: TARGET_VERSION, retainedVersions: 5 })(EVENT);
    // assert: keep 38–42 and 30 (weighted); delete 31–37
    expect(deleted()).toEqual(['31', '32', '33', '34', '35', '36', '37']);
    expect(outcome.details?.pruning).toMatchObject({ found: 13, protected: ['30', '42'] });
    expect(outcome.status).toBe('Succeeded');
  });

  it('never fails a good deployment because pruning failed', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves(ok);
    invocations([500]);
    lambda
      .on(ListVersionsByFunctionCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const outcome = await bakingHook({ target: TARGET_VERSION })(EVENT);
    expect(outcome).toMatchObject({
      status: 'Succeeded',
      details: { pruning: { error: 'AccessDeniedException' } },
    });
  });

  it('bounds one run to maxDeletions and reports a version that could not be deleted', async () => {
    // prepare
    cloudWatch.on(DescribeAlarmsCommand).resolves(ok);
    invocations([500]);
    versions(
      Array.from({ length: 30 }, (_, i) => String(i + 1)),
      '30',
    );
    lambda
      .on(DeleteFunctionCommand, { Qualifier: '2' })
      .rejects(Object.assign(new Error('in use'), { name: 'ResourceConflictException' }));
    // act
    const outcome = await bakingHook({
      target: { ...TARGET_VERSION, version: '30' },
      retainedVersions: 5,
      maxDeletions: 3,
    })(EVENT);
    // assert
    expect(lambda.commandCalls(DeleteFunctionCommand).map((c) => c.args[0].input.Qualifier)).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(outcome.details?.pruning).toMatchObject({
      deleted: ['1', '3'],
      failed: [{ version: '2', error: 'ResourceConflictException' }],
    });
  });

  it('selects versions to prune from hostile lists without touching protected or non-numeric ones', () => {
    expect(versionsToPrune(['$LATEST', '1', '2', '10', '9'], new Set(['1']), 2, 10)).toEqual(['2']);
    expect(versionsToPrune(['1', '2'], new Set(), 5, 10)).toEqual([]);
    expect(versionsToPrune(['5', '4', '3', '2', '1'], new Set(), 2, 0)).toEqual([]);
  });

  it('reads the bake, evidence and pruning settings, and rejects a bad target or mode', () => {
    // act
    const config = loadPostTrafficConfig({
      ALARM_NAMES: 'a',
      BAKE_SECONDS: '360',
      POLL_SECONDS: '30',
      TARGET_FUNCTION_ARN: TARGET,
      MIN_CANARY_INVOCATIONS: '200',
      ON_LOW_TRAFFIC: 'fail',
      RETAINED_VERSIONS: '10',
      EVIDENCE_WINDOW: 'canary',
    });
    // assert
    expect(config).toMatchObject({
      bakeMs: 360_000,
      pollMs: 30_000,
      target: { functionName: 'fraud-score', version: '42', aliasName: 'live' },
      minInvocations: 200,
      evidenceWindow: 'canary',
      onLowTraffic: 'fail',
      retainedVersions: 10,
    });
    expect(() => loadPostTrafficConfig({ ALARM_NAMES: 'a', EVIDENCE_WINDOW: 'week' })).toThrow(
      /EVIDENCE_WINDOW/,
    );
    expect(() => loadPostTrafficConfig({ ALARM_NAMES: 'a', ON_LOW_TRAFFIC: 'maybe' })).toThrow(
      /ON_LOW_TRAFFIC/,
    );
    expect(() =>
      loadPostTrafficConfig({ ALARM_NAMES: 'a', TARGET_FUNCTION_ARN: `${TARGET.slice(0, -3)}:live` }),
    ).toThrow(ConfigError);
    expect(() => loadPostTrafficConfig({ ALARM_NAMES: 'a', BAKE_SECONDS: '900' })).toThrow(/BAKE_SECONDS/);
  });
});

describe('hook logs', () => {
  it("keeps a failure's explanation on the ERROR line: no detail uses a key Powertools drops", async () => {
    // prepare: a logger that writes JSON lines we can read
    const lines: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    };
    // Powertools' own Console writes INFO to stdout and ERROR to stderr.
    const spies = [
      jest.spyOn(process.stdout, 'write').mockImplementation(capture),
      jest.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    const visible = new Logger({ serviceName: 'deploy-hooks-test', logLevel: 'INFO' });
    cloudWatch.on(DescribeAlarmsCommand).rejects(new Error('AccessDenied: not authorized to DescribeAlarms'));
    const hook = createPostTrafficHook({
      cloudWatch: new CloudWatchClient({}),
      codeDeploy: new CodeDeployClient({}),
      logger: visible,
      config: postConfig(),
    });
    // act
    try {
      await hook(EVENT);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    // assert
    const entries = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const failed = entries.find((e) => e.message === 'post-traffic failed');
    expect(failed).toMatchObject({
      level: 'ERROR',
      reason: 'error',
      errorMessage: expect.stringContaining('AccessDenied'),
    });
    expect(entries.filter((e) => String(e.message).includes('reserved key'))).toEqual([]);
  });

  it('renames details that collide with reserved keys instead of losing them', () => {
    expect(withoutReservedKeys({ message: 'x', level: 1, reason: 'r' })).toEqual({
      detail_message: 'x',
      detail_level: 1,
      reason: 'r',
    });
  });
});
