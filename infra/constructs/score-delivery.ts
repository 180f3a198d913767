/**
 * Safe delivery of the score function: every deploy publishes a version, and CodeDeploy
 * shifts alias `live` to it (canary, linear or all at once) between two hooks:
 *
 * - pre-traffic: replays the model's golden requests against the new version and fails the
 *   deployment on a wrong score or a slow answer, before any traffic moves;
 * - guardrail alarms, scoped to the new version, roll the deployment back while it shifts;
 * - post-traffic: bakes at 100 % for `bakeMinutes`, polling the guardrails; fails the
 *   deployment on an alarm, or (fail closed, per stage) when the canary saw too little traffic
 *   to prove anything, or (per stage) without the canary judge's `pass`; then prunes old
 *   versions beyond the retained ones.
 *
 * The guardrails watch only the version being deployed (`ExecutedVersion` / `functionVersion`
 * dimensions), so a failing old version can neither block the fix nor roll back a good deploy.
 * Each version gets its own guardrail alarms (the version is in the name): CloudFormation
 * replaces them, and a new alarm starts in INSUFFICIENT_DATA, while an updated one would keep
 * the previous deploy's state (see docs/deploy.md#a-fresh-guardrail-state-for-each-deploy).
 */
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ScoreMetric } from '../../functions/shared/metrics-contract';
import {
  type AlarmSettings,
  type DeploymentStrategy,
  type LambdaArchitecture,
  MAX_BAKE_MINUTES,
} from '../config/stage-config';
import { type ServiceAlarm, serviceAlarm } from './alarms';
import { scoreMetric } from './app-metrics';
import type { ModelArtifacts } from './model-artifacts';
import { ManagedPolicyRole } from './roles';
import type { ScoringFunction } from './scoring-function';
import { REPO_ROOT, ServiceFunction } from './service-function';

/** Where the pre-traffic hook finds the replay set inside its bundle. */
export const REPLAY_FILE_IN_BUNDLE = 'replay.jsonl';

/** Time the post-traffic hook needs besides the bake: alarm reads, evidence, pruning, reporting. */
const POST_TRAFFIC_OVERHEAD = Duration.minutes(2);

export interface ScoreDeliveryProps {
  /** Stage name, for alarm names and the hooks' environment. */
  readonly stage: string;
  /** The function, version and alias to deliver. */
  readonly scoring: ScoringFunction;
  /** The model bundled into this version: replay set and tolerance for the pre-traffic hook. */
  readonly model: ModelArtifacts;
  /** How CodeDeploy shifts traffic. */
  readonly strategy: DeploymentStrategy;
  /** Slowest acceptable replay against the new version, ms (`MAX_LATENCY_MS` of the hook). */
  readonly preTrafficMaxLatencyMs: number;
  /** Thresholds of the guardrail alarms (all page, all roll back). */
  readonly guardrails: {
    /** Lambda `Errors` of the new version (crashes, timeouts), count per period. */
    readonly canaryErrors: AlarmSettings;
    /** Lambda `Duration` p99 of the new version, ms. */
    readonly canaryLatencyP99Ms: AlarmSettings;
    /** The new version's own 5xx answers (EMF `Errors`, average × 100), percent. */
    readonly canaryAppErrorRatePercent: AlarmSettings;
  };
  /** The p99 guardrail ignores a period with fewer invocations of the new version than this. */
  readonly latencyMinSamples: number;
  /** Minutes the post-traffic hook polls the guardrails at 100 % (0 to {@link MAX_BAKE_MINUTES}). */
  readonly bakeMinutes: number;
  /** Invocations of the new version through the alias the deployment must have seen. */
  readonly minCanaryInvocations: number;
  /** Too little canary traffic: `fail` the deployment (fail closed) or `pass` with a warning. */
  readonly onLowTraffic: 'fail' | 'pass';
  /** Published versions kept for manual rollback; the post-traffic hook prunes older ones. */
  readonly retainedVersions: number;
  /** Architecture of the hook functions. */
  readonly architecture: LambdaArchitecture;
  /** Key of the hooks' log groups. */
  readonly logsKey: kms.IKey;
  /** Days to keep the hooks' logs. */
  readonly logRetentionDays: number;
  /**
   * The canary judge's verdict the post-traffic hook requires (stage `judge.requirePass`):
   * `pass`, or also `inconclusive` when `inconclusive` is `pass`.
   * @default - no verdict required
   */
  readonly judge?: { readonly inconclusive: 'fail' | 'pass' };
  /**
   * Pre-traffic hook entry.
   * @default functions/deploy-hooks/pre-traffic.ts
   */
  readonly preTrafficEntry?: string;
  /**
   * Post-traffic hook entry.
   * @default functions/deploy-hooks/post-traffic.ts
   */
  readonly postTrafficEntry?: string;
}

export class ScoreDelivery extends Construct {
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  readonly deploymentConfig: codedeploy.ILambdaDeploymentConfig;
  readonly preTrafficHook: lambda.IFunction;
  readonly postTrafficHook: lambda.IFunction;
  /** The score function whose versions the post-traffic hook prunes. */
  readonly scoredFunction: lambda.IFunction;
  /** Guardrails: they page, and they roll a deployment back. */
  readonly rollbackAlarms: readonly ServiceAlarm[];

