/**
 * The stage's page and ticket alarms (the canary guardrails live with the delivery, in
 * `score-delivery.ts`), written as tables of {@link AlarmSpec}s. Thresholds come from the stage
 * config; metric names of the application come from the metrics contract.
 */
import { Fn, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import {
  MetricService,
  ScoreMetric,
  type ScoreMetricName,
  UpdaterMetric,
} from '../../functions/shared/metrics-contract';
import type { PageAlarms, TicketAlarms } from '../config/stage-config';
import { type AlarmSpec, buildAlarms, type ServiceAlarm } from './alarms';
import { scoreMetric, serviceMetric } from './app-metrics';
import type { EventsPipeline } from './events-pipeline';

/** What the stage alarms watch. */
export interface ServiceAlarmTargets {
  /** Stage name: alarm names and the `stage` metric dimension. */
  readonly stage: string;
  /** The API Gateway stage. */
  readonly apiStage: apigateway.Stage;
  /**
   * The web ACL in front of the stage.
   * @default - no WAF alarm
   */
  readonly webAcl?: wafv2.CfnWebACL;
  /** Alias `live` of the score function. */
  readonly alias: lambda.Alias;
  /** The function version this deploy publishes (the `functionVersion` dimension). */
  readonly functionVersion: string;
  /** Model version served (the `modelVersion` dimension). */
  readonly modelVersion: string;
  /** Queue, DLQ and updater. */
  readonly events: EventsPipeline;
  /** Online feature table (throttles, dashboard). */
  readonly featureTable: dynamodb.ITable;
  /** Idempotency table (throttles, dashboard). */
  readonly idempotencyTable: dynamodb.ITable;
}

/** Alarms that page: callers are affected now. */
export function pageAlarms(scope: Construct, page: PageAlarms, t: ServiceAlarmTargets): ServiceAlarm[] {
  const stage = t.apiStage;
  const specs: AlarmSpec[] = [
    {
      id: 'ApiLatencyAlarm',
      resource: 'api',
      signal: 'latency-p99',
      summary: 'Callers wait longer than the SLA (API Gateway Latency p99 of the stage).',
      metric: stage.metricLatency({ statistic: cloudwatch.Stats.p(99) }),
      threshold: page.apiLatencyP99Ms,
    },
    {
      id: 'Api5xxAlarm',
      resource: 'api',
      signal: '5xx-rate',
      summary: 'The API answers 5xx to a share of requests above the threshold.',
      metric: percentOf(
        'serverErrors',
        stage.metricServerError({ statistic: cloudwatch.Stats.AVERAGE }),
        '5xx (%)',
      ),
      threshold: page.api5xxRatePercent,
    },
    {
      id: 'Api4xxAlarm',
      resource: 'api',
      signal: '4xx-rate',
      summary:
        'A surge of 4xx: callers are refused (403 credentials or policy, 400 contract, 429 throttling).',
      metric: percentOf(
        'clientErrors',
        stage.metricClientError({ statistic: cloudwatch.Stats.AVERAGE }),
        '4xx (%)',
      ),
      threshold: page.api4xxRatePercent,
    },
    {
      id: 'TrafficDropAlarm',
      resource: 'api',
      signal: 'traffic-drop',
      summary:
        'Requests fell below the expected band (anomaly detection on the request count): callers cannot reach the API or stopped calling.',
      metric: stage.metricCount({ statistic: cloudwatch.Stats.SUM }),
      threshold: page.trafficDrop,
      kind: 'anomaly-low',
      treatMissingData:
        page.trafficDrop.whenNoData === 'breaching'
          ? cloudwatch.TreatMissingData.BREACHING
          : cloudwatch.TreatMissingData.NOT_BREACHING,
    },
    {
      id: 'ScoreErrorRateAlarm',
      resource: 'score',
      signal: 'error-rate',
      summary: 'Score function invocations fail (crash, timeout) through alias live, all versions.',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
        label: 'invocation errors (%)',
        usingMetrics: {
          errors: t.alias.metricErrors({ statistic: cloudwatch.Stats.SUM }),
          invocations: t.alias.metricInvocations({ statistic: cloudwatch.Stats.SUM }),
        },
      }),
      threshold: page.scoreErrorRatePercent,
    },
  ];
  if (t.webAcl) {
    specs.push({
      id: 'WafBlockedAlarm',
      resource: 'waf',
      signal: 'blocked-rate',
      summary: 'The WAF blocks a large share of requests: an attack, or a rule refusing the payment service.',
      metric: wafBlockedRate(scope, t.webAcl),
      threshold: page.wafBlockedRatePercent,
    });
  }
  return buildAlarms(scope, { stage: t.stage, severity: 'page', defaults: page.defaults }, specs);
}

