/**
 * The GPU neural service: NVIDIA Triton Inference Server on ECS, one GPU per task, on an EC2
 * capacity provider of GPU instances (the ECS GPU-optimized AMI, managed scaling and managed
 * termination protection), behind the internal ALB of `neural-load-balancer.ts`.
 *
 * - The model repository (`models/<name>/<version>/triton/`) is uploaded file by file as CDK
 *   assets and copied to `s3://<model bucket>/<name>/<version>/`; Triton reads it from there.
 *   A new model version is a new prefix, so the previous task definition still finds its model
 *   when a canary rolls back.
 * - A CloudWatch agent sidecar scrapes Triton's Prometheus endpoint (request counts, queue and
 *   compute time, GPU utilization and memory) into CloudWatch as embedded metrics.
 * - Deployments use ECS's built-in canary strategy with deployment alarms that roll back and
 *   the deployment circuit breaker.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Annotations, Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { EcrImage, NeuralConfig } from '../config/stage-config';
import { encryptedLogGroup } from './encryption';
import { type NeuralNetwork, TRITON_HTTP_PORT, TRITON_METRICS_PORT } from './network';
import type { NeuralLoadBalancer } from './neural-load-balancer';
import { READINESS_PATH } from './neural-load-balancer';
import { ManagedPolicyRole } from './roles';
import { REPO_ROOT, ServiceFunction } from './service-function';

/** CloudWatch namespace of the metrics the agent sidecar scrapes from Triton. */
export const TRITON_METRICS_NAMESPACE = 'FraudScoring/Neural';
/** How often the sidecar scrapes Triton, seconds (also the unit of the per-task request target). */
export const SCRAPE_INTERVAL_SECONDS = 15;

/** Triton metric names as Prometheus exposes them (documented by NVIDIA: Triton metrics.md). */
export const TritonMetric = {
  RequestSuccess: 'nv_inference_request_success',
  RequestFailure: 'nv_inference_request_failure',
  InferenceCount: 'nv_inference_count',
  ExecutionCount: 'nv_inference_exec_count',
  RequestDurationUs: 'nv_inference_request_duration_us',
  QueueDurationUs: 'nv_inference_queue_duration_us',
  ComputeDurationUs: 'nv_inference_compute_infer_duration_us',
  QueueSummaryUs: 'nv_inference_queue_summary_us',
  ComputeSummaryUs: 'nv_inference_compute_infer_summary_us',
  GpuUtilization: 'nv_gpu_utilization',
  GpuMemoryUsedBytes: 'nv_gpu_memory_used_bytes',
  GpuMemoryTotalBytes: 'nv_gpu_memory_total_bytes',
} as const;
/** A Triton metric name. */
export type TritonMetricName = (typeof TritonMetric)[keyof typeof TritonMetric];

const MODEL_METRICS: readonly TritonMetricName[] = [
  TritonMetric.RequestSuccess,
  TritonMetric.RequestFailure,
  TritonMetric.InferenceCount,
  TritonMetric.ExecutionCount,
  TritonMetric.RequestDurationUs,
  TritonMetric.QueueDurationUs,
  TritonMetric.ComputeDurationUs,
];
const SUMMARY_METRICS: readonly TritonMetricName[] = [
  TritonMetric.QueueSummaryUs,
  TritonMetric.ComputeSummaryUs,
];
const GPU_METRICS: readonly TritonMetricName[] = [
  TritonMetric.GpuUtilization,
  TritonMetric.GpuMemoryUsedBytes,
  TritonMetric.GpuMemoryTotalBytes,
];

/**
 * One Triton metric as the sidecar publishes it. Model metrics carry `{stage, model}`, the
 * latency summaries also `quantile`, GPU metrics `{stage}`: every task writes the same
 * dimensions, so a statistic aggregates across tasks.
 */
export function tritonMetric(
  name: TritonMetricName,
  options: { stage: string; model?: string; quantile?: string; statistic: string; label?: string },
): cloudwatch.Metric {
  const dimensionsMap: Record<string, string> = { stage: options.stage };
  if (options.model !== undefined) dimensionsMap.model = options.model;
  if (options.quantile !== undefined) dimensionsMap.quantile = options.quantile;
  return new cloudwatch.Metric({
    namespace: TRITON_METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap,
    statistic: options.statistic,
    label: options.label,
    period: Duration.minutes(1),
  });
}

