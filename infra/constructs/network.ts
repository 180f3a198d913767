/**
 * The VPC the GPU neural service and (when it is on) the score function live in: private
 * subnets in two or three AZs, gateway endpoints for S3 and DynamoDB (free), and either
 * interface endpoints for every AWS API the functions and tasks call or one NAT gateway per
 * AZ (`egress`, a stage option; docs/deploy.md#network-cost compares them). Flow logs go to an
 * encrypted log group.
 *
 * The security groups of the whole neural path are made here, together, so that who may reach
 * whom is readable in one place: score function → internal ALB (port 80) → Triton tasks (8000).
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { encryptedLogGroup } from './encryption';
import { ManagedPolicyRole } from './roles';

/** Triton's HTTP port (Open Inference Protocol); the ALB forwards to it. */
export const TRITON_HTTP_PORT = 8000;
/** Triton's Prometheus port; only the CloudWatch agent in the same task reads it. */
export const TRITON_METRICS_PORT = 8002;
/** The internal ALB's listener port (HTTP/1.1 keep-alive from the score function). */
export const NEURAL_LISTENER_PORT = 80;
/**
 * The ALB's test listener port: ECS sends the new revision all of its traffic during a
 * deployment, before any production traffic; only the replay hook may connect.
 */
export const NEURAL_TEST_LISTENER_PORT = 8080;

/**
 * Interface endpoints of `egress: 'endpoints'`, keyed by construct id: what the score function
 * (X-Ray, SQS, KMS, Lambda, CodeDeploy hooks' callers, STS), the ECS agent and the tasks
 * (ECS, ECR, CloudWatch Logs and metrics) call. S3 and DynamoDB use gateway endpoints.
 */
export const INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  Monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
  Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  Lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
  CodeDeploy: ec2.InterfaceVpcEndpointAwsService.CODEDEPLOY,
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Ecs: ec2.InterfaceVpcEndpointAwsService.ECS,
  EcsAgent: ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
  EcsTelemetry: ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
};

export interface NeuralNetworkProps {
  /** Region of the stage: the AZ names are `<region><suffix>` (no lookup, synth stays offline). */
  readonly region: string;
  /** AZ suffixes, e.g. `['a', 'b']`. */
  readonly availabilityZones: readonly string[];
  /** `endpoints`: isolated subnets and interface endpoints. `nat`: one NAT gateway per AZ. */
  readonly egress: 'endpoints' | 'nat';
  /** Key of the flow-log group (its policy must allow CloudWatch Logs). */
  readonly logsKey: kms.IKey;
  /** Days to keep flow logs. */
  readonly logRetentionDays: number;
}

