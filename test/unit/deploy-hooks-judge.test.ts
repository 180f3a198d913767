/**
 * The post-traffic hook's canary-judge requirement: where the stage sets `judge.requirePass`,
 * the last verdict the judge published for the deployed version must be `pass`; `inconclusive`
 * fails closed unless the stage lets it pass; no verdict at all fails.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import { createPostTrafficHook } from '../../functions/deploy-hooks/alarm-check';
import { loadPostTrafficConfig, type PostTrafficConfig } from '../../functions/deploy-hooks/config';
import { finalJudgeVerdict } from '../../functions/deploy-hooks/judge-verdict';

const EVENT = { DeploymentId: 'd-ABC123XYZ', LifecycleEventHookExecutionId: 'hook-exec-1' };
const TARGET = 'arn:aws:lambda:eu-west-1:123456789012:function:fraud-score:42';
const NOW = new Date('2026-12-01T10:30:00Z');
const minute = (m: number) => new Date(Date.parse('2026-12-01T10:00:00Z') + m * 60_000);

const cloudWatch = mockClient(CloudWatchClient);
const codeDeploy = mockClient(CodeDeployClient);
const logger = new Logger({ serviceName: 'deploy-hooks-test', logLevel: 'SILENT' });

/** The judge's datapoints per minute (newest first, as ScanBy TimestampDescending returns them). */
function judgePoints(points: { at: number; verdict?: number; inconclusive?: number }[]): MetricDataResult[] {
  const sorted = [...points].sort((a, b) => b.at - a.at);
  const series = (key: 'verdict' | 'inconclusive') => {
    const present = sorted.filter((p) => p[key] !== undefined);
    return {
      Id: key,
      Timestamps: present.map((p) => minute(p.at)),
      Values: present.map((p) => p[key] as number),
      StatusCode: 'Complete' as const,
    };
  };
  return [series('verdict'), series('inconclusive')];
}

/** CloudWatch: alarms OK, 900 canary invocations, and the given judge datapoints. */
function wire(judge: MetricDataResult[] | ((input: GetMetricDataCommandInput) => MetricDataResult[])): void {
  cloudWatch.reset();
  codeDeploy.reset();
  codeDeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'a', StateValue: 'OK' }] });
  cloudWatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    if (input.MetricDataQueries?.[0]?.Id === 'invocations')
      return { MetricDataResults: [{ Id: 'invocations', Values: [900] }] };
    return { MetricDataResults: typeof judge === 'function' ? judge(input) : judge };
  });
}

function hook(judge: PostTrafficConfig['judge']) {
  return createPostTrafficHook({
    cloudWatch: new CloudWatchClient({}),
    codeDeploy: new CodeDeployClient({}),
    logger,
    now: () => NOW,
    config: {
      alarmNames: ['a'],
      bakeMs: 0,
      pollMs: 30_000,
      target: { functionName: 'fraud-score', version: '42', aliasName: 'live' },
      minInvocations: 200,
      evidenceWindow: 'canary',
      onLowTraffic: 'fail',
      retainedVersions: 5,
      maxDeletions: 20,
      judge,
    },
  });
}

const reportedStatus = () =>
  codeDeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status);

afterAll(() => {
  cloudWatch.restore();
  codeDeploy.restore();
});

describe('post-traffic hook: the canary judge’s final verdict', () => {
  it('succeeds when the last verdict is pass, even after an earlier inconclusive minute', async () => {
    // prepare
    wire(
      judgePoints([
        { at: 1, verdict: 0, inconclusive: 1 },
        { at: 9, verdict: 0, inconclusive: 0 },
      ]),
    );
    // act
    const outcome = await hook({ stage: 'prod', inconclusive: 'fail' })(EVENT);
    // assert
    expect(outcome).toMatchObject({
      status: 'Succeeded',
      details: { judge: { verdict: 'pass', at: minute(9).toISOString() } },
    });
    expect(reportedStatus()).toEqual(['Succeeded']);
  });

  it('fails on a final fail verdict', async () => {
    // prepare
    wire(
      judgePoints([
        { at: 3, verdict: 0, inconclusive: 0 },
        { at: 8, verdict: 1, inconclusive: 0 },
      ]),
    );
    // act
    const outcome = await hook({ stage: 'prod', inconclusive: 'pass' })(EVENT);
    // assert
    expect(outcome).toMatchObject({ status: 'Failed', reason: 'judge_fail' });
    expect(reportedStatus()).toEqual(['Failed']);
  });

  it('fails closed on a final inconclusive verdict, unless the stage lets inconclusive pass', async () => {
    // prepare
    const points = judgePoints([
      { at: 2, verdict: 0, inconclusive: 0 },
      { at: 9, verdict: 0, inconclusive: 1 },
    ]);
    wire(points);
    // act
    const closed = await hook({ stage: 'prod', inconclusive: 'fail' })(EVENT);
    wire(points);
    const open = await hook({ stage: 'prod', inconclusive: 'pass' })(EVENT);
    // assert
    expect(closed).toMatchObject({ status: 'Failed', reason: 'judge_inconclusive' });
    expect(open).toMatchObject({
      status: 'Succeeded',
      details: { judge: { verdict: 'inconclusive', inconclusivePolicy: 'pass' } },
    });
  });

  it('fails when the judge published no verdict for the version, whatever the inconclusive policy', async () => {
    // prepare
    wire(judgePoints([]));
    // act
    const outcome = await hook({ stage: 'prod', inconclusive: 'pass' })(EVENT);
    // assert
    expect(outcome).toMatchObject({ status: 'Failed', reason: 'judge_missing' });
  });

  it('does not read the verdict where the stage does not require it', async () => {
    // prepare
    wire(judgePoints([{ at: 9, verdict: 1, inconclusive: 0 }]));
    // act
    const outcome = await hook(undefined)(EVENT);
    // assert
    expect(outcome).toMatchObject({ status: 'Succeeded', reason: 'no_alarm' });
    const judgeReads = cloudWatch
      .commandCalls(GetMetricDataCommand)
      .filter((c) => c.args[0].input.MetricDataQueries?.[0]?.Id !== 'invocations');
    expect(judgeReads).toHaveLength(0);
  });

  it('reports Failed when reading the verdict throws', async () => {
    // prepare
    wire(() => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    });
    // act
    const outcome = await hook({ stage: 'prod', inconclusive: 'fail' })(EVENT);
    // assert
    expect(outcome).toMatchObject({
      status: 'Failed',
      reason: 'error',
      details: { error: 'ThrottlingException' },
    });
    expect(reportedStatus()).toEqual(['Failed']);
  });
});

