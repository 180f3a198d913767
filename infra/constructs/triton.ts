/**
 * What the neural service runs and scrapes, apart from the AWS resources: Triton's command line,
 * the CloudWatch agent's Prometheus and EMF configuration, and the Triton metric names the
 * scaling policies and alarms read (`neural-service.ts`, `neural-alarms.ts`).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { TRITON_HTTP_PORT, TRITON_METRICS_PORT } from './network';

/** CloudWatch namespace of the metrics the agent sidecar scrapes from Triton. */
export const TRITON_METRICS_NAMESPACE = 'FraudScoring/Neural';
/** How often the sidecar scrapes Triton, seconds (also the unit of the per-task request target). */
export const SCRAPE_INTERVAL_SECONDS = 15;

/** Triton metric names as Prometheus exposes them (documented by NVIDIA: Triton metrics.md). */
export const TritonMetric = {
  RequestSuccess: 'nv_inference_request_success',
  RequestFailure: 'nv_inference_request_failure',
  InferenceCount: 'nv_inference_count',
  ExecutionCount: 'nv_inference_exec_count',
  RequestDurationUs: 'nv_inference_request_duration_us',
  QueueDurationUs: 'nv_inference_queue_duration_us',
  ComputeDurationUs: 'nv_inference_compute_infer_duration_us',
  QueueSummaryUs: 'nv_inference_queue_summary_us',
  ComputeSummaryUs: 'nv_inference_compute_infer_summary_us',
  GpuUtilization: 'nv_gpu_utilization',
  GpuMemoryUsedBytes: 'nv_gpu_memory_used_bytes',
  GpuMemoryTotalBytes: 'nv_gpu_memory_total_bytes',
} as const;
/** A Triton metric name. */
export type TritonMetricName = (typeof TritonMetric)[keyof typeof TritonMetric];

const MODEL_METRICS: readonly TritonMetricName[] = [
  TritonMetric.RequestSuccess,
  TritonMetric.RequestFailure,
  TritonMetric.InferenceCount,
  TritonMetric.ExecutionCount,
  TritonMetric.RequestDurationUs,
  TritonMetric.QueueDurationUs,
  TritonMetric.ComputeDurationUs,
];
const SUMMARY_METRICS: readonly TritonMetricName[] = [
  TritonMetric.QueueSummaryUs,
  TritonMetric.ComputeSummaryUs,
];
const GPU_METRICS: readonly TritonMetricName[] = [
  TritonMetric.GpuUtilization,
  TritonMetric.GpuMemoryUsedBytes,
  TritonMetric.GpuMemoryTotalBytes,
];

/**
 * One Triton metric as the sidecar publishes it. Model metrics carry `{stage, model}`, the
 * latency summaries also `quantile`, GPU metrics `{stage}`: every task writes the same
 * dimensions, so a statistic aggregates across tasks.
 */
export function tritonMetric(
  name: TritonMetricName,
  options: { stage: string; model?: string; quantile?: string; statistic: string; label?: string },
): cloudwatch.Metric {
  const dimensionsMap: Record<string, string> = { stage: options.stage };
  if (options.model !== undefined) dimensionsMap.model = options.model;
  if (options.quantile !== undefined) dimensionsMap.quantile = options.quantile;
  return new cloudwatch.Metric({
    namespace: TRITON_METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap,
    statistic: options.statistic,
    label: options.label,
    period: Duration.minutes(1),
  });
}

/** Triton's command line: the S3 repository, strict readiness, latency summaries for p99 alarms. */
export function tritonCommand(repositoryUrl: string): string[] {
  return [
    'tritonserver',
    `--model-repository=${repositoryUrl}`,
    '--model-control-mode=none',
    '--strict-readiness=true',
    '--exit-on-error=true',
    `--http-port=${TRITON_HTTP_PORT}`,
    '--allow-grpc=false',
    `--metrics-port=${TRITON_METRICS_PORT}`,
    '--allow-gpu-metrics=true',
    '--metrics-config=summary_latencies=true',
    '--metrics-config=summary_quantiles=0.5:0.05,0.99:0.001',
  ];
}

/** Prometheus scrape config of the sidecar: Triton on localhost, with the stage as a label. */
export function prometheusConfig(stage: string): string {
  return [
    'global:',
    `  scrape_interval: ${SCRAPE_INTERVAL_SECONDS}s`,
    '  scrape_timeout: 10s',
    'scrape_configs:',
    '  - job_name: triton',
    '    static_configs:',
    `      - targets: ['localhost:${TRITON_METRICS_PORT}']`,
    '        labels:',
    `          stage: ${stage}`,
    '',
  ].join('\n');
}

/** CloudWatch agent config: Prometheus → EMF in `metricsLogGroup`, namespace {@link TRITON_METRICS_NAMESPACE}. */
export function agentConfig(metricsLogGroup: string): string {
  const selector = (names: readonly string[]) => `^(${names.join('|')})$`;
  // The log group name is a token: JSON.stringify keeps it intact and CloudFormation fills it in.
  return JSON.stringify({
    logs: {
      metrics_collected: {
        prometheus: {
          prometheus_config_path: 'env:PROMETHEUS_CONFIG_CONTENT',
          log_group_name: metricsLogGroup,
          emf_processor: {
            metric_namespace: TRITON_METRICS_NAMESPACE,
            metric_declaration: [
              {
                source_labels: ['job'],
                label_matcher: '^triton$',
                dimensions: [['stage', 'model']],
                metric_selectors: [selector(MODEL_METRICS)],
              },
              {
                source_labels: ['job'],
                label_matcher: '^triton$',
                dimensions: [['stage', 'model', 'quantile']],
                metric_selectors: [selector(SUMMARY_METRICS)],
              },
              {
                source_labels: ['job'],
                label_matcher: '^triton$',
                dimensions: [['stage']],
                metric_selectors: [selector(GPU_METRICS)],
              },
            ],
          },
        },
      },
    },
  });
}