export class NeuralNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** Where the functions, tasks, instances and the ALB are placed. */
  readonly privateSubnets: ec2.SubnetSelection;
  /** The score function's: egress only, to the ALB and HTTPS (endpoints). */
  readonly scoreFunctionSecurityGroup: ec2.SecurityGroup;
  /** The internal ALB's: ingress from the score function only. */
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** The neural replay hook's (ECS lifecycle hook): egress to the ALB's test listener only. */
  readonly replayHookSecurityGroup: ec2.SecurityGroup;
  /** The Triton tasks': ingress from the ALB on the HTTP port only. */
  readonly taskSecurityGroup: ec2.SecurityGroup;
  /** The GPU container instances': no inbound, HTTPS out (ECS agent, ECR). */
  readonly instanceSecurityGroup: ec2.SecurityGroup;
  /** The interface endpoints': HTTPS in from the three groups above that call AWS APIs. */
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** The interface endpoints (empty with `egress: 'nat'`). */
  readonly interfaceEndpoints: Readonly<Record<string, ec2.InterfaceVpcEndpoint>>;

  constructor(scope: Construct, id: string, props: NeuralNetworkProps) {
    super(scope, id);
    const isolated = props.egress === 'endpoints';
    const privateType = isolated ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      availabilityZones: props.availabilityZones.map((suffix) => `${props.region}${suffix}`),
      // /20 per AZ: Lambda's Hyperplane ENIs, one ENI per awsvpc task, endpoint ENIs, with room.
      subnetConfiguration: [
        // With `nat`, the public subnets hold only the NAT gateways: nothing gets a public IP.
        ...(isolated
          ? []
          : [
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
            ]),
        { name: 'private', subnetType: privateType, cidrMask: 20 },
      ],
      natGateways: isolated ? 0 : props.availabilityZones.length,
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    this.privateSubnets = { subnetType: privateType };

    const flowLogRole = new ManagedPolicyRole(this, 'FlowLogRole', {
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
      description: 'Delivers the neural VPC flow logs to their log group',
    });
    const flowLogs = encryptedLogGroup(this, 'FlowLogs', {
      encryptionKey: props.logsKey,
      retentionDays: props.logRetentionDays,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs, flowLogRole),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.scoreFunctionSecurityGroup = new ec2.SecurityGroup(this, 'ScoreFunctionSg', {
      vpc: this.vpc,
      description: 'Score function: calls the neural ALB and AWS APIs over HTTPS; accepts nothing',
      allowAllOutbound: false,
    });
    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'NeuralAlbSg', {
      vpc: this.vpc,
      description: 'Internal neural ALB: only the score function may connect',
      allowAllOutbound: false,
    });
    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'NeuralTaskSg', {
      vpc: this.vpc,
      description: 'Triton tasks: only the neural ALB may connect; HTTPS out for S3, ECR and logs',
      allowAllOutbound: false,
    });
    this.replayHookSecurityGroup = new ec2.SecurityGroup(this, 'ReplayHookSg', {
      vpc: this.vpc,
      description: 'Neural replay hook: calls the ALB test listener; accepts nothing',
      allowAllOutbound: false,
    });
    const http = ec2.Port.tcp(NEURAL_LISTENER_PORT);
    const testHttp = ec2.Port.tcp(NEURAL_TEST_LISTENER_PORT);
    const triton = ec2.Port.tcp(TRITON_HTTP_PORT);
    this.loadBalancerSecurityGroup.addIngressRule(this.scoreFunctionSecurityGroup, http, 'score function');
    this.scoreFunctionSecurityGroup.addEgressRule(this.loadBalancerSecurityGroup, http, 'neural ALB');
    this.loadBalancerSecurityGroup.addIngressRule(this.replayHookSecurityGroup, testHttp, 'replay hook');
    this.replayHookSecurityGroup.addEgressRule(this.loadBalancerSecurityGroup, testHttp, 'ALB test listener');
    this.taskSecurityGroup.addIngressRule(this.loadBalancerSecurityGroup, triton, 'neural ALB');
    this.loadBalancerSecurityGroup.addEgressRule(this.taskSecurityGroup, triton, 'Triton tasks');
    // HTTPS to AWS APIs: interface endpoints inside the VPC, gateway endpoints (S3, DynamoDB)
    // on public prefixes. With `endpoints` the subnets have no route to the internet, so this
    // reaches AWS services only.
    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'GpuInstanceSg', {
      vpc: this.vpc,
      description: 'GPU container instances: no inbound; HTTPS out for the ECS agent and ECR',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSg', {
      vpc: this.vpc,
      description: 'Interface endpoints: HTTPS from the score function, the tasks and the GPU instances',
      allowAllOutbound: false,
    });
    const callers = [this.scoreFunctionSecurityGroup, this.taskSecurityGroup, this.instanceSecurityGroup];
    for (const sg of callers) {
      sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over HTTPS');
      this.endpointSecurityGroup.addIngressRule(sg, ec2.Port.tcp(443), 'AWS API calls');
    }

    const endpoints: Record<string, ec2.InterfaceVpcEndpoint> = {};
    if (isolated) {
      for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
        endpoints[name] = this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.privateSubnets,
          privateDnsEnabled: true,
          securityGroups: [this.endpointSecurityGroup],
          open: false,
        });
      }
    }
    this.interfaceEndpoints = endpoints;
  }
}