/** Alarms that open a ticket: something to fix this week. */
export function ticketAlarms(scope: Construct, ticket: TicketAlarms, t: ServiceAlarmTargets): ServiceAlarm[] {
  const live = (name: ScoreMetricName, statistic: string) =>
    scoreMetric(name, {
      stage: t.stage,
      functionVersion: t.functionVersion,
      modelVersion: t.modelVersion,
      statistic,
    });
  const throttles = (table: dynamodb.ITable, prefix: string) => ({
    [`${prefix}Read`]: table.metric('ReadThrottleEvents', { statistic: 'Sum' }),
    [`${prefix}Write`]: table.metric('WriteThrottleEvents', { statistic: 'Sum' }),
  });
  const specs: AlarmSpec[] = [
    {
      id: 'FeatureHitRateAlarm',
      resource: 'score',
      signal: 'feature-hit-rate',
      summary: 'Too many requests find no card features (first-seen cards or a broken write path).',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(hits + misses > 0, 100 * hits / (hits + misses), 100)',
        label: 'feature hit rate (%)',
        usingMetrics: {
          hits: live(ScoreMetric.FeatureHit, 'Sum'),
          misses: live(ScoreMetric.FeatureMiss, 'Sum'),
        },
      }),
      threshold: ticket.featureHitRateMinPercent,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    },
    {
      id: 'FeatureAgeAlarm',
      resource: 'score',
      signal: 'feature-age',
      summary: 'Card features served are old: the events path or the bulk load is behind.',
      metric: live(ScoreMetric.FeatureAge, cloudwatch.Stats.p(90)),
      threshold: ticket.featureAgeP90Seconds,
    },
    {
      id: 'DegradedRateAlarm',
      resource: 'score',
      signal: 'degraded-rate',
      summary: 'A share of answers is degraded (features or model unavailable).',
      metric: percentOf(
        'degraded',
        live(ScoreMetric.Degraded, cloudwatch.Stats.AVERAGE),
        'degraded answers (%)',
      ),
      threshold: ticket.degradedRatePercent,
    },
    {
      id: 'PcUtilizationAlarm',
      resource: 'score',
      signal: 'pc-utilization',
      summary: 'Provisioned concurrency of alias live is nearly used up: little headroom before cold starts.',
      metric: percentOf(
        'utilization',
        t.alias.metric('ProvisionedConcurrencyUtilization', { statistic: cloudwatch.Stats.MAXIMUM }),
        'PC utilization (%)',
      ),
      threshold: ticket.pcUtilizationPercent,
    },
    {
      id: 'PcSpilloverAlarm',
      resource: 'score',
      signal: 'pc-spillover',
      summary: 'Invocations spill over provisioned concurrency and pay a cold start.',
      metric: t.alias.metric('ProvisionedConcurrencySpilloverInvocations', {
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: ticket.pcSpillovers,
    },
    {
      id: 'DlqDepthAlarm',
      resource: 'events',
      signal: 'dlq-depth',
      summary: 'Transaction events failed five deliveries and wait in the DLQ; their aggregates are missing.',
      metric: t.events.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: ticket.dlqMessages,
    },
    {
      id: 'QueueAgeAlarm',
      resource: 'events',
      signal: 'queue-age',
      summary: 'The feature updater falls behind the events queue.',
      metric: t.events.queue.metricApproximateAgeOfOldestMessage({ statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: ticket.queueAgeSeconds,
    },
    {
      id: 'UpdaterFailuresAlarm',
      resource: 'events',
      signal: 'updater-failures',
      summary: 'The feature updater reports failed records (they are retried, then dead-lettered).',
      metric: serviceMetric(MetricService.FeatureUpdater, UpdaterMetric.EventsFailed, {
        stage: t.stage,
        statistic: 'Sum',
      }),
      threshold: ticket.updaterFailures,
    },
    {
      id: 'TableThrottlesAlarm',
      resource: 'tables',
      signal: 'throttles',
      summary: 'DynamoDB throttles reads or writes of the feature or idempotency table.',
      metric: new cloudwatch.MathExpression({
        expression: 'featureRead + featureWrite + idemRead + idemWrite',
        label: 'throttle events',
        usingMetrics: { ...throttles(t.featureTable, 'feature'), ...throttles(t.idempotencyTable, 'idem') },
      }),
      threshold: ticket.tableThrottles,
    },
  ];
  return buildAlarms(scope, { stage: t.stage, severity: 'ticket', defaults: ticket.defaults }, specs);
}

/** `100 × metric` as metric math (API Gateway's error averages and PC utilization are ratios). */
function percentOf(id: string, metric: cloudwatch.IMetric, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({ expression: `100 * ${id}`, label, usingMetrics: { [id]: metric } });
}

/**
 * Blocked share of the requests the web ACL evaluated (`AWS/WAFV2`, rule `ALL`). WAF names the
 * metric dimension after the ACL, whose generated name is the third part of its ARN
 * (`…:regional/webacl/<name>/<id>`).
 */
function wafBlockedRate(scope: Construct, acl: wafv2.CfnWebACL): cloudwatch.MathExpression {
  const waf = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/WAFV2',
      metricName,
      statistic: cloudwatch.Stats.SUM,
      dimensionsMap: {
        WebACL: Fn.select(2, Fn.split('/', acl.attrArn)),
        Region: Stack.of(scope).region,
        Rule: 'ALL',
      },
    });
  return new cloudwatch.MathExpression({
    // A period with only blocked (or only allowed) requests has no datapoint for the other.
    expression:
      'IF(FILL(blocked, 0) + FILL(allowed, 0) > 0, 100 * FILL(blocked, 0) / (FILL(blocked, 0) + FILL(allowed, 0)), 0)',
    label: 'WAF blocked (%)',
    usingMetrics: { blocked: waf('BlockedRequests'), allowed: waf('AllowedRequests') },
  });
}
