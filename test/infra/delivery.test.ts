/**
 * The template properties safe delivery relies on: alias `live` whose provisioned concurrency
 * belongs to Application Auto Scaling (never to the alias resource, which CodeDeploy weights),
 * a deployment group that rolls back on version-scoped alarms and on failure, and hooks that
 * can touch only the version being deployed.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { dev, prod } from '../../infra/config/stages';
import {
  alarmsByName,
  asList,
  type CfnResource,
  functionId,
  functionStatements,
  only,
  resources,
  stage,
  synthStage,
  VERSION_IN_NAME,
} from './support';

const versionOf = (t: ReturnType<typeof stage>['service']) => only(t, 'AWS::Lambda::Version')[0];

describe.each(['dev', 'prod'] as const)('score function and alias live (%s)', (name) => {
  const { service, config } = stage(name);

  it('runs Node.js 22 on the configured architecture with the onnxruntime layer and model paths', () => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: [config.architecture],
      MemorySize: config.scoreFunction.memoryMb,
      Timeout: config.scoreFunction.timeoutSeconds,
      Layers: [{ Ref: Match.stringLikeRegexp('^ScoreOnnxRuntime') }],
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          MODEL_DIR: '/var/task/model',
          MODEL_VERSION: config.model.version,
          POLICY_PATH: '/var/task/policy.json',
          FEATURE_TIMEOUT_MS: String(config.scoreFunction.featureTimeoutMs),
          STAGE: name,
        }),
      },
    });
    service.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: [config.architecture],
      CompatibleRuntimes: ['nodejs22.x'],
    });
  });

  it('points alias live at the published version and gives the alias no provisioned concurrency of its own', () => {
    const [, alias] = only(service, 'AWS::Lambda::Alias');
    expect(alias.Properties).toMatchObject({
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [versionOf(service), 'Version'] },
    });
    // CloudFormation would call PutProvisionedConcurrencyConfig on a weighted alias and fail.
    expect(alias.Properties).not.toHaveProperty('ProvisionedConcurrencyConfig');
    expect(resources(service, 'AWS::Lambda::Version')[versionOf(service)]?.Properties).not.toHaveProperty(
      'ProvisionedConcurrencyConfig',
    );
  });

  it('lets Application Auto Scaling own provisioned concurrency on the alias, after the alias update', () => {
    const [aliasId] = only(service, 'AWS::Lambda::Alias');
    const [targetId, target] = only(service, 'AWS::ApplicationAutoScaling::ScalableTarget');
    expect(target.Properties).toMatchObject({
      ServiceNamespace: 'lambda',
      ScalableDimension: 'lambda:function:ProvisionedConcurrency',
      MinCapacity: config.capacity.minProvisioned,
      MaxCapacity: config.capacity.maxProvisioned,
    });
    expect(JSON.stringify(target.Properties?.ResourceId)).toContain(`{"Ref":"${aliasId}"}`);
    expect(JSON.stringify(target.Properties?.ResourceId)).toContain(':live');
    expect(target.DependsOn).toContain(aliasId);

    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      ScalingTargetId: { Ref: targetId },
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' },
        TargetValue: config.capacity.utilizationTarget,
      },
    });
  });

  it('has one deployment group that rolls back on failure, on request and on the guardrail alarms', () => {
    const [, group] = only(service, 'AWS::CodeDeploy::DeploymentGroup');
    expect(group.Properties).toMatchObject({
      DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL', DeploymentType: 'BLUE_GREEN' },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: expect.arrayContaining(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']),
      },
      AlarmConfiguration: { Enabled: true },
    });
    const guardrails = (group.Properties.AlarmConfiguration as { Alarms: { Name: { Ref: string } }[] })
      .Alarms;
    const alarms = alarmsByName(service);
    const byId = new Map([...alarms.entries()].map(([alarmName, [id]]) => [id, alarmName]));
    expect(guardrails.map((a) => byId.get(a.Name.Ref)).sort()).toEqual([
      `${name}-score-v${VERSION_IN_NAME}-canary-app-errors-page`,
      `${name}-score-v${VERSION_IN_NAME}-canary-errors-page`,
      `${name}-score-v${VERSION_IN_NAME}-canary-latency-page`,
      `${name}-score-v${VERSION_IN_NAME}-canary-verdict-page`,
    ]);
  });

  it('shifts alias live through CodeDeploy between the pre- and post-traffic hooks', () => {
    const [, alias] = only(service, 'AWS::Lambda::Alias');
    const [groupId] = only(service, 'AWS::CodeDeploy::DeploymentGroup');
    expect(alias.UpdatePolicy?.CodeDeployLambdaAliasUpdate).toEqual({
      ApplicationName: { Ref: expect.stringMatching(/^DeliveryDeploymentGroupApplication/) },
      DeploymentGroupName: { Ref: groupId },
      BeforeAllowTrafficHook: { Ref: functionId(service, 'DeliveryPreTrafficHook') },
      AfterAllowTrafficHook: { Ref: functionId(service, 'DeliveryPostTrafficHook') },
    });
  });

  it('scopes every guardrail alarm to the version being deployed', () => {
    const version = { 'Fn::GetAtt': [versionOf(service), 'Version'] };
    const scoreFn = functionId(service, 'ScoreFunction');
    const guardrails = [...alarmsByName(service).entries()].filter(([n]) => n.includes('-canary-'));
    // Three fast guardrails and the canary judge's verdict.
    expect(guardrails).toHaveLength(4);
    for (const [alarmName, [, alarm]] of guardrails) {
      const props = alarm.Properties ?? {};
      const lambdaDims = (
        props.Metrics as
          | { MetricStat?: { Metric: { Namespace: string; Dimensions: unknown[] } } }[]
          | undefined
      )
        ?.filter((m) => m.MetricStat?.Metric.Namespace === 'AWS/Lambda')
        .map((m) => m.MetricStat?.Metric.Dimensions);
      if (props.Namespace === 'AWS/Lambda' || lambdaDims?.length) {
        // The dimensions AWS/Lambda publishes for invocations through an alias, per executed version.
        for (const dims of lambdaDims?.length ? lambdaDims : [props.Dimensions])
          expect(dims).toEqual(
            expect.arrayContaining([
              { Name: 'ExecutedVersion', Value: version },
              { Name: 'FunctionName', Value: { Ref: scoreFn } },
              { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: scoreFn }, ':live']] } },
            ]),
          );
      } else if (props.MetricName === 'JudgeVerdict') {
        expect(props.Dimensions).toContainEqual({ Name: 'canaryVersion', Value: version });
      } else {
        const metrics = props.Metrics as { MetricStat?: { Metric: { Dimensions: unknown[] } } }[];
        const dims = metrics.flatMap((m) => m.MetricStat?.Metric.Dimensions ?? []);
        expect(dims).toContainEqual({ Name: 'functionVersion', Value: version });
      }
      expect({ alarmName, props: JSON.stringify(props) }).not.toMatchObject({
        props: expect.stringContaining('$LATEST'),
      });
    }
  });

  it("updates the alias only after the deployment group lists the new version's guardrails", () => {
    // prepare
    const [, alias] = only(service, 'AWS::Lambda::Alias');
    const [groupId] = only(service, 'AWS::CodeDeploy::DeploymentGroup');
    // assert
    expect(alias.DependsOn).toContain(groupId);
  });

  it('updates the alias only after the guardrails and hooks point at the new version', () => {
    const [, alias] = only(service, 'AWS::Lambda::Alias');
    const guardrailIds = [...alarmsByName(service).entries()]
      .filter(([n]) => n.includes('-canary-'))
      .map(([, [id]]) => id);
    expect(alias.DependsOn).toEqual(
      expect.arrayContaining([
        ...guardrailIds,
        functionId(service, 'DeliveryPreTrafficHook'),
        functionId(service, 'DeliveryPostTrafficHook'),
      ]),
    );
  });

  it('lets the pre-traffic hook invoke only the new version and report its own lifecycle status', () => {
    const statements = functionStatements(service, functionId(service, 'DeliveryPreTrafficHook'));
    const invoke = statements.filter((s) => asList(s.Action as string[]).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Resource).toEqual({ Ref: versionOf(service) });
    const lifecycle = statements.find((s) =>
      asList(s.Action as string[]).includes('codedeploy:PutLifecycleEventHookExecutionStatus'),
    );
    expect(JSON.stringify(lifecycle?.Resource)).toContain('deploymentgroup:');
    service.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TARGET_FUNCTION_ARN: { Ref: versionOf(service) },
          MAX_LATENCY_MS: String(config.deployment.preTrafficMaxLatencyMs),
        }),
      },
    });
  });

  it("retains published versions, so the runbook's update-alias rollback has a target", () => {
    // prepare
    const [, version] = only(service, 'AWS::Lambda::Version');
    // assert
    expect(version.DeletionPolicy).toBe('Retain');
    expect(version.UpdateReplacePolicy).toBe('Retain');
  });

  it('names each guardrail after the version it watches, so every deploy starts from a fresh alarm state', () => {
    const guardrails = Object.values(resources(service, 'AWS::CloudWatch::Alarm')).filter((a) =>
      JSON.stringify(a.Properties.AlarmName).includes('canary-'),
    );
    expect(guardrails).toHaveLength(4);
    for (const alarm of guardrails) {
      expect(alarm.Properties.AlarmName).toEqual({
        'Fn::Join': [
          '',
          [
            `${name}-score-v`,
            { 'Fn::GetAtt': [versionOf(service), 'Version'] },
            expect.stringMatching(/^-canary-[a-z-]+-page$/),
          ],
        ],
      });
    }
  });

  it('ignores p99 periods with fewer invocations than the minimum sample', () => {
    const [, latency] =
      [...alarmsByName(service).entries()].find(([n]) => n.endsWith('-canary-latency-page'))?.[1] ?? [];
    const metrics = latency?.Properties.Metrics as {
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string }; Stat: string };
    }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toMatch(
      new RegExp(`^IF\\((\\w+) >= ${config.deployment.latencyMinSamples}, (\\w+), 0\\)$`),
    );
    expect(
      metrics
        .filter((m) => m.MetricStat)
        .map((m) => [m.MetricStat?.Metric.MetricName, m.MetricStat?.Stat])
        .sort(),
    ).toEqual([
      ['Duration', 'p99'],
      ['Invocations', 'Sum'],
    ]);
  });

  it('bakes at 100 % for the configured minutes inside one Lambda invocation, with evidence and pruning settings', () => {
    const hookId = functionId(service, 'DeliveryPostTrafficHook');
    const hook = resources(service, 'AWS::Lambda::Function')[hookId] as CfnResource;
    const env = (hook.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({
      BAKE_SECONDS: String(config.deployment.bakeMinutes * 60),
      MIN_CANARY_INVOCATIONS: String(config.deployment.minCanaryInvocations),
      ON_LOW_TRAFFIC: config.deployment.onLowTraffic,
      RETAINED_VERSIONS: String(config.deployment.retainedVersions),
      TARGET_FUNCTION_ARN: { Ref: versionOf(service) },
      ALIAS_NAME: 'live',
      // both stages shift in a canary step: only that step's invocations count
      EVIDENCE_WINDOW: 'canary',
    });
    // The hook must report before its own timeout, and Lambda stops any invocation at 15 minutes.
    expect(hook.Properties.Timeout).toBe(config.deployment.bakeMinutes * 60 + 120);
    expect(hook.Properties.Timeout as number).toBeLessThanOrEqual(900);
  });

  it('lets the post-traffic hook delete only versions of the score function, and read their metrics', () => {
    const statements = functionStatements(service, functionId(service, 'DeliveryPostTrafficHook'));
    const scoreFn = functionId(service, 'ScoreFunction');
    const byAction = (action: string) =>
      statements.filter((s) => asList(s.Action as string[]).includes(action));
    expect(byAction('lambda:DeleteFunction').map((s) => s.Resource)).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [scoreFn, 'Arn'] }, ':*']] },
    ]);
    expect(byAction('lambda:ListVersionsByFunction').map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': [scoreFn, 'Arn'] },
    ]);
    expect(byAction('cloudwatch:GetMetricData').map((s) => asList(s.Action as string[]))).toEqual([
      ['cloudwatch:GetMetricData'],
    ]);
  });

  it('lets the post-traffic hook read exactly the guardrail alarms', () => {
    const statements = functionStatements(service, functionId(service, 'DeliveryPostTrafficHook'));
    const describe = statements.filter((s) =>
      asList(s.Action as string[]).includes('cloudwatch:DescribeAlarms'),
    );
    expect(describe).toHaveLength(1);
    expect(asList(describe[0]?.Resource)).toHaveLength(3);
  });
});

describe('bake and evidence per stage', () => {
  it('prod bakes at least 5 minutes and fails closed on a canary without traffic; dev passes quietly', () => {
    const p = stage('prod').config.deployment;
    const d = stage('dev').config.deployment;
    expect(p.bakeMinutes).toBeGreaterThanOrEqual(5);
    expect(p.onLowTraffic).toBe('fail');
    expect(d.onLowTraffic).toBe('pass');
  });
});

describe('deployment strategies from the stage config', () => {
  const config = (t: ReturnType<typeof stage>['service']) => only(t, 'AWS::CodeDeploy::DeploymentConfig')[1];

  it('prod shifts 10 % for 10 minutes, dev 50 % for 5 minutes', () => {
    expect(config(stage('prod').service).Properties?.TrafficRoutingConfig).toEqual({
      Type: 'TimeBasedCanary',
      TimeBasedCanary: { CanaryPercentage: 10, CanaryInterval: 10 },
    });
    expect(config(stage('dev').service).Properties?.TrafficRoutingConfig).toEqual({
      Type: 'TimeBasedCanary',
      TimeBasedCanary: { CanaryPercentage: 50, CanaryInterval: 5 },
    });
  });

  it('supports linear shifting and all-at-once', () => {
    const linear = synthStage(dev, (c) => ({
      ...c,
      deployment: { ...c.deployment, strategy: { type: 'linear', percentage: 20, intervalMinutes: 2 } },
    }));
    expect(config(linear.service).Properties?.TrafficRoutingConfig).toEqual({
      Type: 'TimeBasedLinear',
      TimeBasedLinear: { LinearPercentage: 20, LinearInterval: 2 },
    });
    const allAtOnce = synthStage(dev, (c) => ({
      ...c,
      deployment: { ...c.deployment, strategy: { type: 'allAtOnce' } },
    }));
    allAtOnce.service.resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 0);
    allAtOnce.service.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
    });
  });

  it('counts the whole deployment as evidence when there is no canary step (all at once)', () => {
    // prepare
    const allAtOnce = synthStage(dev, (c) => ({
      ...c,
      deployment: { ...c.deployment, strategy: { type: 'allAtOnce' } },
    }));
    // act
    const hook = resources(allAtOnce.service, 'AWS::Lambda::Function')[
      functionId(allAtOnce.service, 'DeliveryPostTrafficHook')
    ] as CfnResource;
    // assert
    expect(
      (hook.Properties.Environment as { Variables: Record<string, unknown> }).Variables.EVIDENCE_WINDOW,
    ).toBe('deployment');
  });

  it('schedules known peaks in the configured time zone (prod)', () => {
    const [, target] = only(stage('prod').service, 'AWS::ApplicationAutoScaling::ScalableTarget');
    const actions = target.Properties?.ScheduledActions as Record<string, unknown>[];
    expect(actions).toEqual(
      prod.capacity.scheduled.map((s) => ({
        ScheduledActionName: s.name,
        Schedule: s.schedule,
        Timezone: s.timeZone,
        ScalableTargetAction: { MinCapacity: s.minCapacity, MaxCapacity: s.maxCapacity },
      })),
    );
  });
});

describe('architecture', () => {
  it('builds every function and the layer for arm64 when the stage asks for it', () => {
    const { service } = synthStage(dev, (c) => ({ ...c, architecture: 'arm64' }));
    const fns = Object.values(resources(service, 'AWS::Lambda::Function')) as CfnResource[];
    const ours = fns.filter((f) => f.Properties?.Runtime === 'nodejs22.x');
    expect(ours.length).toBeGreaterThanOrEqual(5);
    for (const fn of ours) expect(fn.Properties?.Architectures).toEqual(['arm64']);
    service.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['arm64'] });
  });
});
