/**
 * Alarms and dashboard widgets of the GPU neural service, as tables of {@link AlarmSpec}s like
 * the stage's other alarms (named `<stage>-neural-<signal>-<severity>`, runbook anchor
 * `neural-<signal>`).
 *
 * - Page (and, for the three guardrails, roll an ECS canary back): ALB target 5xx, target
 *   response time p99, Triton queue time p99; the service down (no healthy target) or the
 *   score function seeing the neural service unavailable (breaker open, calls failing).
 * - Ticket: GPU saturation, rising mean queue time, unhealthy targets in an AZ.
 *
 * ECS canaries alternate between two target groups, and which one holds the new revision is
 * not known at synth: the target-group guardrails take the worse of the two groups, so the
 * new revision's errors are not diluted by the stable revision's traffic.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import { ScoreMetric } from '../../functions/shared/metrics-contract';
import type { AlarmEvaluation, NeuralConfig, Severity } from '../config/stage-config';
import { type AlarmSpec, buildAlarms, type ServiceAlarm } from './alarms';
import { scoreMetric } from './app-metrics';
import { alarmName } from './naming';
import { TritonMetric, tritonMetric } from './triton';

/** The alarm table's resource part: names `<stage>-neural-…`, anchors `neural-…`. */
export const NEURAL_ALARM_RESOURCE = 'neural';

/** Signals of the guardrails that roll an ECS canary back (they page too). */
export const NEURAL_GUARDRAIL_SIGNALS = ['target-5xx', 'target-p99', 'queue-p99'] as const;

/** The names ECS watches during a deployment, known before the alarms exist. */
export function neuralGuardrailNames(stage: string): string[] {
  return NEURAL_GUARDRAIL_SIGNALS.map((signal) => alarmName(stage, NEURAL_ALARM_RESOURCE, signal, 'page'));
}

/** What the neural alarms watch. */
export interface NeuralAlarmTargets {
  /** Stage name. */
  readonly stage: string;
  /** Neural settings (thresholds, model name, AZs). */
  readonly config: NeuralConfig;
  /** Region, for the AZ names of the per-AZ metrics. */
  readonly region: string;
  /** The ALB (the `LoadBalancer` dimension). */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** Both target groups a canary alternates between. */
  readonly targetGroups: readonly elbv2.ApplicationTargetGroup[];
  /** Score function version and model version whose `DegradedNeuralUnavailable` share is watched. */
  readonly score: { readonly functionVersion: string; readonly modelVersion: string };
  /** Evaluation defaults per severity (the stage's `alarms.<severity>.defaults`). */
  readonly defaults: Readonly<Record<Severity, AlarmEvaluation>>;
}

/** The worse of the target groups: `MAX([g0, g1])` over one metric per group. */
function worstGroup(
  label: string,
  groups: readonly elbv2.ApplicationTargetGroup[],
  metric: (group: elbv2.ApplicationTargetGroup) => cloudwatch.IMetric,
): cloudwatch.MathExpression {
  const usingMetrics = Object.fromEntries(groups.map((g, i) => [`g${i}`, metric(g)]));
  return new cloudwatch.MathExpression({
    expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`,
    label,
    usingMetrics,
  });
}

/** Healthy targets over both groups (the idle group reports nothing). */
function healthyTargets(groups: readonly elbv2.ApplicationTargetGroup[]): cloudwatch.MathExpression {
  const usingMetrics = Object.fromEntries(
    groups.map((g, i) => [`h${i}`, g.metrics.healthyHostCount({ statistic: cloudwatch.Stats.MINIMUM })]),
  );
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + '),
    label: 'healthy Triton targets',
    usingMetrics,
  });
}

function unhealthyInAnyAz(t: NeuralAlarmTargets): cloudwatch.MathExpression {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  for (const suffix of t.config.availabilityZones) {
    t.targetGroups.forEach((group, i) => {
      usingMetrics[`${suffix}${i}`] = new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB',
        metricName: 'UnHealthyHostCount',
        dimensionsMap: {
          TargetGroup: group.targetGroupFullName,
          LoadBalancer: t.loadBalancer.loadBalancerFullName,
          AvailabilityZone: `${t.region}${suffix}`,
        },
        statistic: cloudwatch.Stats.MAXIMUM,
      });
    });
  }
  return new cloudwatch.MathExpression({
    expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`,
    label: 'unhealthy targets, worst AZ',
    usingMetrics,
  });
}

