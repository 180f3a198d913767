/**
 * The GPU neural service of a stage: ECS cluster on GPU instances, Triton task and service with
 * canary delivery, autoscaling, and its page/ticket alarms routed to the stage's topics. It
 * deploys after the network stack (VPC, ALB) and the service stack (alarm topics, the score
 * function version whose `neural_unavailable` share it watches). Only created when
 * `neural.enabled`.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { AlarmEvaluation, NeuralConfig, Severity } from '../config/stage-config';
import type { AlarmTopics } from '../constructs/alarm-topics';
import type { ServiceAlarm } from '../constructs/alarms';
import { acknowledgeNeuralFindings } from '../constructs/nag';
import { neuralAlarms, neuralGuardrailNames } from '../constructs/neural-alarms';
import { NeuralService } from '../constructs/neural-service';
import type { NetworkStack } from './network-stack';

export interface NeuralStackProps extends StackProps {
  /** Stage name. */
  readonly stage: string;
  /** Region (per-AZ metric dimensions). */
  readonly region: string;
  /** The stage's neural settings. */
  readonly neural: NeuralConfig;
  /** Directory holding `<name>/<version>/triton/`. */
  readonly modelsDir: string;
  /** Triton's version directory of the model (`loadNeuralArtifacts`). */
  readonly tritonVersion: string;
  /** VPC, security groups and the ALB. */
  readonly networkStack: NetworkStack;
  /** The stage's page and ticket topics. */
  readonly topics: AlarmTopics;
  /** Key of the task log groups (the service stack's ops key). */
  readonly logsKey: kms.IKey;
  /** Days to keep task logs. */
  readonly logRetentionDays: number;
  /** The score function version and model version this deploy publishes. */
  readonly score: { readonly functionVersion: string; readonly modelVersion: string };
  /** Evaluation defaults per severity. */
  readonly alarmDefaults: Readonly<Record<Severity, AlarmEvaluation>>;
}

export class NeuralStack extends Stack {
  readonly neural: NeuralService;
  readonly alarms: readonly ServiceAlarm[];

  constructor(scope: Construct, id: string, props: NeuralStackProps) {
    super(scope, id, {
      description: `Fraud scoring (${props.stage}): Triton on ECS GPU instances with canary delivery`,
      ...props,
    });
    const { network, loadBalancer } = props.networkStack;
    this.neural = new NeuralService(this, 'Neural', {
      stage: props.stage,
      config: props.neural,
      modelsDir: props.modelsDir,
      tritonVersion: props.tritonVersion,
      network,
      loadBalancer,
      deploymentAlarmNames: neuralGuardrailNames(props.stage),
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
    });
    this.alarms = neuralAlarms(this, {
      stage: props.stage,
      config: props.neural,
      region: props.region,
      loadBalancer: loadBalancer.loadBalancer,
      targetGroups: [loadBalancer.blueTargetGroup, loadBalancer.greenTargetGroup],
      score: props.score,
      defaults: props.alarmDefaults,
    });
    props.topics.route(this.alarms);
    // ECS reads the guardrails by name at deployment time: they must exist first.
    for (const { alarm } of this.alarms) this.neural.service.node.addDependency(alarm);
    acknowledgeNeuralFindings(this, this.neural);
  }
}
