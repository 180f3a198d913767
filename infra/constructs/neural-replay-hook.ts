/**
 * The neural service's pre-traffic replay hook: an ECS deployment lifecycle hook
 * (`POST_TEST_TRAFFIC_SHIFT`) that replays the model's golden cases against each new revision
 * through the test listener before any payment reaches it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';

import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { NeuralServiceProps } from './neural-service';
import { ManagedPolicyRole } from './roles';
import { REPO_ROOT, ServiceFunction } from './service-function';

/**
 * The pre-traffic replay: the model's golden cases through the test listener, with the score
 * function's own client and sequence code; a mismatch or a revision that never gets ready rolls
 * back before any payment reaches it (functions/deploy-hooks/neural-replay.ts).
 */
export function addNeuralReplayHook(
  scope: Construct,
  service: ecs.Ec2Service,
  props: NeuralServiceProps,
): { replayHook: ServiceFunction; replayInvokeRole: ManagedPolicyRole } {
  const { config, network, stage } = props;
  const lb = props.loadBalancer;
  const modelDir = join(props.modelsDir, config.model.name, config.model.version);
  const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as {
    replay?: { tolerance?: number };
  };
  const replayHook = new ServiceFunction(scope, 'ReplayHook', {
    service: 'deploy-hooks',
    stage,
    entry: props.replayHookEntry ?? join(REPO_ROOT, 'functions', 'deploy-hooks', 'neural-replay-lambda.ts'),
    description: `Replays ${config.model.name}@${config.model.version} golden cases on new neural tasks`,
    architecture: 'arm64',
    logsKey: props.logsKey,
    logRetentionDays: props.logRetentionDays,
    // ECS calls again while the hook answers IN_PROGRESS: one call waits at most this long.
    timeout: Duration.minutes(2),
    network: {
      vpc: network.vpc,
      subnets: network.privateSubnets,
      securityGroup: network.replayHookSecurityGroup,
    },
    environment: {
      NEURAL_TEST_URL: lb.testUrl,
      NEURAL_MODEL: config.model.name,
      NEURAL_MODEL_VERSION: props.tritonVersion,
      REPLAY_PATH: '/var/task/neural-replay.jsonl',
      REPLAY_TOLERANCE: String(card.replay?.tolerance ?? 1e-4),
      // Task start, CUDA init and the S3 read: up to startupGraceSeconds, polled every 15 s.
      READY_ATTEMPTS: String(Math.max(4, Math.ceil(config.startupGraceSeconds / 15) + 4)),
      CALLBACK_DELAY_SECONDS: '15',
    },
    bundleFiles: [{ from: join(modelDir, 'replay.jsonl'), to: 'neural-replay.jsonl' }],
  });
  // ECS assumes this role to call the hook: invoke on the hook function's ARN, nothing else
  // (the default role would get an inline policy with `<arn>:*`).
  const replayInvokeRole = new ManagedPolicyRole(scope, 'ReplayInvokeRole', {
    assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
    description: 'ECS invokes the neural replay hook during deployments',
  });
  replayInvokeRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [replayHook.function.functionArn],
    }),
  );
  const hookTarget = new ecs.DeploymentLifecycleLambdaTarget(replayHook.function, 'NeuralReplay', {
    role: replayInvokeRole,
    lifecycleStages: [ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT],
  });
  service.addLifecycleHook(hookTarget);
  return { replayHook, replayInvokeRole };
}