export interface NeuralServiceProps {
  /** Stage name (metric dimension, descriptions). */
  readonly stage: string;
  /** The neural block of the stage config. */
  readonly config: NeuralConfig;
  /** Directory holding `<name>/<version>/triton/`. */
  readonly modelsDir: string;
  /** VPC, subnets and security groups. */
  readonly network: NeuralNetwork;
  /** The internal ALB, its target groups and production rule. */
  readonly loadBalancer: NeuralLoadBalancer;
  /**
   * Names of the alarms that roll a deployment back (created by the caller with these exact
   * names; plain strings, so ECS and the alarms do not depend on each other's deploy order).
   */
  readonly deploymentAlarmNames: readonly string[];
  /** Key of the task log groups (its policy must allow CloudWatch Logs). */
  readonly logsKey: kms.IKey;
  /** Days to keep task logs. */
  readonly logRetentionDays: number;
  /** Triton's version directory of the model (`loadNeuralArtifacts`): the hook's `NEURAL_MODEL_VERSION`. */
  readonly tritonVersion: string;
  /**
   * Entry of the replay hook (ECS lifecycle hook at `POST_TEST_TRAFFIC_SHIFT`).
   * @default functions/deploy-hooks/neural-replay-lambda.ts
   */
  readonly replayHookEntry?: string;
}

