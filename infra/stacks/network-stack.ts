/**
 * The network of a stage with the neural service on: the VPC, its endpoints and flow logs, the
 * security groups of the neural path and the internal ALB. It deploys before the service stack
 * (the score function joins the VPC and calls the ALB) and before the neural stack (the ECS
 * service registers in the ALB's target groups). Only created when `neural.enabled`.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { NeuralConfig } from '../config/stage-config';
import { ServiceKey } from '../constructs/encryption';
import { acknowledgeNetworkFindings } from '../constructs/nag';
import { NeuralNetwork } from '../constructs/network';
import { NeuralLoadBalancer } from '../constructs/neural-load-balancer';

export interface NetworkStackProps extends StackProps {
  /** Stage name. */
  readonly stage: string;
  /** Region of the stage (AZ names are derived from it, without a lookup). */
  readonly region: string;
  /** The stage's neural settings. */
  readonly neural: NeuralConfig;
  /** Days to keep flow logs and ALB access logs. */
  readonly logRetentionDays: number;
}

export class NetworkStack extends Stack {
  readonly network: NeuralNetwork;
  readonly loadBalancer: NeuralLoadBalancer;
  private readonly zones: string[];

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, {
      description: `Fraud scoring (${props.stage}): VPC, endpoints, flow logs and the internal neural ALB`,
      ...props,
    });
    this.zones = props.neural.availabilityZones.map((suffix) => `${props.region}${suffix}`);
    const key = new ServiceKey(this, 'NetworkKey', {
      description: `Encrypts fraud-scoring ${props.stage} VPC flow logs`,
      allowCloudWatchLogs: true,
    }).key;
    this.network = new NeuralNetwork(this, 'Network', {
      region: props.region,
      availabilityZones: props.neural.availabilityZones,
      egress: props.neural.egress,
      logsKey: key,
      logRetentionDays: props.logRetentionDays,
    });
    this.loadBalancer = new NeuralLoadBalancer(this, 'NeuralAlb', {
      network: this.network,
      accessLogDays: props.logRetentionDays,
    });
    acknowledgeNetworkFindings(this, { loadBalancer: this.loadBalancer });
  }

  /**
   * The stage's AZs from the config: the VPC checks its zones against this list, and the
   * default implementation would look them up in the account (synth must stay offline).
   */
  override get availabilityZones(): string[] {
    return this.zones;
  }
}
