/**
 * One dashboard per stage and the alarms on-call acts on.
 *
 * - Standard service widgets (API Gateway, the three functions, both tables, queue + DLQ) come
 *   from cdk-monitoring-constructs' `MonitoringFacade`.
 * - The ML widgets are written by hand from the application's EMF metrics, with SEARCH
 *   expressions so every function/model version shows as its own line (canary next to stable).
 * - Alarms go to two KMS-encrypted SNS topics: `page` (user impact, and the canary guardrails
 *   that also roll deployments back) and `ticket` (hit rate, freshness, DLQ, capacity headroom).
 *   Every alarm is named `<stage>-<resource>-<signal>-<severity>` and links its runbook section.
 */
import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import {
  alarmSettings,
  type PageAlarms,
  type Severity,
  type Subscribers,
  type TicketAlarms,
} from '../config/stage-config';
import { type ServiceAlarm, type ServiceAlarmProps, serviceAlarm } from './alarms';
import { type ScoreMetricName, scoreMetric, scoreSearch, serviceMetric } from './app-metrics';
import type { EventsPipeline } from './events-pipeline';
import { RUNBOOK_PATH } from './naming';
import type { ScoringApi } from './scoring-api';
import type { ScoringFunction } from './scoring-function';

export interface ServiceMonitoringProps {
  /** Stage name: alarm names, dashboard name, metric dimension. */
  stage: string;
  /** Page and ticket thresholds with their evaluation defaults. */
  alarms: { page: PageAlarms; ticket: TicketAlarms };
  /** Who each topic notifies. */
  notifications: Record<Severity, Subscribers>;
  /** Encrypts both topics; its policy must let CloudWatch alarms publish. */
  topicKey: kms.IKey;
  /** The score function, its alias and the version this deploy publishes. */
  scoring: ScoringFunction;
  /** Model version served by {@link scoring} (the `modelVersion` metric dimension). */
  modelVersion: string;
  /** Guardrail alarms of the deployment group: they page too. */
  rollbackAlarms: ServiceAlarm[];
  api: ScoringApi;
  events: EventsPipeline;
  featureTable: dynamodb.ITable;
  idempotencyTable: dynamodb.ITable;
}

