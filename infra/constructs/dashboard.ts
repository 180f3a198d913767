/**
 * The stage's dashboard, `FraudScoring-<stage>`:
 *
 * - standard service widgets (API Gateway, the three functions, both tables, queue + DLQ) from
 *   cdk-monitoring-constructs' `MonitoringFacade`;
 * - the ML widgets, written by hand from the application's EMF metrics, with SEARCH expressions
 *   so every function/model version shows as its own line (canary next to stable).
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import type { Construct } from 'constructs';
import {
  EventsMetric,
  METRICS_NAMESPACE,
  MetricService,
  SCORE_DIMENSION_NAMES,
  ScoreMetric,
  type ScoreMetricName,
  UpdaterMetric,
} from '../../functions/shared/metrics-contract';
import { scoreMetric, scoreSearch, serviceMetric } from './app-metrics';
import type { EventsPipeline } from './events-pipeline';
import { RUNBOOK_PATH } from './naming';

export interface ServiceDashboardProps {
  /** Stage name: dashboard name and the `stage` metric dimension. */
  readonly stage: string;
  /** Every alarm of the stage, for the alarm status widget. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** The REST API. */
  readonly api: apigateway.RestApi;
  /** The API's deployment stage. */
  readonly apiStage: apigateway.Stage;
  /** Alias `live` of the score function. */
  readonly alias: lambda.Alias;
  /** The function version this deploy publishes (the hit-rate line of this deploy). */
  readonly functionVersion: string;
  /** Model version served by this deploy. */
  readonly modelVersion: string;
  /** Events function, feature updater, queue and DLQ. */
  readonly events: EventsPipeline;
  /** Online feature table (throttles, dashboard). */
  readonly featureTable: dynamodb.ITable;
  /** Idempotency table (throttles, dashboard). */
  readonly idempotencyTable: dynamodb.ITable;
  /**
   * Rows of optional parts (the GPU neural service), under their own header.
   * @default - none
   */
  readonly extraWidgets?: readonly cloudwatch.IWidget[];
}

/**
 * One dashboard per stage, built directly in `scope` (construct ids `Dashboards`, `Facade`): the
 * dashboard has a fixed name, so a changed logical id would make CloudFormation create the
 * replacement under a name that is still taken.
 */
export function serviceDashboard(scope: Construct, props: ServiceDashboardProps): cloudwatch.Dashboard {
  const dashboards = new DefaultDashboardFactory(scope, 'Dashboards', {
    dashboardNamePrefix: `FraudScoring-${props.stage}`,
    createDashboard: true,
    createSummaryDashboard: false,
    createAlarmDashboard: false,
    detailDashboardRange: Duration.hours(6),
  });
  const facade = new MonitoringFacade(scope, 'Facade', {
    dashboardFactory: dashboards,
    // The facade only draws; alarms are the hand-built ones (names, runbook, topics).
    alarmFactoryDefaults: { alarmNamePrefix: `${props.stage}-facade`, actionsEnabled: false },
  });
  facade
    .addLargeHeader(`Fraud scoring — ${props.stage}`)
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
        alarms: [...props.alarms],
        width: 24,
        height: 4,
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    )
    .addMediumHeader('Scoring: per function version');
  for (const widget of mlWidgets(props)) facade.addWidget(widget);
  if (props.extraWidgets?.length) {
    facade.addMediumHeader('Neural service');
    for (const widget of props.extraWidgets) facade.addWidget(widget);
  }
  facade.addMediumHeader('Capacity and throttling');
  for (const widget of capacityWidgets(props)) facade.addWidget(widget);
  facade
    .addMediumHeader('Services')
    .monitorApiGateway({ api: props.api, apiStage: props.apiStage.stageName, humanReadableName: 'API' })
    .monitorLambdaFunction({ lambdaFunction: props.alias, humanReadableName: 'Score function (alias live)' })
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
  return dashboard;
}

function graph(
  title: string,
  left: cloudwatch.IMetric[],
  extra: Partial<cloudwatch.GraphWidgetProps> = {},
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });
}

