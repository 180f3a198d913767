/**
 * Safe delivery of the score function: every deploy publishes a version, and CodeDeploy
 * shifts alias `live` to it (canary, linear or all at once) between two hooks:
 *
 * - pre-traffic: replays the model's golden requests against the new version and fails the
 *   deployment on a wrong score or a slow answer, before any traffic moves;
 * - guardrail alarms, scoped to the new version, roll the deployment back while it shifts;
 * - post-traffic: fails the deployment if a guardrail alarm is still in ALARM at the end.
 *
 * The guardrails watch only the version being deployed (`ExecutedVersion` / `functionVersion`
 * dimensions), so a failing old version can neither block the fix nor roll back a good deploy.
 */
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { AlarmEvaluation, DeploymentStrategy, LambdaArchitecture } from '../config/stage-config';
import { type ServiceAlarm, serviceAlarm } from './alarms';
import { scoreMetric } from './app-metrics';
import type { ModelArtifacts } from './model-artifacts';
import { ManagedPolicyRole } from './roles';
import type { ScoringFunction } from './scoring-function';
import { REPO_ROOT, ServiceFunction } from './service-function';

/** Where the pre-traffic hook finds the replay set inside its bundle. */
export const REPLAY_FILE_IN_BUNDLE = 'replay.jsonl';

type Setting = AlarmEvaluation & { threshold: number };

export interface ScoreDeliveryProps {
  /** Stage name, for alarm names and the hooks' environment. */
  stage: string;
  /** The function, version and alias to deliver. */
  scoring: ScoringFunction;
  /** The model bundled into this version: replay set and tolerance for the pre-traffic hook. */
  model: ModelArtifacts;
  /** How CodeDeploy shifts traffic. */
  strategy: DeploymentStrategy;
  /** Slowest acceptable replay against the new version, ms (`MAX_LATENCY_MS` of the hook). */
  preTrafficMaxLatencyMs: number;
  /** Thresholds of the guardrail alarms (all page, all roll back). */
  guardrails: {
    /** Lambda `Errors` of the new version (crashes, timeouts), count per period. */
    canaryErrors: Setting;
    /** Lambda `Duration` p99 of the new version, ms. */
    canaryLatencyP99Ms: Setting;
    /** The new version's own 5xx answers (EMF `Errors`, average × 100), percent. */
    canaryAppErrorRatePercent: Setting;
  };
  /** Architecture of the hook functions. */
  architecture: LambdaArchitecture;
  /** Key of the hooks' log groups. */
  logsKey: kms.IKey;
  /** Days to keep the hooks' logs. */
  logRetentionDays: number;
  /**
   * Pre-traffic hook entry.
   * @default functions/deploy-hooks/pre-traffic.ts
   */
  preTrafficEntry?: string;
  /**
   * Post-traffic hook entry.
   * @default functions/deploy-hooks/post-traffic.ts
   */
  postTrafficEntry?: string;
}

export class ScoreDelivery extends Construct {
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  readonly deploymentConfig: codedeploy.ILambdaDeploymentConfig;
  readonly preTrafficHook: lambda.IFunction;
  readonly postTrafficHook: lambda.IFunction;
  /** Guardrails: they page, and they roll a deployment back. */
  readonly rollbackAlarms: ServiceAlarm[];

