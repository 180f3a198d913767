import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { createPostTrafficHook } from '../../functions/deploy-hooks/alarm-check';
import {
  loadPostTrafficConfig,
  loadPreTrafficConfig,
  type PreTrafficConfig,
} from '../../functions/deploy-hooks/config';
import {
  createPreTrafficHook,
  parseReplaySet,
  percentile,
  smokeTransactionId,
} from '../../functions/deploy-hooks/replay-check';
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
    expect(String(outcome.details?.message)).toContain('model unavailable');
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

describe('post-traffic hook', () => {
  const NAMES = ['prod-score-errors-page', 'prod-score-canary-verdict-page'];
  const hook = () =>
    createPostTrafficHook({
      cloudWatch: new CloudWatchClient({}),
      codeDeploy: new CodeDeployClient({}),
      logger,
      config: { alarmNames: NAMES },
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