export class NeuralService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly capacityProvider: ecs.AsgCapacityProvider;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly service: ecs.Ec2Service;
  readonly modelBucket: s3.Bucket;
  /** `<name>/<version>`: the model bucket prefix of this version's repository. */
  readonly modelPrefix: string;
  /** `s3://bucket/<name>/<version>`: the repository Triton loads. */
  readonly modelRepositoryUrl: string;
  readonly scaling: ecs.ScalableTaskCount;
  readonly instanceRole: ManagedPolicyRole;
  readonly taskRole: ManagedPolicyRole;
  readonly executionRole: ManagedPolicyRole;
  /** The custom resources that copy the model files into the bucket. */
  readonly modelUploads: readonly cr.AwsCustomResource[];
  /** Replays the model's golden cases against each new revision before production traffic. */
  readonly replayHook: ServiceFunction;
  /** The role ECS assumes to invoke {@link replayHook}. */
  readonly replayInvokeRole: ManagedPolicyRole;
  /** Triton's version directory of the served model (`loadNeuralArtifacts`). */
  readonly tritonVersion: string;

  constructor(scope: Construct, id: string, props: NeuralServiceProps) {
    super(scope, id);
    const { config, network, stage } = props;
    const { region } = Stack.of(this);

    // --- model repository ---------------------------------------------------------------
    this.modelBucket = new s3.Bucket(this, 'Models', {
      // Model weights, not cardholder data: SSE-S3 keeps Triton free of KMS calls.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const prefix = `${config.model.name}/${config.model.version}`;
    this.modelPrefix = prefix;
    this.modelRepositoryUrl = `s3://${this.modelBucket.bucketName}/${prefix}`;
    const uploads = this.uploadRepository(
      join(props.modelsDir, config.model.name, config.model.version, 'triton'),
      prefix,
    );
    this.modelUploads = uploads;

    // --- instances ----------------------------------------------------------------------
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    this.instanceRole = new ManagedPolicyRole(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `ECS container instances of the ${stage} neural service`,
    });
    const userData = ec2.UserData.forLinux();
    // Documented by AWS (ECS GPU workloads, task networking): GPUs are offered to tasks, and
    // awsvpc tasks cannot read the instance's metadata (its role).
    userData.addCommands(
      'echo ECS_ENABLE_GPU_SUPPORT=true >> /etc/ecs/ecs.config',
      'echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config',
    );
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.GPU),
      instanceType: new ec2.InstanceType(config.instanceType),
      role: this.instanceRole,
      securityGroup: network.instanceSecurityGroup,
      userData,
      requireImdsv2: true,
      detailedMonitoring: true,
      associatePublicIpAddress: false,
      blockDevices: [
        {
          // The Triton image is ~15 GB unpacked; 100 GB leaves room for one image update.
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(100, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
          }),
        },
      ],
    });
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'GpuInstances', {
      vpc: network.vpc,
      vpcSubnets: network.privateSubnets,
      launchTemplate,
      minCapacity: 0,
      // Both revisions run side by side during a canary (AWS: plan cluster capacity for both
      // service revisions), so a deployment at the ceiling needs twice the tasks.
      maxCapacity: config.tasks.max * 2,
    });
    this.capacityProvider = new ecs.AsgCapacityProvider(this, 'GpuCapacity', {
      autoScalingGroup: this.autoScalingGroup,
      machineImageType: ecs.MachineImageType.AMAZON_LINUX_2,
      enableManagedScaling: true,
      // 100 %: no idle GPU instances; ECS adds instances when tasks cannot be placed.
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
      // GPU AMI boot + agent registration + image pull.
      instanceWarmupPeriod: 300,
    });
    this.cluster.addAsgCapacityProvider(this.capacityProvider);

    // --- task -----------------------------------------------------------------------------
    this.taskRole = new ManagedPolicyRole(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Triton and its CloudWatch agent (${stage}): read the model prefix, write metrics logs`,
    });
    this.executionRole = new ManagedPolicyRole(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Pulls the neural service images and writes its container logs (${stage})`,
    });
    // Triton lists the repository, then reads its files: this model version's prefix only.
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.modelBucket.arnForObjects(`${prefix}/*`)],
      }),
    );
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.modelBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, prefix] } },
      }),
    );
    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', {
      networkMode: ecs.NetworkMode.AWS_VPC,
      taskRole: this.taskRole,
      executionRole: this.executionRole,
    });
    const logs = encryptedLogGroup(this, 'TaskLogs', {
      encryptionKey: props.logsKey,
      retentionDays: props.logRetentionDays,
    });
    const metricsLogs = encryptedLogGroup(this, 'MetricsLogs', {
      encryptionKey: props.logsKey,
      retentionDays: props.logRetentionDays,
    });
    metricsLogs.grantWrite(this.taskRole);
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:DescribeLogStreams'], resources: [metricsLogs.logGroupArn] }),
    );

    const triton = this.taskDefinition.addContainer('triton', {
      image: ecrImage(this, 'TritonImage', config.tritonImage),
      gpuCount: 1,
      essential: true,
      memoryReservationMiB: 8 * 1024,
      command: tritonCommand(this.modelRepositoryUrl),
      environment: { AWS_REGION: region, AWS_DEFAULT_REGION: region },
      portMappings: [
        { name: 'http', containerPort: TRITON_HTTP_PORT, protocol: ecs.Protocol.TCP },
        { name: 'metrics', containerPort: TRITON_METRICS_PORT, protocol: ecs.Protocol.TCP },
      ],
      healthCheck: {
        command: ['CMD-SHELL', `curl -sf http://localhost:${TRITON_HTTP_PORT}${READINESS_PATH} || exit 1`],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        // ECS caps the container start period at 300 s.
        startPeriod: Duration.seconds(Math.min(config.startupGraceSeconds, 300)),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: logs, streamPrefix: 'triton' }),
      // NVIDIA's recommended docker flags for Triton: --shm-size=1g, --ulimit memlock=-1, stack=64 MiB.
      linuxParameters: new ecs.LinuxParameters(this, 'TritonLinux', { sharedMemorySize: 1024 }),
    });
    triton.addUlimits(
      { name: ecs.UlimitName.MEMLOCK, softLimit: -1, hardLimit: -1 },
      { name: ecs.UlimitName.STACK, softLimit: 67_108_864, hardLimit: 67_108_864 },
    );
    const agent = this.taskDefinition.addContainer('cloudwatch-agent', {
      image: ecrImage(this, 'AgentImage', config.cloudwatchAgentImage),
      // Losing metrics must not take inference down; the alarms treat missing data explicitly.
      essential: false,
      memoryReservationMiB: 256,
      environment: {
        CW_CONFIG_CONTENT: agentConfig(metricsLogs.logGroupName),
        PROMETHEUS_CONFIG_CONTENT: prometheusConfig(stage),
        AWS_REGION: region,
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: logs, streamPrefix: 'cloudwatch-agent' }),
    });
    agent.addContainerDependencies({ container: triton, condition: ecs.ContainerDependencyCondition.START });

    // --- service ------------------------------------------------------------------------
    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      capacityProviderStrategies: [
        { capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 },
      ],
      securityGroups: [network.taskSecurityGroup],
      vpcSubnets: network.privateSubnets,
      placementStrategies: [ecs.PlacementStrategy.spreadAcross(ecs.BuiltInAttributes.AVAILABILITY_ZONE)],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(config.startupGraceSeconds),
      deploymentStrategy: ecs.DeploymentStrategy.CANARY,
      canaryConfiguration: {
        stepPercent: config.canary.percent,
        stepBakeTime: Duration.minutes(config.canary.bakeMinutes),
      },
      // After 100 %: the alarms keep watching before the old tasks are stopped.
      bakeTime: Duration.minutes(config.canary.bakeMinutes),
      deploymentAlarms: {
        alarmNames: [...props.deploymentAlarmNames],
        behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
      },
      circuitBreaker: { enable: true, rollback: true },
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    const lb = props.loadBalancer;
    this.service
      .loadBalancerTarget({
        containerName: triton.containerName,
        containerPort: TRITON_HTTP_PORT,
        alternateTarget: new ecs.AlternateTarget('Green', {
          alternateTargetGroup: lb.greenTargetGroup,
          productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(lb.productionRule),
          // The new revision gets all of the test listener's traffic first: the replay hook's.
          testListener: ecs.ListenerRuleConfiguration.applicationListenerRule(lb.testRule),
        }),
      })
      .attachToApplicationTargetGroup(lb.blueTargetGroup);
    for (const upload of uploads) this.service.node.addDependency(upload);

    // --- pre-traffic replay ---------------------------------------------------------------
    // The model's golden cases through the test listener, with the score function's own client
    // and sequence code; a mismatch or a revision that never gets ready rolls back before any
    // payment reaches it (functions/deploy-hooks/neural-replay.ts).
    const modelDir = join(props.modelsDir, config.model.name, config.model.version);
    const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as {
      replay?: { tolerance?: number };
    };
    this.tritonVersion = props.tritonVersion;
    this.replayHook = new ServiceFunction(this, 'ReplayHook', {
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
        NEURAL_MODEL_VERSION: this.tritonVersion,
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
    this.replayInvokeRole = new ManagedPolicyRole(this, 'ReplayInvokeRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: 'ECS invokes the neural replay hook during deployments',
    });
    this.replayInvokeRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.replayHook.function.functionArn],
      }),
    );
    const hookTarget = new ecs.DeploymentLifecycleLambdaTarget(this.replayHook.function, 'NeuralReplay', {
      role: this.replayInvokeRole,
      lifecycleStages: [ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT],
    });
    this.service.addLifecycleHook(hookTarget);

    // --- scaling ------------------------------------------------------------------------
    this.scaling = this.service.autoScaleTaskCount({
      minCapacity: config.tasks.min,
      maxCapacity: config.tasks.max,
    });
    // Per-task request rate from Triton itself: an ALB target-group metric would follow only
    // one of the two groups the canary alternates between.
    this.scaling.scaleToTrackCustomMetric('RequestsPerTask', {
      metric: tritonMetric(TritonMetric.RequestSuccess, {
        stage,
        model: config.model.name,
        statistic: cloudwatch.Stats.AVERAGE,
      }),
      targetValue: Math.max(
        1,
        Math.round((config.requestsPerTargetPerMinute * SCRAPE_INTERVAL_SECONDS) / 60),
      ),
      scaleOutCooldown: Duration.minutes(2),
      scaleInCooldown: Duration.minutes(10),
    });
    this.scaling.scaleToTrackCustomMetric('GpuUtilization', {
      metric: tritonMetric(TritonMetric.GpuUtilization, { stage, statistic: cloudwatch.Stats.AVERAGE }),
      // Triton reports utilization as a fraction (0.0–1.0).
      targetValue: config.gpuUtilizationTarget / 100,
      scaleOutCooldown: Duration.minutes(2),
      scaleInCooldown: Duration.minutes(10),
    });
    for (const action of config.scheduled) {
      this.scaling.scaleOnSchedule(action.name, {
        schedule: appscaling.Schedule.expression(action.schedule),
        timeZone: action.timeZone ? TimeZone.of(action.timeZone) : undefined,
        minCapacity: action.minCapacity,
        maxCapacity: action.maxCapacity,
      });
    }

    for (const [what, image] of [
      ['tritonImage', config.tritonImage],
      ['cloudwatchAgentImage', config.cloudwatchAgentImage],
    ] as const) {
      if (/^sha256:0+$/.test(image.digest)) {
        Annotations.of(this).addWarningV2(
          'fraud-scoring:neural-image-placeholder',
          `stage ${stage}: neural.${what} has the placeholder digest; mirror ${image.upstream} and pin its digest (docs/deploy.md#mirror-the-images)`,
        );
      }
    }
  }

  /**
   * Uploads every file of the Triton repository as an asset and copies it to
   * `<prefix>/<relative path>` in the model bucket (CopyObject: exact object ARNs, no wildcard).
   */
  private uploadRepository(dir: string, prefix: string): cr.AwsCustomResource[] {
    const files = listFiles(dir);
    if (files.length === 0) throw new Error(`no Triton model repository in ${dir}`);
    return files.map((file, i) => {
      const key = `${prefix}/${relative(dir, file).split(sep).join('/')}`;
      const asset = new s3assets.Asset(this, `ModelFile${i}`, { path: file });
      const copy = {
        service: 'S3',
        action: 'copyObject',
        parameters: {
          Bucket: this.modelBucket.bucketName,
          Key: key,
          CopySource: `${asset.s3BucketName}/${asset.s3ObjectKey}`,
        },
        physicalResourceId: cr.PhysicalResourceId.of(key),
      };
      return new cr.AwsCustomResource(this, `CopyModelFile${i}`, {
        onCreate: copy,
        onUpdate: copy,
        installLatestAwsSdk: false,
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({
            actions: ['s3:GetObject'],
            resources: [`arn:${Stack.of(this).partition}:s3:::${asset.s3BucketName}/${asset.s3ObjectKey}`],
          }),
          new iam.PolicyStatement({
            actions: ['s3:PutObject'],
            resources: [this.modelBucket.arnForObjects(key)],
          }),
        ]),
      });
    });
  }
}

