/**
 * The canary judge in the service stack: its function, the one-minute schedule, least-privilege
 * IAM (GetAlias on alias `live` only; the two CloudWatch reads that have no resource-level
 * permissions), the per-version `JudgeVerdict` alarm in the deployment group that rolls back a
 * `fail`, the post-traffic hook's verdict requirement in prod, and the stage `judge` block.
 */

import { resolveStageConfig, type StageConfigInput } from '../../infra/config/stage-config';
import { dev, prod } from '../../infra/config/stages';
import { VERDICT_LOG_MESSAGE } from '../../infra/constructs/canary-judge';
import {
  alarmsByName,
  type CfnResource,
  functionId,
  functionStatements,
  only,
  resources,
  stage,
  synthStage,
  VERSION_IN_NAME,
} from './support';

const judgeStage = (
  input: StageConfigInput,
  judge: Partial<StageConfigInput['judge']>,
): StageConfigInput => ({
  ...structuredClone(input),
  judge: { ...input.judge, ...judge },
});

describe.each(['dev', 'prod'] as const)('canary judge (%s)', (name) => {
  const { service, config } = stage(name);
  const judgeId = () => functionId(service, 'CanaryJudgeFunction');
  const scoreId = () => functionId(service, 'ScoreFunction');
  const verdictAlarm = () => {
    const found = alarmsByName(service).get(`${name}-score-v${VERSION_IN_NAME}-canary-verdict-page`);
    if (!found) throw new Error('no verdict alarm');
    return found;
  };

  it('runs the judge on Node.js 22 with the score alias, the bundled card and the stage’s judge config', () => {
    // act
    const fn = resources(service, 'AWS::Lambda::Function')[judgeId()] as CfnResource;
    // assert
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Timeout: 50,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          STAGE: name,
          POWERTOOLS_SERVICE_NAME: 'canary-judge',
          POWERTOOLS_METRICS_NAMESPACE: 'FraudScoring',
          NODE_OPTIONS: '--enable-source-maps',
          SCORE_FUNCTION_NAME: { Ref: scoreId() },
          SCORE_ALIAS_NAME: 'live',
          MODEL_CARD_PATH: 'model/model.json',
          JUDGE_CONFIG: JSON.stringify(config.judge.config),
        },
      },
    });
    expect(fn.Properties.LoggingConfig).toMatchObject({
      LogGroup: { Ref: expect.stringMatching(/^CanaryJudgeFunctionLogs/) },
    });
  });

  it('writes to an encrypted log group with the stage’s retention', () => {
    // act
    const logs = Object.entries(resources(service, 'AWS::Logs::LogGroup')).find(([id]) =>
      id.startsWith('CanaryJudgeFunctionLogs'),
    )?.[1];
    // assert
    expect(logs?.Properties).toMatchObject({
      RetentionInDays: config.logRetentionDays,
      KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^OpsKey/), 'Arn'] },
    });
  });

  it('runs every minute from EventBridge, without retries', () => {
    // act
    const rule = Object.values(resources(service, 'AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties.Targets).includes(judgeId()),
    );
    // assert
    expect(rule?.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [judgeId(), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }],
    });
    const permission = Object.values(resources(service, 'AWS::Lambda::Permission')).find(
      (p) =>
        JSON.stringify(p.Properties.FunctionName).includes(judgeId()) &&
        p.Properties.Principal === 'events.amazonaws.com',
    );
    expect(permission).toBeDefined();
  });

  it('may read alias live’s routing and CloudWatch metrics, and nothing else', () => {
    // act
    const statements = functionStatements(service, judgeId());
    // assert
    expect(statements).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^CanaryJudgeFunctionLogs/), 'Arn'] },
      },
      { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' },
      {
        Action: 'lambda:GetAlias',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [scoreId(), 'Arn'] }, ':live']] },
      },
      { Action: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'], Effect: 'Allow', Resource: '*' },
    ]);
  });

  it('alarms on JudgeVerdict ≥ 1 of the deployed version for one minute, missing data not breaching', () => {
    // act
    const [, alarm] = verdictAlarm();
    // assert
    expect(alarm.Properties).toMatchObject({
      Namespace: 'FraudScoring',
      MetricName: 'JudgeVerdict',
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const version = only(service, 'AWS::Lambda::Version')[0];
    expect(alarm.Properties.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'service', Value: 'canary-judge' },
        { Name: 'stage', Value: name },
        { Name: 'canaryVersion', Value: { 'Fn::GetAtt': [version, 'Version'] } },
      ]),
    );
    expect(alarm.Properties.Dimensions).toHaveLength(3);
    expect(alarm.Properties.AlarmDescription).toMatch(/Runbook: docs\/runbook\.md#score-canary-verdict$/);
  });

  it('rolls a failing canary back: the verdict alarm is in the deployment group, which the alias waits for', () => {
    // prepare
    const [alarmId] = verdictAlarm();
    const [, group] = only(service, 'AWS::CodeDeploy::DeploymentGroup');
    const [, alias] = only(service, 'AWS::Lambda::Alias');
    const ruleId = Object.entries(resources(service, 'AWS::Events::Rule')).find(([, r]) =>
      JSON.stringify(r.Properties.Targets).includes(judgeId()),
    )?.[0];
    // act
    const alarms = (group.Properties.AlarmConfiguration as { Alarms: { Name: { Ref: string } }[] }).Alarms;
    // assert
    expect(alarms).toContainEqual({ Name: { Ref: alarmId } });
    expect(group.Properties.AutoRollbackConfiguration).toMatchObject({
      Events: expect.arrayContaining(['DEPLOYMENT_STOP_ON_ALARM']),
    });
    // The judge with this version's card, its schedule and the alarm exist before traffic shifts.
    expect(alias.DependsOn).toEqual(expect.arrayContaining([alarmId, judgeId(), ruleId]));
  });

  it('requires the judge’s pass in the post-traffic hook where the stage says so', () => {
    // act
    const hook = resources(service, 'AWS::Lambda::Function')[
      functionId(service, 'DeliveryPostTrafficHook')
    ] as CfnResource;
    const variables = (hook.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    // assert
    if (config.judge.requirePass) {
      expect(variables).toMatchObject({
        JUDGE_REQUIRE_PASS: 'true',
        JUDGE_INCONCLUSIVE: config.judge.inconclusive,
      });
    } else {
      expect(variables).not.toHaveProperty('JUDGE_REQUIRE_PASS');
    }
  });

  it('shows the verdict, requests per version and the latest reports on the dashboard', () => {
    // act
    const [, dashboard] = only(service, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    // assert
    expect(body).toContain('Canary judge');
    expect(body).toContain('JudgeVerdict');
    expect(body).toContain('JudgeInconclusive');
    expect(body).toContain(`filter message = \\\\\\"${VERDICT_LOG_MESSAGE}\\\\\\"`);
  });
});

