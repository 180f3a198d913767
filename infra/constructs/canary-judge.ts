/**
 * The canary judge (issue 12), the slow tier of safe delivery: a function run every minute
 * that, while CodeDeploy routes part of alias `live` to a new version, compares that version
 * with the baseline on the same live traffic (latency, errors, decision mix per segment,
 * score distribution, input sanity) and publishes `JudgeVerdict` for it; and a per-version
 * `JudgeVerdict` alarm in the deployment group, so a `fail` rolls the deployment back the way
 * the fast guardrails do. The post-traffic hook reads the same verdict where the stage
 * requires a `pass` (`ScoreDelivery` `judge`).
 *
 * The judge ships in the same stack update as the version it judges, with that version's model
 * card (score and feature bins, the card's holdout histogram); the alias waits for it.
 */
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { type JudgeConfigOverrides, judgeConfig } from '../../functions/shared/domain/judge/config';
import {
  type JudgeDimensions,
  JudgeMetric,
  METRICS_NAMESPACE,
  MetricService,
  ScoreMetric,
} from '../../functions/shared/metrics-contract';
import type { LambdaArchitecture } from '../config/stage-config';
import { type ServiceAlarm, serviceAlarm } from './alarms';
import { scoreSearch } from './app-metrics';
import type { ModelArtifacts } from './model-artifacts';
import type { ScoringFunction } from './scoring-function';
import { REPO_ROOT, ServiceFunction } from './service-function';

/** Where the judge's bundle holds the card (its `MODEL_CARD_PATH`). */
const CARD_IN_BUNDLE = 'model/model.json';

/** The log line the judge writes per verdict (`functions/canary-judge/handler.ts`). */
export const VERDICT_LOG_MESSAGE = 'canary judge verdict';

export interface CanaryJudgeProps {
  /** Stage name: metric dimension, alarm name. */
  readonly stage: string;
  /** The score function, its alias `live` (whose routing is judged) and the version this deploy publishes. */
  readonly scoring: ScoringFunction;
  /** The deployment group that shifts the alias: the verdict alarm joins its rollback alarms. */
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The model this deploy ships: its card is bundled with the judge. */
  readonly model: ModelArtifacts;
  /** Lambda architecture. */
  readonly architecture: LambdaArchitecture;
  /** Key of the log group. */
  readonly logsKey: kms.IKey;
  /** Days to keep logs. */
  readonly logRetentionDays: number;
  /**
   * Overrides of the judge's thresholds (the stage's `judge.config`), validated here at synth.
   * @default - the judge's defaults
   */
  readonly judgeConfig?: JudgeConfigOverrides;
  /**
   * Handler entry override (tests).
   * @default functions/canary-judge/lambda.ts
   */
  readonly entry?: string;
}

export class CanaryJudge extends Construct {
  readonly judgeFunction: ServiceFunction;
  readonly schedule: events.Rule;
  /** `JudgeVerdict` of this deploy's version ≥ 1: pages and rolls the deployment back. */
  readonly verdictAlarm: ServiceAlarm;
  /** The dashboard row: verdict, traffic per version, the latest reports. */
  readonly widgets: readonly cloudwatch.IWidget[];