/** Triton's command line: the S3 repository, strict readiness, latency summaries for p99 alarms. */
export function tritonCommand(repositoryUrl: string): string[] {
  return [
    'tritonserver',
    `--model-repository=${repositoryUrl}`,
    '--model-control-mode=none',
    '--strict-readiness=true',
    '--exit-on-error=true',
    `--http-port=${TRITON_HTTP_PORT}`,
    '--allow-grpc=false',
    `--metrics-port=${TRITON_METRICS_PORT}`,
    '--allow-gpu-metrics=true',
    '--metrics-config=summary_latencies=true',
    '--metrics-config=summary_quantiles=0.5:0.05,0.99:0.001',
  ];
}

/** Prometheus scrape config of the sidecar: Triton on localhost, with the stage as a label. */
export function prometheusConfig(stage: string): string {
  return [
    'global:',
    `  scrape_interval: ${SCRAPE_INTERVAL_SECONDS}s`,
    '  scrape_timeout: 10s',
    'scrape_configs:',
    '  - job_name: triton',
    '    static_configs:',
    `      - targets: ['localhost:${TRITON_METRICS_PORT}']`,
    '        labels:',
    `          stage: ${stage}`,
    '',
  ].join('\n');
}

/** CloudWatch agent config: Prometheus → EMF in `metricsLogGroup`, namespace {@link TRITON_METRICS_NAMESPACE}. */
export function agentConfig(metricsLogGroup: string): string {
  const selector = (names: readonly string[]) => `^(${names.join('|')})$`;
  // The log group name is a token: JSON.stringify keeps it intact and CloudFormation fills it in.
  return JSON.stringify({
    logs: {
      metrics_collected: {
        prometheus: {
          prometheus_config_path: 'env:PROMETHEUS_CONFIG_CONTENT',
          log_group_name: metricsLogGroup,
          emf_processor: {
            metric_namespace: TRITON_METRICS_NAMESPACE,
            metric_declaration: [
              {
                source_labels: ['job'],
                label_matcher: '^triton$',
                dimensions: [['stage', 'model']],
                metric_selectors: [selector(MODEL_METRICS)],
              },
              {
                source_labels: ['job'],
                label_matcher: '^triton$',
                dimensions: [['stage', 'model', 'quantile']],
                metric_selectors: [selector(SUMMARY_METRICS)],
              },
              {
                source_labels: ['job'],
                label_matcher: '^triton$',
                dimensions: [['stage']],
                metric_selectors: [selector(GPU_METRICS)],
              },
            ],
          },
        },
      },
    },
  });
}

function ecrImage(scope: Construct, id: string, image: EcrImage): ecs.ContainerImage {
  return ecs.ContainerImage.fromEcrRepository(
    ecr.Repository.fromRepositoryName(scope, id, image.repository),
    image.digest,
  );
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? listFiles(path) : [path];
    });
}