export class ServiceMonitoring extends Construct {
  readonly topics: Record<Severity, sns.Topic>;
  /** Every alarm of the stage, guardrails included. */
  readonly alarms: ServiceAlarm[];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);
    const { stage } = props;
    this.topics = {
      page: this.topic('PageTopic', 'page', props),
      ticket: this.topic('TicketTopic', 'ticket', props),
    };

    this.alarms = [...props.rollbackAlarms, ...this.pageAlarms(props), ...this.ticketAlarms(props)];
    for (const { alarm, severity } of this.alarms) {
      const topic = new actions.SnsAction(this.topics[severity]);
      alarm.addAlarmAction(topic);
      // A page resolves itself when the alarm clears; a ticket is closed by a person.
      if (severity === 'page') alarm.addOkAction(topic);
    }

    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: `FraudScoring-${stage}`,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
      detailDashboardRange: Duration.hours(6),
    });
    const facade = new MonitoringFacade(this, 'Facade', {
      dashboardFactory: dashboards,
      // The facade only draws; alarms are the hand-built ones above (names, runbook, topics).
      alarmFactoryDefaults: { alarmNamePrefix: `${stage}-facade`, actionsEnabled: false },
    });
    facade
      .addLargeHeader(`Fraud scoring — ${stage}`)
      .addWidget(
        new cloudwatch.TextWidget({
          markdown: `Model ${props.modelVersion} · runbook: \`${RUNBOOK_PATH}\` · ML widgets show one line per function version (\`functionVersion modelVersion\`).`,
          width: 24,
          height: 1,
        }),
      )
      .addWidget(
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms: this.alarms.map((a) => a.alarm),
          width: 24,
          height: 4,
          sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        }),
      )
      .addMediumHeader('Scoring: per function version');
    for (const widget of mlWidgets(props)) facade.addWidget(widget);
    facade.addMediumHeader('Capacity and throttling');
    for (const widget of capacityWidgets(props)) facade.addWidget(widget);
    facade
      .addMediumHeader('Services')
      .monitorApiGateway({
        api: props.api.api,
        apiStage: props.api.stage.stageName,
        humanReadableName: 'API',
      })
      .monitorLambdaFunction({
        lambdaFunction: props.scoring.alias,
        humanReadableName: 'Score function (alias live)',
      })
      .monitorLambdaFunction({
        lambdaFunction: props.events.eventsFunction,
        humanReadableName: 'Events function',
      })
      .monitorLambdaFunction({ lambdaFunction: props.events.updater, humanReadableName: 'Feature updater' })
      .monitorDynamoTable({ table: props.featureTable, humanReadableName: 'Feature table' })
      .monitorDynamoTable({ table: props.idempotencyTable, humanReadableName: 'Idempotency table' })
      .monitorSqsQueueWithDlq({
        queue: props.events.queue,
        deadLetterQueue: props.events.deadLetterQueue,
        humanReadableName: 'Events queue',
      });
    const dashboard = dashboards.createdDashboard();
    if (!dashboard) throw new Error('the dashboard factory did not create the detail dashboard');
    this.dashboard = dashboard;
  }

  private topic(id: string, severity: Severity, props: ServiceMonitoringProps): sns.Topic {
    const topic = new sns.Topic(this, id, {
      displayName: `Fraud scoring ${props.stage} ${severity}`,
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    const subscribers = props.notifications[severity];
    for (const email of subscribers.emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
    for (const url of subscribers.httpsEndpoints)
      topic.addSubscription(new subscriptions.UrlSubscription(url));
    if (severity === 'page' && subscribers.emails.length + subscribers.httpsEndpoints.length === 0) {
      Annotations.of(topic).addWarningV2(
        'fraud-scoring:page-topic-without-subscribers',
        `stage ${props.stage}: the page topic has no subscribers; set notifications.page in infra/config/stages.ts`,
      );
    }
    return topic;
  }

  private pageAlarms(props: ServiceMonitoringProps): ServiceAlarm[] {
    const { page } = props.alarms;
    const stage = props.api.stage;
    const alias = props.scoring.alias;
    const make = (id: string, p: Omit<ServiceAlarmProps, 'stage' | 'severity'>) =>
      serviceAlarm(this, id, { ...p, stage: props.stage, severity: 'page' });
    return [
      make('ApiLatencyAlarm', {
        resource: 'api',
        signal: 'latency-p99',
        summary: 'Callers wait longer than the SLA (API Gateway Latency p99 of the stage).',
        metric: stage.metricLatency({ statistic: cloudwatch.Stats.p(99) }),
        settings: alarmSettings(page, page.apiLatencyP99Ms),
      }),
      make('Api5xxAlarm', {
        resource: 'api',
        signal: '5xx-rate',
        summary: 'The API answers 5xx to a share of requests above the threshold.',
        metric: new cloudwatch.MathExpression({
          expression: '100 * serverErrors',
          label: '5xx (%)',
          usingMetrics: { serverErrors: stage.metricServerError({ statistic: cloudwatch.Stats.AVERAGE }) },
        }),
        settings: alarmSettings(page, page.api5xxRatePercent),
      }),
      make('ScoreErrorRateAlarm', {
        resource: 'score',
        signal: 'error-rate',
        summary: 'Score function invocations fail (crash, timeout) through alias live, all versions.',
        metric: new cloudwatch.MathExpression({
          expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
          label: 'invocation errors (%)',
          usingMetrics: {
            errors: alias.metricErrors({ statistic: cloudwatch.Stats.SUM }),
            invocations: alias.metricInvocations({ statistic: cloudwatch.Stats.SUM }),
          },
        }),
        settings: alarmSettings(page, page.scoreErrorRatePercent),
      }),
    ];
  }

  private ticketAlarms(props: ServiceMonitoringProps): ServiceAlarm[] {
    const { ticket } = props.alarms;
    const alias = props.scoring.alias;
    const live = (name: ScoreMetricName, statistic: string) =>
      scoreMetric(name, {
        stage: props.stage,
        functionVersion: props.scoring.version.version,
        modelVersion: props.modelVersion,
        statistic,
      });
    const make = (id: string, p: Omit<ServiceAlarmProps, 'stage' | 'severity'>) =>
      serviceAlarm(this, id, { ...p, stage: props.stage, severity: 'ticket' });
    return [
      make('FeatureHitRateAlarm', {
        resource: 'score',
        signal: 'feature-hit-rate',
        summary: 'Too many requests find no card features (first-seen cards or a broken write path).',
        metric: new cloudwatch.MathExpression({
          expression: 'IF(hits + misses > 0, 100 * hits / (hits + misses), 100)',
          label: 'feature hit rate (%)',
          usingMetrics: { hits: live('FeatureHit', 'Sum'), misses: live('FeatureMiss', 'Sum') },
        }),
        settings: alarmSettings(ticket, ticket.featureHitRateMinPercent),
        comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      }),
      make('FeatureAgeAlarm', {
        resource: 'score',
        signal: 'feature-age',
        summary: 'Card features served are old: the events path or the bulk load is behind.',
        metric: live('FeatureAge', cloudwatch.Stats.p(90)),
        settings: alarmSettings(ticket, ticket.featureAgeP90Seconds),
      }),
      make('DegradedRateAlarm', {
        resource: 'score',
        signal: 'degraded-rate',
        summary: 'A share of answers is degraded (features or model unavailable).',
        metric: new cloudwatch.MathExpression({
          expression: '100 * degraded',
          label: 'degraded answers (%)',
          usingMetrics: { degraded: live('Degraded', cloudwatch.Stats.AVERAGE) },
        }),
        settings: alarmSettings(ticket, ticket.degradedRatePercent),
      }),
      make('PcUtilizationAlarm', {
        resource: 'score',
        signal: 'pc-utilization',
        summary:
          'Provisioned concurrency of alias live is nearly used up: little headroom before cold starts.',
        metric: new cloudwatch.MathExpression({
          expression: '100 * utilization',
          label: 'PC utilization (%)',
          usingMetrics: {
            utilization: alias.metric('ProvisionedConcurrencyUtilization', {
              statistic: cloudwatch.Stats.MAXIMUM,
            }),
          },
        }),
        settings: alarmSettings(ticket, ticket.pcUtilizationPercent),
      }),
      make('PcSpilloverAlarm', {
        resource: 'score',
        signal: 'pc-spillover',
        summary: 'Invocations spill over provisioned concurrency and pay a cold start.',
        metric: alias.metric('ProvisionedConcurrencySpilloverInvocations', {
          statistic: cloudwatch.Stats.SUM,
        }),
        settings: alarmSettings(ticket, ticket.pcSpillovers),
      }),
      make('DlqDepthAlarm', {
        resource: 'events',
        signal: 'dlq-depth',
        summary:
          'Transaction events failed five deliveries and wait in the DLQ; their aggregates are missing.',
        metric: props.events.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        settings: alarmSettings(ticket, ticket.dlqMessages),
      }),
      make('QueueAgeAlarm', {
        resource: 'events',
        signal: 'queue-age',
        summary: 'The feature updater falls behind the events queue.',
        metric: props.events.queue.metricApproximateAgeOfOldestMessage({
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        settings: alarmSettings(ticket, ticket.queueAgeSeconds),
      }),
      make('UpdaterFailuresAlarm', {
        resource: 'events',
        signal: 'updater-failures',
        summary: 'The feature updater reports failed records (they are retried, then dead-lettered).',
        metric: serviceMetric('feature-updater', 'EventsFailed', { stage: props.stage, statistic: 'Sum' }),
        settings: alarmSettings(ticket, ticket.updaterFailures),
      }),
      make('TableThrottlesAlarm', {
        resource: 'tables',
        signal: 'throttles',
        summary: 'DynamoDB throttles reads or writes of the feature or idempotency table.',
        metric: new cloudwatch.MathExpression({
          expression: 'featureRead + featureWrite + idemRead + idemWrite',
          label: 'throttle events',
          usingMetrics: {
            featureRead: props.featureTable.metric('ReadThrottleEvents', { statistic: 'Sum' }),
            featureWrite: props.featureTable.metric('WriteThrottleEvents', { statistic: 'Sum' }),
            idemRead: props.idempotencyTable.metric('ReadThrottleEvents', { statistic: 'Sum' }),
            idemWrite: props.idempotencyTable.metric('WriteThrottleEvents', { statistic: 'Sum' }),
          },
        }),
        settings: alarmSettings(ticket, ticket.tableThrottles),
      }),
    ];
  }
}

/** Request rate, errors, latency, score distribution, decisions, features and degradation, per version. */
function mlWidgets(props: ServiceMonitoringProps): cloudwatch.IWidget[] {
  const stage = props.stage;
  const search = (name: ScoreMetricName, statistic: string, label?: string) =>
    scoreSearch(name, { stage, statistic, label });
  const graph = (
    title: string,
    left: cloudwatch.IMetric[],
    extra: Partial<cloudwatch.GraphWidgetProps> = {},
  ) => new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });
  const latency = (name: ScoreMetricName, what: string) =>
    graph(
      `Latency ${what} (ms): p50 / p95 / p99`,
      [search(name, 'p50'), search(name, 'p95'), search(name, 'p99')],
      { leftYAxis: { min: 0 } },
    );
  const thisVersion = (name: ScoreMetricName, statistic: string, label: string) =>
    scoreMetric(name, {
      stage,
      functionVersion: props.scoring.version.version,
      modelVersion: props.modelVersion,
      statistic,
      label,
    });
  return [
    graph('Requests per minute', [search('Requests', 'Sum')]),
    graph(
      '5xx answers (%)',
      [
        new cloudwatch.MathExpression({
          expression: `100 * SEARCH('{FraudScoring,functionVersion,modelVersion,service,stage} MetricName="Errors" service="score" stage="${stage}"', 'Average', 60)`,
          label: '',
          period: Duration.minutes(1),
          usingMetrics: {},
        }),
      ],
      { leftYAxis: { min: 0 } },
    ),
    graph('Client errors (4xx) and PAN rejections per minute', [
      search('ClientErrors', 'Sum'),
      search('PanRejected', 'Sum'),
    ]),
    latency('LatencyTotal', 'total'),
    latency('LatencyFeatures', 'feature fetch'),
    latency('LatencyInference', 'inference'),
    graph(
      'Score distribution: p10 / p50 / p90 / p99',
      [search('Score', 'p10'), search('Score', 'p50'), search('Score', 'p90'), search('Score', 'p99')],
      { leftYAxis: { min: 0, max: 1 } },
    ),
    graph(
      'Decision mix per minute',
      [search('DecisionApprove', 'Sum'), search('DecisionReview', 'Sum'), search('DecisionDecline', 'Sum')],
      { stacked: true },
    ),
    graph(
      'Feature store: hits and misses per minute',
      [search('FeatureHit', 'Sum'), search('FeatureMiss', 'Sum'), search('FeatureStale', 'Sum')],
      {
        right: [
          new cloudwatch.MathExpression({
            expression: 'IF(hits + misses > 0, 100 * hits / (hits + misses), 100)',
            label: 'hit rate, this deploy (%)',
            period: Duration.minutes(1),
            usingMetrics: {
              hits: thisVersion('FeatureHit', 'Sum', 'hits'),
              misses: thisVersion('FeatureMiss', 'Sum', 'misses'),
            },
          }),
        ],
        rightYAxis: { min: 0, max: 100 },
      },
    ),
    graph('Feature age (s): p50 / p90', [search('FeatureAge', 'p50'), search('FeatureAge', 'p90')], {
      leftYAxis: { min: 0 },
    }),
    graph('Degraded answers per minute', [
      search('DegradedFeaturesUnavailable', 'Sum'),
      search('DegradedModelUnavailable', 'Sum'),
      search('IdempotencyUnavailable', 'Sum'),
    ]),
    graph('Idempotent replays per minute', [search('IdempotentReplay', 'Sum')]),
    graph('Events: accepted, applied, duplicate, failed', [
      serviceMetric('events', 'EventsAccepted', { stage, statistic: 'Sum', label: 'accepted' }),
      serviceMetric('feature-updater', 'EventsApplied', { stage, statistic: 'Sum', label: 'applied' }),
      serviceMetric('feature-updater', 'EventsDuplicate', { stage, statistic: 'Sum', label: 'duplicate' }),
      serviceMetric('feature-updater', 'EventsFailed', { stage, statistic: 'Sum', label: 'failed' }),
    ]),
  ];
}

/** Provisioned concurrency, spill-over and throttles of alias live, and API throttling. */
function capacityWidgets(props: ServiceMonitoringProps): cloudwatch.IWidget[] {
  const alias = props.scoring.alias;
  const stage = props.api.stage;
  return [
    new cloudwatch.GraphWidget({
      title: 'Provisioned concurrency (alias live)',
      width: 8,
      height: 6,
      left: [
        alias.metric('ProvisionedConcurrentExecutions', { statistic: 'Maximum', label: 'PC executions' }),
        alias.metric('ConcurrentExecutions', { statistic: 'Maximum', label: 'all executions' }),
      ],
      right: [
        alias.metric('ProvisionedConcurrencyUtilization', {
          statistic: 'Maximum',
          label: 'utilization (max)',
        }),
      ],
      rightYAxis: { min: 0, max: 1 },
    }),
    new cloudwatch.GraphWidget({
      title: 'Spill-over (cold starts beyond PC) and throttles',
      width: 8,
      height: 6,
      left: [
        alias.metric('ProvisionedConcurrencySpilloverInvocations', { statistic: 'Sum', label: 'spill-over' }),
        alias.metricThrottles({ statistic: 'Sum', label: 'Lambda throttles' }),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'API: requests and 4xx (incl. 429 throttling)',
      width: 8,
      height: 6,
      left: [
        stage.metricCount({ statistic: 'Sum', label: 'requests' }),
        stage.metricClientError({ statistic: 'Sum', label: '4xx' }),
      ],
    }),
  ];
}
