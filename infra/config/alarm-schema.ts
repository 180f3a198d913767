/**
 * Alarm thresholds of a stage, keyed by severity. Each severity has evaluation defaults that
 * cascade into every alarm of it unless the alarm overrides them. The TypeScript types are
 * derived from the schemas (`z.infer`), so the two cannot drift.
 */
import { z } from 'zod';
import { positiveInt } from './schema-parts';

/** How an alarm evaluates its metric. */
export const alarmEvaluationSchema = z.strictObject({
  /** Metric period in minutes (1, 5, 15 or 60). */
  periodMinutes: z.union([z.literal(1), z.literal(5), z.literal(15), z.literal(60)]),
  /** Number of most recent periods the alarm looks at. */
  evaluationPeriods: positiveInt.max(1440),
  /** How many of those periods must breach. */
  datapointsToAlarm: positiveInt,
});
/** How an alarm evaluates its metric. Severity defaults cascade into each alarm unless it overrides them. */
export type AlarmEvaluation = z.infer<typeof alarmEvaluationSchema>;

/** One alarm's threshold, with optional overrides of its severity's evaluation defaults. */
export const alarmThresholdSchema = z.strictObject({
  /** The value the metric is compared with. */
  threshold: z.number().nonnegative(),
  periodMinutes: alarmEvaluationSchema.shape.periodMinutes.optional(),
  evaluationPeriods: alarmEvaluationSchema.shape.evaluationPeriods.optional(),
  datapointsToAlarm: alarmEvaluationSchema.shape.datapointsToAlarm.optional(),
});
/** One alarm's threshold, with optional overrides of its severity's evaluation defaults. */
export type AlarmThreshold = z.infer<typeof alarmThresholdSchema>;

const percent = alarmThresholdSchema.extend({ threshold: z.number().min(0).max(100) });

/** Alarms that page the on-call engineer: user impact, and the canary guardrails. */
export const pageAlarmsSchema = z.strictObject({
  /** Evaluation defaults for every page alarm. */
  defaults: alarmEvaluationSchema,
  /** API Gateway p99 latency of the stage above this many milliseconds (usually the SLA). */
  apiLatencyP99Ms: alarmThresholdSchema,
  /** API Gateway 5xx responses above this percentage of requests. */
  api5xxRatePercent: percent,
  /**
   * API Gateway 4xx responses above this percentage of requests: every caller getting 403
   * (expired credentials, a broken policy) or 400 (a contract change on the caller's side).
   */
  api4xxRatePercent: percent,
  /**
   * Requests per period below the lower edge of CloudWatch's anomaly-detection band on the
   * stage's request count; `threshold` is the band width in standard deviations.
   */
  trafficDrop: alarmThresholdSchema.extend({
    threshold: z.number().min(1).max(10),
    /**
     * A period without any request: `breaching` (traffic fell to zero) or `notBreaching` (a
     * stage that is often idle, such as dev).
     */
    whenNoData: z.enum(['breaching', 'notBreaching']),
  }),
  /** Requests the WAF web ACL blocks, percentage of all requests it sees (stages with WAF only). */
  wafBlockedRatePercent: percent,
  /** Score function (alias `live`, all versions) invocation errors above this percentage. */
  scoreErrorRatePercent: percent,
  /** Canary guardrail: Lambda errors (crashes, timeouts) of the new version, count per period. */
  canaryErrors: alarmThresholdSchema,
  /** Canary guardrail: p99 duration of the new version above this many milliseconds. */
  canaryLatencyP99Ms: alarmThresholdSchema,
  /** Canary guardrail: the new version's own 5xx answers (EMF `Errors`) above this percentage. */
  canaryAppErrorRatePercent: percent,
});
/** Alarms that page the on-call engineer: user impact, and the canary guardrails. */
export type PageAlarms = z.infer<typeof pageAlarmsSchema>;

/** Alarms that open a ticket: no immediate user impact, but something to fix this week. */
export const ticketAlarmsSchema = z.strictObject({
  /** Evaluation defaults for every ticket alarm. */
  defaults: alarmEvaluationSchema,
  /** Feature-store hit rate (card found) below this percentage. */
  featureHitRateMinPercent: percent,
  /** p90 age of the card features served, above this many seconds. */
  featureAgeP90Seconds: alarmThresholdSchema,
  /** Share of degraded answers above this percentage. */
  degradedRatePercent: percent,
  /** Messages in the events DLQ above this count. */
  dlqMessages: alarmThresholdSchema,
  /** Age of the oldest message in the events queue above this many seconds. */
  queueAgeSeconds: alarmThresholdSchema,
  /** Feature-updater records reported as failed, count per period. */
  updaterFailures: alarmThresholdSchema,
  /** Provisioned-concurrency utilization of alias `live` (maximum) above this percentage. */
  pcUtilizationPercent: percent,
  /** Invocations that spilled over provisioned concurrency (cold starts), count per period. */
  pcSpillovers: alarmThresholdSchema,
  /** DynamoDB throttled requests on the feature or idempotency table, count per period. */
  tableThrottles: alarmThresholdSchema,
});
/** Alarms that open a ticket: no immediate user impact, but something to fix this week. */
export type TicketAlarms = z.infer<typeof ticketAlarmsSchema>;

/** Alarm severities; each maps to one SNS topic. */
export type Severity = 'page' | 'ticket';

/** Threshold and evaluation of one alarm, its severity's defaults filled in. */
export type AlarmSettings = AlarmEvaluation & { readonly threshold: number };

/** Threshold and evaluation of one alarm, its severity's defaults filled in. */
export function alarmSettings(
  severity: { readonly defaults: AlarmEvaluation },
  alarm: AlarmThreshold,
): AlarmSettings {
  return {
    threshold: alarm.threshold,
    periodMinutes: alarm.periodMinutes ?? severity.defaults.periodMinutes,
    evaluationPeriods: alarm.evaluationPeriods ?? severity.defaults.evaluationPeriods,
    datapointsToAlarm: alarm.datapointsToAlarm ?? severity.defaults.datapointsToAlarm,
  };
}
