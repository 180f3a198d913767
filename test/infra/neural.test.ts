/**
 * The GPU neural service on AWS (issue 11), from the synthesized prod stage (neural on) and dev
 * (neural off): GPU reservation and AMI, capacity provider, canary delivery with alarms and
 * rollback, health checks, who may reach whom, endpoints, the score function's VPC placement,
 * least-privilege roles, and alarms wired to topics with runbook sections that exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { loadNeuralConfig } from '../../functions/shared/neural-config';
import { STAGES } from '../../infra/config/stages';
import { RUNBOOK_PATH } from '../../infra/constructs/naming';
import { INTERFACE_ENDPOINTS } from '../../infra/constructs/network';
import { NEURAL_GUARDRAIL_SIGNALS, neuralGuardrailNames } from '../../infra/constructs/neural-alarms';
import { NEURAL_MODEL_DIR_IN_BUNDLE } from '../../infra/constructs/neural-artifacts';
import { READINESS_PATH } from '../../infra/constructs/neural-load-balancer';
import {
  alarmsByName,
  asList,
  type CfnResource,
  functionId,
  iamStatements,
  only,
  resources,
  stage,
  synthStage,
} from './support';

const ROOT = join(__dirname, '..', '..');
const prod = stage('prod');
const network = Template.fromStack(prod.stacks.network as never);
const neural = Template.fromStack(prod.stacks.neural as never);
const neuralConfig = prod.config.neural.enabled ? prod.config.neural : undefined;
if (!neuralConfig) throw new Error('prod must enable the neural service');

/** The logical id of the one resource of `type` whose id starts with `prefix`. */
function idOf(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(resources(template, type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}

/** The security group ingress/egress rules of a template, inline and standalone. */
function rules(template: Template, kind: 'Ingress' | 'Egress') {
  const out: { group: string; peer: unknown; from: number; to: number }[] = [];
  for (const [id, sg] of Object.entries(resources(template, 'AWS::EC2::SecurityGroup'))) {
    for (const r of asList(sg.Properties[`SecurityGroup${kind}`] as Record<string, unknown>[])) {
      out.push({
        group: id,
        peer: r.SourceSecurityGroupId ?? r.DestinationSecurityGroupId ?? r.CidrIp,
        from: r.FromPort as number,
        to: r.ToPort as number,
      });
    }
  }
  for (const r of Object.values(resources(template, `AWS::EC2::SecurityGroup${kind}`))) {
    const p = r.Properties;
    out.push({
      group: (p.GroupId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0],
      peer: p.SourceSecurityGroupId ?? p.DestinationSecurityGroupId ?? p.CidrIp,
      from: p.FromPort as number,
      to: p.ToPort as number,
    });
  }
  return out;
}
const sgRef = (id: string) => ({ 'Fn::GetAtt': [id, 'GroupId'] });

/** The statements of the managed policy of the neural stack's role whose id starts with `rolePrefix`. */
function policyStatements(rolePrefix: string): Record<string, unknown>[] {
  const roleId = idOf(neural, 'AWS::IAM::Role', rolePrefix);
  const policies = Object.values(resources(neural, 'AWS::IAM::ManagedPolicy')).filter((p) =>
    JSON.stringify(p.Properties.Roles).includes(roleId),
  );
  return policies.flatMap(
    (p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
  );
}

describe('stages', () => {
  it('creates the network and neural stacks only where neural.enabled', () => {
    // prepare / act: stage() synthesizes with cdk-nag; it throws on any unacknowledged finding
    const dev = stage('dev');
    // assert
    expect(dev.stacks.network).toBeUndefined();
    expect(dev.stacks.neural).toBeUndefined();
    expect(prod.stacks.network).toBeDefined();
    expect(prod.stacks.neural).toBeDefined();
  });

  it('keeps the dev score function out of the VPC with the neural client off', () => {
    // prepare
    const { service } = stage('dev');
    // act
    const fn = resources(service, 'AWS::Lambda::Function')[
      functionId(service, 'ScoreFunction')
    ] as CfnResource;
    // assert
    expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(Object.keys((fn.Properties.Environment as { Variables: object }).Variables)).not.toContain(
      'NEURAL_URL',
    );
  });
});

describe('the score function with the neural service on (prod)', () => {
  const { service } = prod;
  const fn = resources(service, 'AWS::Lambda::Function')[functionId(service, 'ScoreFunction')] as CfnResource;

  it('runs in the private subnets with its own security group', () => {
    // act
    const vpcConfig = JSON.stringify(fn.Properties.VpcConfig);
    // assert
    expect(vpcConfig).toContain('ScoreFunctionSg');
    expect(vpcConfig).toMatch(/privateSubnet1.*privateSubnet2/);
  });

  it('gets the neural client settings the score code reads', () => {
    // act
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    // assert
    expect(vars).toMatchObject({
      NEURAL_MODE: neuralConfig.mode,
      NEURAL_MODEL: neuralConfig.model.name,
      NEURAL_BUDGET_MS: String(neuralConfig.budgetMs),
      NEURAL_MODEL_DIR: `/var/task/${NEURAL_MODEL_DIR_IN_BUNDLE}`,
    });
    // http:// + the ALB's DNS name, imported from the network stack
    expect(JSON.stringify(vars.NEURAL_URL)).toMatch(/"http:\/\/".*NeuralAlb.*DNSName/);
  });

  it('passes the client config loader as the function would at init (no missing variable)', () => {
    // prepare: the ALB's DNS name is a token until deploy; any http:// URL stands for it
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const env = Object.fromEntries(
      Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : 'http://internal-neural.elb']),
    );
    // act
    const loaded = loadNeuralConfig(env);
    // assert
    expect(loaded.mode).toBe(neuralConfig.mode);
    expect(loaded.modelDir).toBe(`/var/task/${NEURAL_MODEL_DIR_IN_BUNDLE}`);
  });

  it('names the model version Triton serves (its integer directory), which the uploaded repository holds', () => {
    // prepare
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const modelDir = join(ROOT, 'models', neuralConfig.model.name, neuralConfig.model.version);
    // act
    const version = vars.NEURAL_MODEL_VERSION as string;
    // assert
    expect(version).toMatch(/^\d+$/);
    expect(existsSync(join(modelDir, 'triton', neuralConfig.model.name, version, 'model.onnx'))).toBe(true);
  });
});

describe('network', () => {
  it('spreads private subnets over the configured AZs, with no internet gateway or NAT', () => {
    // act
    const subnets = Object.values(resources(network, 'AWS::EC2::Subnet'));
    // assert
    expect(subnets.map((s) => s.Properties.AvailabilityZone).sort()).toEqual(
      neuralConfig.availabilityZones.map((a) => `${prod.config.env.region}${a}`),
    );
    network.resourceCountIs('AWS::EC2::InternetGateway', 0);
    network.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('has gateway endpoints for S3 and DynamoDB and an interface endpoint for every API called', () => {
    // act
    const endpoints = Object.values(resources(network, 'AWS::EC2::VPCEndpoint'));
    const names = endpoints.map((e) => JSON.stringify(e.Properties.ServiceName));
    // assert
    const gateways = endpoints.filter((e) => e.Properties.VpcEndpointType === 'Gateway');
    expect(gateways.map((g) => JSON.stringify(g.Properties.ServiceName)).join()).toMatch(
      /s3.*dynamodb|dynamodb.*s3/,
    );
    for (const service of [
      'logs',
      'monitoring',
      'xray',
      'sqs',
      'kms',
      'sts',
      'lambda',
      'codedeploy',
      'ecr.api',
      'ecr.dkr',
      'ecs',
    ]) {
      expect(names.some((n) => n.includes(`.${service}`))).toBe(true);
    }
    expect(endpoints.length).toBe(Object.keys(INTERFACE_ENDPOINTS).length + 2);
  });

  it('puts one NAT gateway per AZ and no interface endpoints with egress: nat', () => {
    // prepare / act
    const nat = synthStage(STAGES.prod as never, (c) => ({
      ...c,
      neural: { ...(c.neural as typeof neuralConfig), egress: 'nat' },
    }));
    const template = Template.fromStack(nat.stacks.network as never);
    // assert
    template.resourceCountIs('AWS::EC2::NatGateway', neuralConfig.availabilityZones.length);
    const interfaces = Object.values(resources(template, 'AWS::EC2::VPCEndpoint')).filter(
      (e) => e.Properties.VpcEndpointType === 'Interface',
    );
    expect(interfaces).toHaveLength(0);
  });

  it('logs all VPC traffic to an encrypted log group', () => {
    // act
    const [, flowLog] = only(network, 'AWS::EC2::FlowLog');
    const [, group] = only(network, 'AWS::Logs::LogGroup');
    // assert
    expect(flowLog.Properties).toMatchObject({ TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    expect(group.Properties.KmsKeyId).toBeDefined();
  });

  it('lets only the score function reach the ALB (and the replay hook its test listener), and only the ALB reach the tasks', () => {
    // prepare
    const score = idOf(network, 'AWS::EC2::SecurityGroup', 'NetworkScoreFunctionSg');
    const hook = idOf(network, 'AWS::EC2::SecurityGroup', 'NetworkReplayHookSg');
    const alb = idOf(network, 'AWS::EC2::SecurityGroup', 'NetworkNeuralAlbSg');
    const task = idOf(network, 'AWS::EC2::SecurityGroup', 'NetworkNeuralTaskSg');
    // act
    const ingress = rules(network, 'Ingress');
    // assert
    expect(ingress.filter((r) => r.group === alb)).toEqual([
      { group: alb, peer: sgRef(score), from: 80, to: 80 },
      { group: alb, peer: sgRef(hook), from: 8080, to: 8080 },
    ]);
    expect(ingress.filter((r) => r.group === hook)).toEqual([]);
    expect(rules(network, 'Egress').filter((r) => r.group === hook)).toEqual([
      { group: hook, peer: sgRef(alb), from: 8080, to: 8080 },
    ]);
    expect(ingress.filter((r) => r.group === task)).toEqual([
      { group: task, peer: sgRef(alb), from: 8000, to: 8000 },
    ]);
    expect(ingress.filter((r) => r.group === score)).toEqual([]);
    // nothing in the network stack is open to an address range
    expect(ingress.filter((r) => typeof r.peer === 'string')).toEqual([]);
    const albEgress = rules(network, 'Egress').filter((r) => r.group === alb);
    expect(albEgress).toEqual([{ group: alb, peer: sgRef(task), from: 8000, to: 8000 }]);
  });

  it('is an internal ALB with readiness health checks and a short deregistration delay on both target groups', () => {
    // act
    const [, lb] = only(network, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    const groups = Object.values(resources(network, 'AWS::ElasticLoadBalancingV2::TargetGroup'));
    // assert
    expect(lb.Properties.Scheme).toBe('internal');
    expect(groups).toHaveLength(2);
    for (const g of groups) {
      expect(g.Properties).toMatchObject({
        TargetType: 'ip',
        Port: 8000,
        HealthCheckPath: READINESS_PATH,
        Matcher: { HttpCode: '200' },
      });
      expect(g.Properties.TargetGroupAttributes).toEqual(
        expect.arrayContaining([{ Key: 'deregistration_delay.timeout_seconds', Value: '10' }]),
      );
    }
  });
});

describe('compute', () => {
  it('reserves one GPU for Triton, pinned by digest, reading the model repository from S3', () => {
    // act
    const [, task] = only(neural, 'AWS::ECS::TaskDefinition');
    const containers = task.Properties.ContainerDefinitions as Record<string, unknown>[];
    const triton = containers.find((c) => c.Name === 'triton') as Record<string, unknown>;
    // assert
    expect(task.Properties.NetworkMode).toBe('awsvpc');
    expect(triton.ResourceRequirements).toEqual([{ Type: 'GPU', Value: '1' }]);
    expect(JSON.stringify(triton.Image)).toContain(`@${neuralConfig.tritonImage.digest}`);
    expect(JSON.stringify(triton.Command)).toMatch(/--model-repository=s3:\/\/.*fraud-seq\/1\.0\.0/);
    expect(triton.HealthCheck).toMatchObject({
      Command: ['CMD-SHELL', expect.stringContaining(READINESS_PATH)],
      StartPeriod: Math.min(neuralConfig.startupGraceSeconds, 300),
    });
    const agent = containers.find((c) => c.Name === 'cloudwatch-agent') as Record<string, unknown>;
    expect(agent.Essential).toBe(false);
    expect(JSON.stringify(agent.Environment)).toContain('nv_gpu_utilization');
  });

  it('boots the ECS GPU-optimized AMI on the configured instance type, IMDSv2 only, no public IP', () => {
    // act
    const [, lt] = only(neural, 'AWS::EC2::LaunchTemplate');
    const data = lt.Properties.LaunchTemplateData as Record<string, unknown>;
    // assert
    expect(JSON.stringify(neural.toJSON().Parameters)).toContain(
      '/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/',
    );
    expect(data.InstanceType).toBe(neuralConfig.instanceType);
    expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required' });
    expect(JSON.stringify(data.NetworkInterfaces ?? data)).not.toContain('"AssociatePublicIpAddress":true');
  });

  it('scales instances through a capacity provider with managed scaling and termination protection', () => {
    // act
    const [, cp] = only(neural, 'AWS::ECS::CapacityProvider');
    const [, asg] = only(neural, 'AWS::AutoScaling::AutoScalingGroup');
    // assert
    expect(cp.Properties.AutoScalingGroupProvider).toMatchObject({
      ManagedScaling: { Status: 'ENABLED', TargetCapacity: 100 },
      ManagedTerminationProtection: 'ENABLED',
    });
    expect(asg.Properties).toMatchObject({
      NewInstancesProtectedFromScaleIn: true,
      MaxSize: String(neuralConfig.tasks.max * 2),
    });
  });

  it('deploys with the ECS canary strategy, rolling back on the guardrail alarms and the circuit breaker', () => {
    // act
    const [, svc] = only(neural, 'AWS::ECS::Service');
    // assert
    expect(svc.Properties.DeploymentConfiguration).toMatchObject({
      Strategy: 'CANARY',
      CanaryConfiguration: {
        CanaryPercent: neuralConfig.canary.percent,
        CanaryBakeTimeInMinutes: neuralConfig.canary.bakeMinutes,
      },
      Alarms: { Enable: true, Rollback: true, AlarmNames: neuralGuardrailNames(prod.config.stage) },
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
    });
    expect(svc.Properties.HealthCheckGracePeriodSeconds).toBe(neuralConfig.startupGraceSeconds);
    const lbs = svc.Properties.LoadBalancers as Record<string, Record<string, unknown>>[];
    expect(JSON.stringify(lbs)).toMatch(
      /AdvancedConfiguration.*AlternateTargetGroupArn.*ProductionListenerRule/,
    );
    // every guardrail the service names exists in the stack
    const names = [...alarmsByName(neural).keys()];
    for (const name of neuralGuardrailNames(prod.config.stage)) expect(names).toContain(name);
  });

  it('scales tasks on requests per task and GPU utilization, with scheduled floors', () => {
    // act
    const [, target] = only(neural, 'AWS::ApplicationAutoScaling::ScalableTarget');
    const policies = Object.values(resources(neural, 'AWS::ApplicationAutoScaling::ScalingPolicy'));
    // assert
    expect(target.Properties).toMatchObject({
      MinCapacity: neuralConfig.tasks.min,
      MaxCapacity: neuralConfig.tasks.max,
    });
    const tracked = policies.map(
      (p) =>
        (
          p.Properties.TargetTrackingScalingPolicyConfiguration as {
            CustomizedMetricSpecification: { MetricName: string };
          }
        ).CustomizedMetricSpecification.MetricName,
    );
    expect(tracked.sort()).toEqual(['nv_gpu_utilization', 'nv_inference_request_success']);
    expect((target.Properties.ScheduledActions as unknown[]).length).toBe(neuralConfig.scheduled.length);
  });
});

describe('least privilege (neural stack)', () => {
  const statements = iamStatements(neural);
  const policyOf = (rolePrefix: string) => {
    const roleId = idOf(neural, 'AWS::IAM::Role', rolePrefix);
    return statements.filter(({ policy }) => policy.startsWith(roleId.replace(/[0-9A-F]{8}$/, '')));
  };

  it('lets the task read only this model version’s prefix and write only its metrics log group', () => {
    // act
    const actions = policyOf('NeuralTaskRole').flatMap(({ statement }) =>
      asList(statement.Action as string[]),
    );
    const resourcesText = JSON.stringify(
      policyOf('NeuralTaskRole').map(({ statement }) => statement.Resource),
    );
    // assert
    expect(actions.sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:DescribeLogStreams',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:ListBucket',
      ].sort(),
    );
    expect(resourcesText).toContain(`/${neuralConfig.model.name}/${neuralConfig.model.version}/*`);
    expect(resourcesText).not.toContain('"*"');
  });

  it('lets the model copy read one asset object and write one model key, per file', () => {
    // act
    const copies = statements.filter(({ policy }) => policy.includes('CopyModelFile'));
    // assert
    expect(copies.length).toBeGreaterThanOrEqual(4); // config.pbtxt and model.onnx: get + put each
    for (const { statement } of copies) {
      expect(asList(statement.Action as string[]).length).toBe(1);
      expect(JSON.stringify(statement.Resource)).not.toMatch(/\/\*"/);
    }
  });

  it('uses wildcards only where the ECS agent and ECR need them', () => {
    // act
    const wild = statements.filter(({ statement }) => asList(statement.Resource).includes('*'));
    // assert
    for (const { statement } of wild) {
      for (const action of asList(statement.Action as string[])) {
        expect([
          'ecr:GetAuthorizationToken',
          'ecs:DiscoverPollEndpoint',
          'ecs:Poll',
          'ecs:StartTelemetrySession',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          // the replay hook: X-Ray, and the ENI calls of a function in the VPC
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ]).toContain(action);
        if (action.startsWith('ec2:') || action.startsWith('xray:'))
          expect(policyOf('NeuralReplayHookRole').map((p) => p.statement)).toContainEqual(statement);
      }
    }
  });
});

describe('pre-traffic replay (ECS lifecycle hook)', () => {
  const [, svc] = only(neural, 'AWS::ECS::Service');
  const hookId = idOf(neural, 'AWS::Lambda::Function', 'NeuralReplayHookFunction');
  const hookFn = resources(neural, 'AWS::Lambda::Function')[hookId] as CfnResource;

  it('runs the replay hook after the test traffic shift, before any production traffic', () => {
    // act
    const hooks = svc.Properties.DeploymentConfiguration as { LifecycleHooks?: Record<string, unknown>[] };
    const lbs = JSON.stringify(svc.Properties.LoadBalancers);
    // assert
    expect(hooks.LifecycleHooks).toEqual([
      {
        HookTargetArn: { 'Fn::GetAtt': [hookId, 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [idOf(neural, 'AWS::IAM::Role', 'NeuralReplayInvokeRole'), 'Arn'] },
        LifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
      },
    ]);
    // the new revision gets the test listener's traffic: the hook reaches it there
    expect(lbs).toMatch(/AdvancedConfiguration.*TestListenerRule/);
  });

  it('calls the test listener from its own security group with the card’s tolerance and Triton’s version', () => {
    // act
    const vars = (hookFn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const card = JSON.parse(
      readFileSync(
        join(ROOT, 'models', neuralConfig.model.name, neuralConfig.model.version, 'model.json'),
        'utf8',
      ),
    );
    const scoreFn = resources(prod.service, 'AWS::Lambda::Function')[
      functionId(prod.service, 'ScoreFunction')
    ] as CfnResource;
    const scoreVars = (scoreFn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    // assert
    expect(scoreVars.NEURAL_MODEL_VERSION).toMatch(/^\d+$/);
    expect(JSON.stringify(hookFn.Properties.VpcConfig)).toContain('ReplayHookSg');
    expect(JSON.stringify(vars.NEURAL_TEST_URL)).toMatch(/"http:\/\/".*NeuralAlb.*DNSName.*":8080"/);
    expect(vars).toMatchObject({
      NEURAL_MODEL: neuralConfig.model.name,
      // the same Triton version the score function calls
      NEURAL_MODEL_VERSION: scoreVars.NEURAL_MODEL_VERSION,
      REPLAY_PATH: '/var/task/neural-replay.jsonl',
      REPLAY_TOLERANCE: String(card.replay.tolerance),
    });
  });

  it('lets ECS invoke the hook function and nothing else', () => {
    // act
    const invoke = policyStatements('NeuralReplayInvokeRole');
    // assert
    expect(invoke).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [hookId, 'Arn'] } },
    ]);
  });
});

describe('alarms', () => {
  const alarms = alarmsByName(neural);
  const topicOf = (name: string) => {
    const [, alarm] = alarms.get(name) as [string, CfnResource];
    return JSON.stringify(alarm.Properties.AlarmActions);
  };

  it('pages on the guardrails, service down and neural unavailable; tickets GPU saturation, queue time and an unhealthy AZ', () => {
    // act
    const names = [...alarms.keys()].sort();
    // assert
    const s = prod.config.stage;
    expect(names).toEqual(
      [
        ...NEURAL_GUARDRAIL_SIGNALS.map((signal) => `${s}-neural-${signal}-page`),
        `${s}-neural-healthy-tasks-page`,
        `${s}-neural-unavailable-page`,
        `${s}-neural-gpu-utilization-ticket`,
        `${s}-neural-queue-time-ticket`,
        `${s}-neural-unhealthy-az-ticket`,
      ].sort(),
    );
    for (const name of names) {
      expect(topicOf(name)).toContain(name.endsWith('-page') ? 'PageTopic' : 'TicketTopic');
    }
  });

  it('names a runbook section in every alarm description, and the runbook has it', () => {
    // prepare
    const runbook = readFileSync(join(ROOT, RUNBOOK_PATH), 'utf8');
    const anchors = new Set(
      [...runbook.matchAll(/^###\s+(.+)$/gm)].map((m) => (m[1] as string).trim().toLowerCase()),
    );
    // act / assert
    for (const [name, [, alarm]] of alarms) {
      const anchor = String(alarm.Properties.AlarmDescription).match(
        /Runbook: docs\/runbook\.md#([a-z0-9-]+)$/,
      )?.[1];
      expect({ name, anchor }).toEqual({ name, anchor: name.replace(/^[a-z0-9]+-|-(page|ticket)$/g, '') });
      expect({ name, inRunbook: anchors.has(anchor as string) }).toEqual({ name, inRunbook: true });
    }
  });

  it('treats a missing healthy-target count as the service being down', () => {
    // act
    const [, alarm] = alarms.get(`${prod.config.stage}-neural-healthy-tasks-page`) as [string, CfnResource];
    // assert
    expect(alarm.Properties).toMatchObject({
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
    });
  });
});