  constructor(scope: Construct, id: string, props: ScoreDeliveryProps) {
    super(scope, id);
    if (props.bakeMinutes < 0 || props.bakeMinutes > MAX_BAKE_MINUTES)
      throw new Error(
        `bakeMinutes must be 0–${MAX_BAKE_MINUTES} (one Lambda invocation), got ${props.bakeMinutes}`,
      );
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
        errors: scoreMetric(ScoreMetric.Errors, {
          stage,
          functionVersion: version.version,
          modelVersion: props.model.card.version,
          statistic: cloudwatch.Stats.AVERAGE,
        }),
      },
    });
    // A p99 of a handful of requests is one slow request: below the minimum sample the
    // period reads 0 (not breaching) instead of deciding a rollback.
    const latencyWithMinSample = new cloudwatch.MathExpression({
      expression: `IF(invocations >= ${props.latencyMinSamples}, p99, 0)`,
      label: `new version p99 (ms), periods with >= ${props.latencyMinSamples} invocations`,
      usingMetrics: {
        p99: lambdaMetric('Duration', cloudwatch.Stats.p(99)),
        invocations: lambdaMetric('Invocations', cloudwatch.Stats.SUM),
      },
    });
    const guardrail = (
      idPart: string,
      signal: string,
      summary: string,
      metric: cloudwatch.IMetric,
      settings: AlarmSettings,
    ) =>
      serviceAlarm(this, idPart, {
        stage,
        resource: 'score',
        signal,
        severity: 'page',
        summary,
        metric,
        settings,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // One alarm per version: a new alarm starts fresh, an updated one keeps its old state.
        version: version.version,
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
        'The version being deployed is slower than the guardrail (AWS/Lambda Duration p99 for its ExecutedVersion, periods with enough invocations).',
        latencyWithMinSample,
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
      description: `Bakes ${props.bakeMinutes} min at 100 % on the score guardrails, checks canary evidence, prunes old versions`,
      architecture: props.architecture,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      // One invocation bakes and decides: at most 15 minutes (Lambda), far below CodeDeploy's
      // one-hour wait for the lifecycle status.
      timeout: Duration.minutes(props.bakeMinutes).plus(POST_TRAFFIC_OVERHEAD),
      memoryMb: 256,
      environment: {
        ALARM_NAMES: this.rollbackAlarms.map((a) => a.alarm.alarmName).join(','),
        BAKE_SECONDS: String(props.bakeMinutes * 60),
        POLL_SECONDS: '30',
        TARGET_FUNCTION_ARN: version.functionArn,
        ALIAS_NAME: alias.aliasName,
        MIN_CANARY_INVOCATIONS: String(props.minCanaryInvocations),
        // All at once has no canary phase: the bake at 100 % is the only evidence there is.
        EVIDENCE_WINDOW: props.strategy.type === 'allAtOnce' ? 'deployment' : 'canary',
        ON_LOW_TRAFFIC: props.onLowTraffic,
        RETAINED_VERSIONS: String(props.retainedVersions),
        ...(props.judge ? { JUDGE_REQUIRE_PASS: 'true', JUDGE_INCONCLUSIVE: props.judge.inconclusive } : {}),
      },
    }).function;
    iam.Grant.addToPrincipal({
      grantee: postTraffic,
      actions: ['cloudwatch:DescribeAlarms'],
      resourceArns: this.rollbackAlarms.map((a) => a.alarm.alarmArn),
    });
    // GetMetricData has no resource-level permissions: the evidence count needs "*".
    iam.Grant.addToPrincipal({
      grantee: postTraffic,
      actions: ['cloudwatch:GetMetricData'],
      resourceArns: ['*'],
    });
    // Pruning: list the function's versions and aliases, delete versions only. A qualified
    // ARN pattern (`<fn>:*`) cannot match the unqualified function, so the hook can never
    // delete the function itself.
    iam.Grant.addToPrincipal({
      grantee: postTraffic,
      actions: ['lambda:ListVersionsByFunction', 'lambda:ListAliases'],
      resourceArns: [fn.functionArn],
    });
    iam.Grant.addToPrincipal({
      grantee: postTraffic,
      actions: ['lambda:DeleteFunction'],
      resourceArns: [`${fn.functionArn}:*`],
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
    this.scoredFunction = fn;

    // CloudFormation must point the guardrails and the hooks at the new version before it
    // updates the alias (which is what starts the CodeDeploy deployment).
    // The deployment group too: its alarm list names this version's guardrails, and CodeDeploy
    // reads the list when the alias update starts the deployment (the previous version's
    // alarms still exist until cleanup, so a stale list would watch the wrong version).
    for (const { alarm } of this.rollbackAlarms) alias.node.addDependency(alarm);
    alias.node.addDependency(preTraffic, postTraffic, this.deploymentGroup);
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