describe('finalJudgeVerdict', () => {
  it('queries the Maximum of both judge metrics for the version, one-minute periods, newest first', async () => {
    // prepare
    wire(judgePoints([{ at: 5, verdict: 0, inconclusive: 0 }]));
    // act
    await finalJudgeVerdict(new CloudWatchClient({}), { stage: 'prod', canaryVersion: '42' }, NOW);
    // assert
    const input = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(input?.ScanBy).toBe('TimestampDescending');
    expect(input?.EndTime).toEqual(NOW);
    expect(
      input?.MetricDataQueries?.map((q) => [q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat]),
    ).toEqual([
      ['JudgeVerdict', 'Maximum'],
      ['JudgeInconclusive', 'Maximum'],
    ]);
    expect(input?.MetricDataQueries?.[0]?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: 'service', Value: 'canary-judge' },
      { Name: 'stage', Value: 'prod' },
      { Name: 'canaryVersion', Value: '42' },
    ]);
    expect(input?.MetricDataQueries?.[0]?.MetricStat?.Period).toBe(60);
  });

  it('takes the newest minute across pages, reading a missing metric of that minute as 0', async () => {
    // prepare: page 1 holds an old fail, page 2 the newest minute with JudgeVerdict only.
    cloudWatch.reset();
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: judgePoints([{ at: 4, verdict: 1, inconclusive: 0 }]),
        NextToken: 't',
      })
      .resolvesOnce({ MetricDataResults: judgePoints([{ at: 7, verdict: 0 }]) });
    // act
    const reading = await finalJudgeVerdict(
      new CloudWatchClient({}),
      { stage: 'prod', canaryVersion: '42' },
      NOW,
    );
    // assert
    expect(reading).toEqual({ verdict: 'pass', at: minute(7).toISOString() });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)[1]?.args[0].input.NextToken).toBe('t');
  });
});

describe('post-traffic judge settings', () => {
  const base = { ALARM_NAMES: 'a', STAGE: 'prod', TARGET_FUNCTION_ARN: TARGET };

  it('requires the verdict only with JUDGE_REQUIRE_PASS=true, failing closed on inconclusive by default', () => {
    // act / assert
    expect(loadPostTrafficConfig(base).judge).toBeUndefined();
    expect(loadPostTrafficConfig({ ...base, JUDGE_REQUIRE_PASS: 'true' }).judge).toEqual({
      stage: 'prod',
      inconclusive: 'fail',
    });
    expect(
      loadPostTrafficConfig({ ...base, JUDGE_REQUIRE_PASS: 'true', JUDGE_INCONCLUSIVE: 'pass' }).judge,
    ).toEqual({ stage: 'prod', inconclusive: 'pass' });
  });

  it('rejects bad values and a requirement without the version to read it for', () => {
    // act / assert
    expect(() => loadPostTrafficConfig({ ...base, JUDGE_REQUIRE_PASS: 'yes' })).toThrow(/JUDGE_REQUIRE_PASS/);
    expect(() => loadPostTrafficConfig({ ...base, JUDGE_INCONCLUSIVE: 'maybe' })).toThrow(
      /JUDGE_INCONCLUSIVE/,
    );
    expect(() =>
      loadPostTrafficConfig({ ALARM_NAMES: 'a', STAGE: 'prod', JUDGE_REQUIRE_PASS: 'true' }),
    ).toThrow(/needs TARGET_FUNCTION_ARN/);
  });
});