/** Request rate, errors, latency, score distribution, decisions, features and degradation, per version. */
function mlWidgets(props: ServiceDashboardProps): cloudwatch.IWidget[] {
  const { stage } = props;
  const search = (name: ScoreMetricName, statistic: string) => scoreSearch(name, { stage, statistic });
  const searchAll = (names: readonly ScoreMetricName[], statistic: string) =>
    names.map((name) => search(name, statistic));
  const percentiles = (name: ScoreMetricName, ps: readonly string[]) => ps.map((p) => search(name, p));
  const latency = (name: ScoreMetricName, what: string) =>
    graph(`Latency ${what} (ms): p50 / p95 / p99`, percentiles(name, ['p50', 'p95', 'p99']), {
      leftYAxis: { min: 0 },
    });
  const thisVersion = (name: ScoreMetricName, statistic: string, label: string) =>
    scoreMetric(name, {
      stage,
      functionVersion: props.functionVersion,
      modelVersion: props.modelVersion,
      statistic,
      label,
    });
  const updater = (name: (typeof UpdaterMetric)[keyof typeof UpdaterMetric], label: string) =>
    serviceMetric(MetricService.FeatureUpdater, name, { stage, statistic: 'Sum', label });
  return [
    graph('Requests per minute', [search(ScoreMetric.Requests, 'Sum')]),
    graph(
      '5xx answers (%)',
      [
        new cloudwatch.MathExpression({
          expression: `100 * SEARCH('{${METRICS_NAMESPACE},${SCORE_DIMENSION_NAMES.join(',')}} MetricName="${ScoreMetric.Errors}" service="${MetricService.Score}" stage="${stage}"', 'Average', 60)`,
          label: '',
          period: Duration.minutes(1),
          usingMetrics: {},
        }),
      ],
      { leftYAxis: { min: 0 } },
    ),
    graph(
      'Client errors (4xx) and PAN rejections per minute',
      searchAll([ScoreMetric.ClientErrors, ScoreMetric.PanRejected], 'Sum'),
    ),
    latency(ScoreMetric.LatencyTotal, 'total'),
    latency(ScoreMetric.LatencyFeatures, 'feature fetch'),
    latency(ScoreMetric.LatencyInference, 'inference'),
    graph(
      'Score distribution: p10 / p50 / p90 / p99',
      percentiles(ScoreMetric.Score, ['p10', 'p50', 'p90', 'p99']),
      {
        leftYAxis: { min: 0, max: 1 },
      },
    ),
    graph(
      'Decision mix per minute',
      searchAll(
        [ScoreMetric.DecisionApprove, ScoreMetric.DecisionReview, ScoreMetric.DecisionDecline],
        'Sum',
      ),
      { stacked: true },
    ),
    graph(
      'Feature store: hits and misses per minute',
      searchAll([ScoreMetric.FeatureHit, ScoreMetric.FeatureMiss, ScoreMetric.FeatureStale], 'Sum'),
      {
        right: [
          new cloudwatch.MathExpression({
            expression: 'IF(hits + misses > 0, 100 * hits / (hits + misses), 100)',
            label: 'hit rate, this deploy (%)',
            period: Duration.minutes(1),
            usingMetrics: {
              hits: thisVersion(ScoreMetric.FeatureHit, 'Sum', 'hits'),
              misses: thisVersion(ScoreMetric.FeatureMiss, 'Sum', 'misses'),
            },
          }),
        ],
        rightYAxis: { min: 0, max: 100 },
      },
    ),
    graph('Feature age (s): p50 / p90', percentiles(ScoreMetric.FeatureAge, ['p50', 'p90']), {
      leftYAxis: { min: 0 },
    }),
    graph(
      'Degraded answers per minute',
      searchAll(
        [
          ScoreMetric.DegradedFeaturesUnavailable,
          ScoreMetric.DegradedModelUnavailable,
          ScoreMetric.DegradedNeuralUnavailable,
          ScoreMetric.IdempotencyUnavailable,
        ],
        'Sum',
      ),
    ),
    graph('Idempotent replays per minute', [search(ScoreMetric.IdempotentReplay, 'Sum')]),
    graph('Events: accepted, applied, duplicate, failed', [
      serviceMetric(MetricService.Events, EventsMetric.EventsAccepted, {
        stage,
        statistic: 'Sum',
        label: 'accepted',
      }),
      updater(UpdaterMetric.EventsApplied, 'applied'),
      updater(UpdaterMetric.EventsDuplicate, 'duplicate'),
      updater(UpdaterMetric.EventsFailed, 'failed'),
    ]),
  ];
}

/** Provisioned concurrency, spill-over and throttles of alias live, and API traffic. */
function capacityWidgets(props: ServiceDashboardProps): cloudwatch.IWidget[] {
  const { alias, apiStage } = props;
  return [
    graph(
      'Provisioned concurrency (alias live)',
      [
        alias.metric('ProvisionedConcurrentExecutions', { statistic: 'Maximum', label: 'PC executions' }),
        alias.metric('ConcurrentExecutions', { statistic: 'Maximum', label: 'all executions' }),
      ],
      {
        right: [
          alias.metric('ProvisionedConcurrencyUtilization', {
            statistic: 'Maximum',
            label: 'utilization (max)',
          }),
        ],
        rightYAxis: { min: 0, max: 1 },
      },
    ),
    graph('Spill-over (cold starts beyond PC) and throttles', [
      alias.metric('ProvisionedConcurrencySpilloverInvocations', { statistic: 'Sum', label: 'spill-over' }),
      alias.metricThrottles({ statistic: 'Sum', label: 'Lambda throttles' }),
    ]),
    graph('API: requests and 4xx (incl. 429 throttling)', [
      apiStage.metricCount({ statistic: 'Sum', label: 'requests' }),
      apiStage.metricClientError({ statistic: 'Sum', label: '4xx' }),
    ]),
  ];
}