  constructor(scope: Construct, id: string, props: CanaryJudgeProps) {
    super(scope, id);
    const { stage, scoring, model } = props;
    // Fails the synth on an out-of-range override instead of the first run in the account.
    judgeConfig(props.judgeConfig);

    this.judgeFunction = new ServiceFunction(this, 'Function', {
      service: MetricService.CanaryJudge,
      stage,
      entry: props.entry ?? join(REPO_ROOT, 'functions/canary-judge/lambda.ts'),
      description: `Every minute during a deployment: judges the canary version of ${scoring.function.functionName}:${scoring.alias.aliasName} against its baseline`,
      architecture: props.architecture,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      // Below the one-minute schedule, so runs do not overlap (the window start lives in memory).
      timeout: Duration.seconds(50),
      memoryMb: 256,
      environment: {
        SCORE_FUNCTION_NAME: scoring.function.functionName,
        SCORE_ALIAS_NAME: scoring.alias.aliasName,
        MODEL_CARD_PATH: CARD_IN_BUNDLE,
        JUDGE_CONFIG: JSON.stringify(props.judgeConfig ?? {}),
      },
      bundleFiles: [{ from: model.cardPath, to: CARD_IN_BUNDLE }],
    });
    const fn = this.judgeFunction.function;
    // The alias's routing, and nothing else of the score function. The ARN is spelled from the
    // function's, not taken from the alias: the alias waits for the judge (below), so a
    // reference to it from the judge's policy would be a dependency cycle.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:GetAlias'],
        resources: [`${scoring.function.functionArn}:${scoring.alias.aliasName}`],
      }),
    );
    // Neither action supports resource-level permissions (IAM: "Resource": "*" only).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'],
        resources: ['*'],
      }),
    );
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Runs the ${stage} canary judge every minute (it idles when no deployment shifts traffic)`,
      schedule: events.Schedule.rate(Duration.minutes(1)),
      // No retry: a late verdict is stale, and the next minute's run judges a longer window.
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });

    const version = scoring.version.version;
    const dimensions: JudgeDimensions = { service: MetricService.CanaryJudge, stage, canaryVersion: version };
    const judgeMetric = (name: string, label?: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { ...dimensions },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
        label,
      });
    const verdict = judgeMetric(JudgeMetric.JudgeVerdict, 'fail (1)');
    const inconclusive = judgeMetric(JudgeMetric.JudgeInconclusive, 'inconclusive (1)');
    this.verdictAlarm = serviceAlarm(this, 'VerdictAlarm', {
      stage,
      resource: 'score',
      signal: 'canary-verdict',
      severity: 'page',
      summary:
        'The canary judge found the version being deployed worse than its baseline (JudgeVerdict = 1: latency, errors, decision mix, or score distribution).',
      // Unlabelled: the alarm stays a plain metric alarm on the exact dimension set.
      metric: judgeMetric(JudgeMetric.JudgeVerdict),
      settings: { threshold: 1, periodMinutes: 1, evaluationPeriods: 1, datapointsToAlarm: 1 },
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // The judge publishes only while a canary is routed: silence is not a verdict.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      // One alarm per version, like the guardrails: a new alarm starts without the last deploy's state.
      version,
    });
    props.deploymentGroup.addAlarm(this.verdictAlarm.alarm);
    // The alias update starts the deployment: the judge (with this version's card), its
    // schedule and the alarm must be in place first.
    scoring.alias.node.addDependency(this.verdictAlarm.alarm, fn, this.schedule);

    this.widgets = [
      new cloudwatch.TextWidget({
        markdown: `### Canary judge (version ${version} while it is deployed)\nVerdict per minute while CodeDeploy shifts traffic: \`JudgeVerdict\` 1 = fail (rolls back), \`JudgeInconclusive\` 1 = too little data or invalid comparison. Runbook: docs/runbook.md#score-canary-verdict, docs/canary-judge.md.`,
        width: 24,
        height: 2,
      }),
      new cloudwatch.GraphWidget({
        title: 'Judge verdict (this version)',
        left: [verdict, inconclusive],
        leftYAxis: { min: 0, max: 1 },
        leftAnnotations: [{ value: 1, label: 'fail: rollback', color: '#d62728' }],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Requests per version (baseline vs canary)',
        left: [scoreSearch(ScoreMetric.Requests, { stage, statistic: 'Sum' })],
        width: 6,
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Judge reports: outcome and the tests that decided it',
        logGroupNames: [fn.logGroup.logGroupName],
        queryLines: [
          'fields @timestamp, canaryVersion, baselineVersion, weight, outcome, window.start, because.0, because.1, because.2',
          `filter message = "${VERDICT_LOG_MESSAGE}"`,
          'sort @timestamp desc',
          'limit 20',
        ],
        width: 12,
        height: 6,
      }),
    ];
  }
}
