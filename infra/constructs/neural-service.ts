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
import { join } from 'node:path';
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
import type * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { EcrImage, NeuralConfig } from '../config/stage-config';
import { encryptedLogGroup } from './encryption';
import { type NeuralNetwork, TRITON_HTTP_PORT, TRITON_METRICS_PORT } from './network';
import type { NeuralLoadBalancer } from './neural-load-balancer';
import { READINESS_PATH } from './neural-load-balancer';
import { uploadModelRepository } from './neural-model-repository';
import { addNeuralReplayHook } from './neural-replay-hook';
import { ManagedPolicyRole } from './roles';
import type { ServiceFunction } from './service-function';
import {
  agentConfig,
  prometheusConfig,
  SCRAPE_INTERVAL_SECONDS,
  TritonMetric,
  tritonCommand,
  tritonMetric,
} from './triton';

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
    const { config } = props;

    this.modelBucket = new s3.Bucket(this, 'Models', {
      // Model weights, not cardholder data: SSE-S3 keeps Triton free of KMS calls.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.modelPrefix = `${config.model.name}/${config.model.version}`;
    this.modelRepositoryUrl = `s3://${this.modelBucket.bucketName}/${this.modelPrefix}`;
    this.modelUploads = uploadModelRepository(
      this,
      this.modelBucket,
      join(props.modelsDir, config.model.name, config.model.version, 'triton'),
      this.modelPrefix,
    );

    const instances = this.createInstances(props);
    this.cluster = instances.cluster;
    this.instanceRole = instances.instanceRole;
    this.autoScalingGroup = instances.autoScalingGroup;
    this.capacityProvider = instances.capacityProvider;

    const task = this.createTask(props);
    this.taskRole = task.taskRole;
    this.executionRole = task.executionRole;
    this.taskDefinition = task.taskDefinition;

    this.service = this.createService(props, task.triton);

    this.tritonVersion = props.tritonVersion;
    const hook = addNeuralReplayHook(this, this.service, props);
    this.replayHook = hook.replayHook;
    this.replayInvokeRole = hook.replayInvokeRole;

    this.scaling = this.createScaling(props);
    this.warnOnPlaceholderImages(props);
  }

  /** The ECS cluster and its GPU capacity: launch template, Auto Scaling group, capacity provider. */
  private createInstances({ config, network, stage }: NeuralServiceProps) {
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    const instanceRole = new ManagedPolicyRole(this, 'InstanceRole', {
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
      role: instanceRole,
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
    const autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'GpuInstances', {
      vpc: network.vpc,
      vpcSubnets: network.privateSubnets,
      launchTemplate,
      minCapacity: 0,
      // Both revisions run side by side during a canary (AWS: plan cluster capacity for both
      // service revisions), so a deployment at the ceiling needs twice the tasks.
      maxCapacity: config.tasks.max * 2,
    });
    const capacityProvider = new ecs.AsgCapacityProvider(this, 'GpuCapacity', {
      autoScalingGroup,
      machineImageType: ecs.MachineImageType.AMAZON_LINUX_2,
      enableManagedScaling: true,
      // 100 %: no idle GPU instances; ECS adds instances when tasks cannot be placed.
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
      // GPU AMI boot + agent registration + image pull.
      instanceWarmupPeriod: 300,
    });
    cluster.addAsgCapacityProvider(capacityProvider);
    return { cluster, instanceRole, autoScalingGroup, capacityProvider };
  }

  /** The task: its roles, log groups, the Triton container and the CloudWatch agent sidecar. */
  private createTask({ config, stage, logsKey, logRetentionDays }: NeuralServiceProps) {
    const { region } = Stack.of(this);
    const prefix = this.modelPrefix;
    const taskRole = new ManagedPolicyRole(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Triton and its CloudWatch agent (${stage}): read the model prefix, write metrics logs`,
    });
    const executionRole = new ManagedPolicyRole(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Pulls the neural service images and writes its container logs (${stage})`,
    });
    // Triton lists the repository, then reads its files: this model version's prefix only.
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.modelBucket.arnForObjects(`${prefix}/*`)],
      }),
    );
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.modelBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, prefix] } },
      }),
    );
    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', {
      networkMode: ecs.NetworkMode.AWS_VPC,
      taskRole,
      executionRole,
    });
    const logs = encryptedLogGroup(this, 'TaskLogs', {
      encryptionKey: logsKey,
      retentionDays: logRetentionDays,
    });
    const metricsLogs = encryptedLogGroup(this, 'MetricsLogs', {
      encryptionKey: logsKey,
      retentionDays: logRetentionDays,
    });
    metricsLogs.grantWrite(taskRole);
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:DescribeLogStreams'], resources: [metricsLogs.logGroupArn] }),
    );

    const triton = taskDefinition.addContainer('triton', {
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
    const agent = taskDefinition.addContainer('cloudwatch-agent', {
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
    return { taskRole, executionRole, taskDefinition, triton };
  }

  /** The ECS service: canary deployments with alarm rollback, behind the blue/green target groups. */
  private createService(props: NeuralServiceProps, triton: ecs.ContainerDefinition): ecs.Ec2Service {
    const { config, network } = props;
    const service = new ecs.Ec2Service(this, 'Service', {
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
    service
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
    for (const upload of this.modelUploads) service.node.addDependency(upload);
    return service;
  }

  /** Task scaling: requests per task and GPU utilization from Triton, plus the stage's schedule. */
  private createScaling({ config, stage }: NeuralServiceProps): ecs.ScalableTaskCount {
    const scaling = this.service.autoScaleTaskCount({
      minCapacity: config.tasks.min,
      maxCapacity: config.tasks.max,
    });
    // Per-task request rate from Triton itself: an ALB target-group metric would follow only
    // one of the two groups the canary alternates between.
    scaling.scaleToTrackCustomMetric('RequestsPerTask', {
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
    scaling.scaleToTrackCustomMetric('GpuUtilization', {
      metric: tritonMetric(TritonMetric.GpuUtilization, { stage, statistic: cloudwatch.Stats.AVERAGE }),
      // Triton reports utilization as a fraction (0.0–1.0).
      targetValue: config.gpuUtilizationTarget / 100,
      scaleOutCooldown: Duration.minutes(2),
      scaleInCooldown: Duration.minutes(10),
    });
    for (const action of config.scheduled) {
      scaling.scaleOnSchedule(action.name, {
        schedule: appscaling.Schedule.expression(action.schedule),
        timeZone: action.timeZone ? TimeZone.of(action.timeZone) : undefined,
        minCapacity: action.minCapacity,
        maxCapacity: action.maxCapacity,
      });
    }
    return scaling;
  }

  /** A placeholder image digest synthesizes (tests, dev) but warns: it cannot be pulled. */
  private warnOnPlaceholderImages({ config, stage }: NeuralServiceProps): void {
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
}

function ecrImage(scope: Construct, id: string, image: EcrImage): ecs.ContainerImage {
  return ecs.ContainerImage.fromEcrRepository(
    ecr.Repository.fromRepositoryName(scope, id, image.repository),
    image.digest,
  );
}