/** Every alarm of the neural service, page and ticket. */
export function neuralAlarms(scope: Construct, t: NeuralAlarmTargets): ServiceAlarm[] {
  const { stage, config } = t;
  const a = config.alarms;
  const model = config.model.name;
  const page: AlarmSpec[] = [
    {
      id: 'NeuralTarget5xxAlarm',
      resource: NEURAL_ALARM_RESOURCE,
      signal: 'target-5xx',
      summary: 'Triton targets answer 5xx (worse target group: the canary revision during a deployment).',
      metric: worstGroup('target 5xx', t.targetGroups, (g) =>
        g.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: cloudwatch.Stats.SUM }),
      ),
      threshold: a.target5xx,
    },
    {
      id: 'NeuralTargetP99Alarm',
      resource: NEURAL_ALARM_RESOURCE,
      signal: 'target-p99',
      summary:
        'Triton target response time p99 (seconds → ms) is above the budget the score function allows.',
      metric: new cloudwatch.MathExpression({
        expression: '1000 * worst',
        label: 'target response time p99 (ms)',
        usingMetrics: {
          worst: worstGroup('p99 (s)', t.targetGroups, (g) =>
            g.metrics.targetResponseTime({ statistic: cloudwatch.Stats.p(99) }),
          ),
        },
      }),
      threshold: a.targetP99Ms,
    },
    {
      id: 'NeuralQueueP99Alarm',
      resource: NEURAL_ALARM_RESOURCE,
      signal: 'queue-p99',
      summary:
        'Requests wait in Triton’s queue (p99, worst task) longer than the threshold: GPU saturated or batching stalled.',
      metric: tritonMetric(TritonMetric.QueueSummaryUs, {
        stage,
        model,
        quantile: '0.99',
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: a.queueP99Us,
    },
    {
      id: 'NeuralHealthyTasksAlarm',
      resource: NEURAL_ALARM_RESOURCE,
      signal: 'healthy-tasks',
      summary: 'Fewer healthy Triton targets than the threshold behind the neural ALB (service down).',
      metric: healthyTargets(t.targetGroups),
      threshold: a.healthyTasksMin,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // No datapoint from either group: nothing registered, i.e. no service.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    },
    {
      id: 'NeuralUnavailableAlarm',
      resource: NEURAL_ALARM_RESOURCE,
      signal: 'unavailable',
      summary:
        'The score function answers without the neural score (breaker open or calls failing) for a share of requests above the threshold.',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * FILL(unavailable, 0) / requests, 0)',
        label: 'neural_unavailable (%)',
        usingMetrics: {
          unavailable: scoreMetric(ScoreMetric.DegradedNeuralUnavailable, {
            stage,
            ...t.score,
            statistic: cloudwatch.Stats.SUM,
          }),
          requests: scoreMetric(ScoreMetric.Requests, { stage, ...t.score, statistic: cloudwatch.Stats.SUM }),
        },
      }),
      threshold: a.unavailablePercent,
    },
  ];
  const ticket: AlarmSpec[] = [
    {
      id: 'NeuralGpuUtilizationAlarm',
      resource: NEURAL_ALARM_RESOURCE,
      signal: 'gpu-utilization',
      summary:
        'Average GPU utilization stays above the threshold: autoscaling is at its ceiling or too slow.',
      metric: new cloudwatch.MathExpression({
        expression: '100 * gpu',
        label: 'GPU utilization (%)',
        usingMetrics: {
          gpu: tritonMetric(TritonMetric.GpuUtilization, { stage, statistic: cloudwatch.Stats.AVERAGE }),
        },
      }),
      threshold: a.gpuUtilizationPercent,
    },
    {
      id: 'NeuralQueueTimeAlarm',
      resource: NEURAL_ALARM_RESOURCE,
      signal: 'queue-time',
      summary: 'Mean time a request waits in Triton’s queue is rising above the threshold (µs per request).',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, queue / requests, 0)',
        label: 'queue time per request (µs)',
        usingMetrics: {
          queue: tritonMetric(TritonMetric.QueueDurationUs, {
            stage,
            model,
            statistic: cloudwatch.Stats.SUM,
          }),
          requests: tritonMetric(TritonMetric.RequestSuccess, {
            stage,
            model,
            statistic: cloudwatch.Stats.SUM,
          }),
        },
      }),
      threshold: a.queueMeanUs,
    },
    {
      id: 'NeuralUnhealthyAzAlarm',
      resource: NEURAL_ALARM_RESOURCE,
      signal: 'unhealthy-az',
      summary: 'Triton targets are unhealthy in at least one Availability Zone.',
      metric: unhealthyInAnyAz(t),
      threshold: a.unhealthyPerAz,
    },
  ];
  return [
    ...buildAlarms(scope, { stage, severity: 'page', defaults: t.defaults.page }, page),
    ...buildAlarms(scope, { stage, severity: 'ticket', defaults: t.defaults.ticket }, ticket),
  ];
}

