/**
 * The internal Application Load Balancer in front of the Triton tasks, with the two target
 * groups and the production listener rule ECS's built-in canary strategy shifts weights on.
 *
 * It lives in the network stack, before the score function's stack, because the score function
 * needs its DNS name (`NEURAL_URL`) and the ECS service (a later stack) needs its target groups;
 * nothing here refers to the service, so the stacks deploy in one direction.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  NEURAL_LISTENER_PORT,
  NEURAL_TEST_LISTENER_PORT,
  type NeuralNetwork,
  TRITON_HTTP_PORT,
} from './network';

/** Triton's readiness endpoint: 200 only once every model in the repository is loaded. */
export const READINESS_PATH = '/v2/health/ready';

export interface NeuralLoadBalancerProps {
  /** VPC, subnets and the security groups of the neural path. */
  readonly network: NeuralNetwork;
  /** Days to keep ALB access logs. */
  readonly accessLogDays: number;
}

export class NeuralLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  /** Serves production traffic before the first deployment; ECS swaps roles on each deployment. */
  readonly blueTargetGroup: elbv2.ApplicationTargetGroup;
  /** Receives the new revision's tasks during a canary. */
  readonly greenTargetGroup: elbv2.ApplicationTargetGroup;
  /** The rule whose forward weights ECS moves during a canary. */
  readonly productionRule: elbv2.ApplicationListenerRule;
  /** `http://<internal DNS name>`: the score function's `NEURAL_URL`. */
  readonly url: string;
  /** The test listener (only the replay hook may connect). */
  readonly testListener: elbv2.ApplicationListener;
  /** The test listener's rule: ECS gives the new revision all of it before production moves. */
  readonly testRule: elbv2.ApplicationListenerRule;
  /** `http://<internal DNS name>:<test port>`: the replay hook's `NEURAL_TEST_URL`. */
  readonly testUrl: string;

  constructor(scope: Construct, id: string, props: NeuralLoadBalancerProps) {
    super(scope, id);
    const { network } = props;
    const vpc: ec2.IVpc = network.vpc;
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc,
      internetFacing: false,
      vpcSubnets: network.privateSubnets,
      securityGroup: network.loadBalancerSecurityGroup,
      // HTTP/2 is on by default; the score function's client speaks HTTP/1.1 keep-alive, which
      // the ALB serves as well. 60 s idle keeps the pooled sockets of warm environments open.
      idleTimeout: Duration.seconds(60),
      dropInvalidHeaderFields: true,
      deletionProtection: true,
    });
    const logs = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs support SSE-S3 only (documented by AWS: ELB access-log bucket requirements).
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      lifecycleRules: [
        { expiration: Duration.days(props.accessLogDays), noncurrentVersionExpiration: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.loadBalancer.logAccessLogs(logs, 'neural-alb');

    const targetGroup = (name: string) =>
      new elbv2.ApplicationTargetGroup(this, name, {
        vpc,
        // awsvpc tasks register by IP.
        targetType: elbv2.TargetType.IP,
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: TRITON_HTTP_PORT,
        // Requests take milliseconds: 10 s drains in-flight calls without holding a deployment.
        deregistrationDelay: Duration.seconds(10),
        // The fewest outstanding requests, not round robin: a task that is batching is busy.
        loadBalancingAlgorithmType: elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS,
        healthCheck: {
          path: READINESS_PATH,
          healthyHttpCodes: '200',
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 3,
        },
      });
    this.blueTargetGroup = targetGroup('Blue');
    this.greenTargetGroup = targetGroup('Green');

    this.listener = this.loadBalancer.addListener('Http', {
      port: NEURAL_LISTENER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      // The security group rules are explicit (network.ts): only the score function.
      open: false,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'application/json',
        messageBody: '{"error":"no route"}',
      }),
    });
    const forwardRule = (ruleId: string, listener: elbv2.ApplicationListener) =>
      new elbv2.ApplicationListenerRule(this, ruleId, {
        listener,
        priority: 10,
        conditions: [elbv2.ListenerCondition.pathPatterns(['/v2/*'])],
        action: elbv2.ListenerAction.weightedForward([
          { targetGroup: this.blueTargetGroup, weight: 100 },
          { targetGroup: this.greenTargetGroup, weight: 0 },
        ]),
      });
    this.productionRule = forwardRule('Production', this.listener);
    this.url = `http://${this.loadBalancer.loadBalancerDnsName}`;

    this.testListener = this.loadBalancer.addListener('Test', {
      port: NEURAL_TEST_LISTENER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'application/json',
        messageBody: '{"error":"no route"}',
      }),
    });
    this.testRule = forwardRule('Test', this.testListener);
    this.testUrl = `http://${this.loadBalancer.loadBalancerDnsName}:${NEURAL_TEST_LISTENER_PORT}`;
  }
}