describe('canary judge stage settings', () => {
  it('requires a pass in prod (inconclusive fails closed) and not in dev', () => {
    // act / assert
    expect(prod.judge).toEqual({ enabled: true, requirePass: true, inconclusive: 'fail', config: {} });
    expect(dev.judge).toMatchObject({ enabled: true, requirePass: false });
  });

  it('rejects a required pass without the judge or without a canary phase, and out-of-range overrides', () => {
    // act / assert
    expect(() => resolveStageConfig(judgeStage(prod, { enabled: false }))).toThrow(
      /judge\.requirePass: needs judge\.enabled/,
    );
    expect(() =>
      resolveStageConfig({
        ...judgeStage(prod, {}),
        deployment: { ...prod.deployment, strategy: { type: 'allAtOnce' } },
      }),
    ).toThrow(/judge\.requirePass: needs a canary or linear/);
    expect(() => resolveStageConfig(judgeStage(dev, { config: { alpha: 0.9 } }))).toThrow(
      /judge\.config\.alpha/,
    );
    expect(() => resolveStageConfig(judgeStage(dev, { config: { latency: { relativeFloor: -1 } } }))).toThrow(
      /judge\.config\.latency\.relativeFloor/,
    );
    expect(() =>
      resolveStageConfig(
        judgeStage(dev, { config: { latency: { minMinute: 3 } } as StageConfigInput['judge']['config'] }),
      ),
    ).toThrow(/judge\.config\.latency/);
  });

  it('accepts overrides and passes them to the judge as JSON', () => {
    // prepare
    const overrides = { alpha: 0.005, decisions: { segmentRelativeTolerance: 0.3 } };
    // act
    const { service } = synthStage(judgeStage(dev, { config: overrides }));
    // assert
    const fn = resources(service, 'AWS::Lambda::Function')[
      functionId(service, 'CanaryJudgeFunction')
    ] as CfnResource;
    expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.JUDGE_CONFIG).toBe(
      JSON.stringify(overrides),
    );
  });

  it('deploys no judge, schedule or verdict alarm where the stage disables it', () => {
    // act
    const { service } = synthStage(judgeStage(dev, { enabled: false }));
    // assert
    expect(
      Object.keys(resources(service, 'AWS::Lambda::Function')).some((id) => id.startsWith('CanaryJudge')),
    ).toBe(false);
    expect([...alarmsByName(service).keys()].some((n) => n.includes('canary-verdict'))).toBe(false);
    const [, group] = only(service, 'AWS::CodeDeploy::DeploymentGroup');
    expect((group.Properties.AlarmConfiguration as { Alarms: unknown[] }).Alarms).toHaveLength(3);
  });
});