/** Dashboard rows of the neural service: traffic, latency, Triton internals, GPU, health, degradation. */
export function neuralWidgets(t: Omit<NeuralAlarmTargets, 'defaults'>): cloudwatch.IWidget[] {
  const { stage } = t;
  const model = t.config.model.name;
  const triton = (name: (typeof TritonMetric)[keyof typeof TritonMetric], statistic: string, label: string) =>
    tritonMetric(name, { stage, model, statistic, label });
  const graph = (
    title: string,
    left: cloudwatch.IMetric[],
    extra: Partial<cloudwatch.GraphWidgetProps> = {},
  ) =>
    new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, period: Duration.minutes(1), ...extra });
  const perGroup = (fn: (g: elbv2.ApplicationTargetGroup, label: string) => cloudwatch.IMetric) =>
    t.targetGroups.map((g, i) => fn(g, `group ${i === 0 ? 'blue' : 'green'}`));
  return [
    new cloudwatch.TextWidget({
      markdown: `### Neural service (Triton on GPU) — model ${model}@${t.config.model.version}, mode \`${t.config.mode}\``,
      width: 24,
      height: 1,
    }),
    graph(
      'Neural: requests per minute (per target group)',
      perGroup((g, label) => g.metrics.requestCount({ statistic: 'Sum', label })),
    ),
    graph(
      'Neural: target response time p50 / p99 (s)',
      [
        ...perGroup((g, label) => g.metrics.targetResponseTime({ statistic: 'p50', label: `${label} p50` })),
        ...perGroup((g, label) => g.metrics.targetResponseTime({ statistic: 'p99', label: `${label} p99` })),
      ],
      { leftYAxis: { min: 0 } },
    ),
    graph('Neural: queue vs compute time per request (µs)', [
      new cloudwatch.MathExpression({
        period: Duration.minutes(1),
        expression: 'IF(n > 0, q / n, 0)',
        label: 'queue',
        usingMetrics: {
          q: triton(TritonMetric.QueueDurationUs, 'Sum', 'queue'),
          n: triton(TritonMetric.RequestSuccess, 'Sum', 'requests'),
        },
      }),
      new cloudwatch.MathExpression({
        period: Duration.minutes(1),
        expression: 'IF(n > 0, c / n, 0)',
        label: 'compute',
        usingMetrics: {
          c: triton(TritonMetric.ComputeDurationUs, 'Sum', 'compute'),
          n: triton(TritonMetric.RequestSuccess, 'Sum', 'requests'),
        },
      }),
    ]),
    graph('Neural: average batch size (inferences / executions)', [
      new cloudwatch.MathExpression({
        period: Duration.minutes(1),
        expression: 'IF(e > 0, i / e, 0)',
        label: 'batch size',
        usingMetrics: {
          i: triton(TritonMetric.InferenceCount, 'Sum', 'inferences'),
          e: triton(TritonMetric.ExecutionCount, 'Sum', 'executions'),
        },
      }),
    ]),
    graph(
      'Neural: GPU utilization (%) and memory used (GiB)',
      [
        new cloudwatch.MathExpression({
          period: Duration.minutes(1),
          expression: '100 * u',
          label: 'utilization avg (%)',
          usingMetrics: { u: tritonMetric(TritonMetric.GpuUtilization, { stage, statistic: 'Average' }) },
        }),
      ],
      {
        right: [
          new cloudwatch.MathExpression({
            period: Duration.minutes(1),
            expression: 'm / 1073741824',
            label: 'memory used max (GiB)',
            usingMetrics: {
              m: tritonMetric(TritonMetric.GpuMemoryUsedBytes, { stage, statistic: 'Maximum' }),
            },
          }),
        ],
      },
    ),
    graph('Neural: healthy / unhealthy targets', [
      ...perGroup((g, label) =>
        g.metrics.healthyHostCount({ statistic: 'Minimum', label: `${label} healthy` }),
      ),
      ...perGroup((g, label) =>
        g.metrics.unhealthyHostCount({ statistic: 'Maximum', label: `${label} unhealthy` }),
      ),
    ]),
    graph('Neural seen from the score function: neural_unavailable (%) — breaker open or calls failing', [
      new cloudwatch.MathExpression({
        period: Duration.minutes(1),
        expression: 'IF(requests > 0, 100 * FILL(unavailable, 0) / requests, 0)',
        label: 'neural_unavailable (%)',
        usingMetrics: {
          unavailable: scoreMetric(ScoreMetric.DegradedNeuralUnavailable, {
            stage,
            ...t.score,
            statistic: 'Sum',
          }),
          requests: scoreMetric(ScoreMetric.Requests, { stage, ...t.score, statistic: 'Sum' }),
        },
      }),
    ]),
  ];
}