  constructor(scope: Construct, id: string, props: ScoreDeliveryProps) {
    super(scope, id);
    const { scoring, stage } = props;
    const fn = scoring.function;
    const version = scoring.version;
    const alias = scoring.alias;

    // AWS/Lambda publishes {FunctionName, Resource, ExecutedVersion} for invocations through an alias.
    const versionDimensions = {
      FunctionName: fn.functionName,
      Resource: `${fn.functionName}:${alias.aliasName}`,
      ExecutedVersion: version.version,
    };
    const lambdaMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName,
        statistic,
        dimensionsMap: versionDimensions,
      });
    const appErrorRate = new cloudwatch.MathExpression({
      expression: '100 * errors',
      label: 'new version 5xx answers (%)',
      usingMetrics: {
        errors: scoreMetric('Errors', {
          stage,
          functionVersion: version.version,
          modelVersion: props.model.card.version,
          statistic: cloudwatch.Stats.AVERAGE,
        }),
      },
    });
    const guardrail = (
      idPart: string,
      signal: string,
      summary: string,
      metric: cloudwatch.IMetric,
      s: Setting,
    ) =>
      serviceAlarm(this, idPart, {
        stage,
        resource: 'score',
        signal,
        severity: 'page',
        summary,
        metric,
        settings: s,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    this.rollbackAlarms = [
      guardrail(
        'CanaryErrorsAlarm',
        'canary-errors',
        'The version being deployed crashes or times out (AWS/Lambda Errors for its ExecutedVersion).',
        lambdaMetric('Errors', cloudwatch.Stats.SUM),
        props.guardrails.canaryErrors,
      ),
      guardrail(
        'CanaryLatencyAlarm',
        'canary-latency',
        'The version being deployed is slower than the guardrail (AWS/Lambda Duration p99 for its ExecutedVersion).',
        lambdaMetric('Duration', cloudwatch.Stats.p(99)),
        props.guardrails.canaryLatencyP99Ms,
      ),
      guardrail(
        'CanaryAppErrorsAlarm',
        'canary-app-errors',
        'The version being deployed answers 5xx (FraudScoring Errors for its functionVersion).',
        appErrorRate,
        props.guardrails.canaryAppErrorRatePercent,
      ),
    ];

    const preTraffic = new ServiceFunction(this, 'PreTrafficHook', {
      service: 'deploy-pre-traffic',
      stage,
      entry: props.preTrafficEntry ?? join(REPO_ROOT, 'functions', 'deploy-hooks', 'pre-traffic.ts'),
      description: `Replays ${props.model.card.name}@${props.model.card.version} golden requests against the new score version`,
      architecture: props.architecture,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      timeout: Duration.minutes(5),
      memoryMb: 512,
      environment: {
        TARGET_FUNCTION_ARN: version.functionArn,
        REPLAY_PATH: `/var/task/${REPLAY_FILE_IN_BUNDLE}`,
        REPLAY_TOLERANCE: String(props.model.card.replay.tolerance),
        MAX_LATENCY_MS: String(props.preTrafficMaxLatencyMs),
      },
      bundleFiles: [{ from: props.model.replayPath, to: REPLAY_FILE_IN_BUNDLE }],
    }).function;
    // The new version only: not the alias, not $LATEST, not other versions.
    iam.Grant.addToPrincipal({
      grantee: preTraffic,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [version.functionArn],
    });

    const postTraffic = new ServiceFunction(this, 'PostTrafficHook', {
      service: 'deploy-post-traffic',
      stage,
      entry: props.postTrafficEntry ?? join(REPO_ROOT, 'functions', 'deploy-hooks', 'post-traffic.ts'),
      description: 'Fails the deployment if a score guardrail alarm is in ALARM after the shift',
      architecture: props.architecture,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      timeout: Duration.minutes(1),
      memoryMb: 256,
      environment: { ALARM_NAMES: this.rollbackAlarms.map((a) => a.alarm.alarmName).join(',') },
    }).function;
    iam.Grant.addToPrincipal({
      grantee: postTraffic,
      actions: ['cloudwatch:DescribeAlarms'],
      resourceArns: this.rollbackAlarms.map((a) => a.alarm.alarmArn),
    });

    this.deploymentConfig = deploymentConfig(this, props.strategy);
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      alias,
      role: new ManagedPolicyRole(this, 'DeploymentRole', {
        assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
        description: 'CodeDeploy: shifts alias live of the score function and invokes its hooks',
      }),
      deploymentConfig: this.deploymentConfig,
      alarms: this.rollbackAlarms.map((a) => a.alarm),
      preHook: preTraffic,
      postHook: postTraffic,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    this.preTrafficHook = preTraffic;
    this.postTrafficHook = postTraffic;

    // CloudFormation must point the guardrails and the hooks at the new version before it
    // updates the alias (which is what starts the CodeDeploy deployment).
    for (const { alarm } of this.rollbackAlarms) alias.node.addDependency(alarm);
    alias.node.addDependency(preTraffic, postTraffic);
  }
}

/** The CodeDeploy config for a {@link DeploymentStrategy}. */
export function deploymentConfig(
  scope: Construct,
  strategy: DeploymentStrategy,
): codedeploy.ILambdaDeploymentConfig {
  if (strategy.type === 'allAtOnce') return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
  const routing = {
    interval: Duration.minutes(strategy.intervalMinutes),
    percentage: strategy.percentage,
  };
  return new codedeploy.LambdaDeploymentConfig(scope, 'DeploymentConfig', {
    trafficRouting:
      strategy.type === 'canary'
        ? new codedeploy.TimeBasedCanaryTrafficRouting(routing)
        : new codedeploy.TimeBasedLinearTrafficRouting(routing),
  });
}
