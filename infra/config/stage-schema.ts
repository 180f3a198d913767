/**
 * The schema of one deployment stage's settings. Every TypeScript type of the stage config is
 * derived from it (`z.infer`): the schema is the documentation, the validation and the type.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { judgeConfig } from '../../functions/shared/domain/judge/config';
import {
  type AlarmThreshold,
  alarmThresholdSchema,
  pageAlarmsSchema,
  ticketAlarmsSchema,
} from './alarm-schema';
import { capacitySchema } from './capacity-schema';
import { calibrationSchema, judgeSchema } from './monitor-schema';
import { neuralSchema } from './neural-schema';
import { positiveInt } from './schema-parts';

/** Retention values CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS: readonly number[] = Object.values(RetentionDays).filter(
  (v): v is number => typeof v === 'number',
);

/**
 * Longest bake the post-traffic hook may run, minutes. The hook is one Lambda invocation
 * (15-minute limit) and needs time after the bake to report its status to CodeDeploy.
 */
export const MAX_BAKE_MINUTES = 13;

const subscribersSchema = z.strictObject({
  /** E-mail addresses (each must confirm the subscription). */
  emails: z.array(z.email()),
  /** HTTPS endpoints (paging tools, chat webhooks). */
  httpsEndpoints: z.array(z.url({ protocol: /^https$/ })),
});
/** Who gets an SNS topic's notifications. */
export type Subscribers = z.infer<typeof subscribersSchema>;

const strategySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('allAtOnce') }),
  z.strictObject({
    type: z.enum(['canary', 'linear']),
    /** Canary: share of traffic in the first step. Linear: share added at each step. */
    percentage: positiveInt.max(99),
    /** Minutes between steps. */
    intervalMinutes: positiveInt.max(2880),
  }),
]);
/** How CodeDeploy shifts alias `live` to a new version. */
export type DeploymentStrategy = z.infer<typeof strategySchema>;

const throttleSchema = z.strictObject({
  /** Steady requests per second. */
  rateLimit: positiveInt,
  /** Burst (token bucket size). */
  burstLimit: positiveInt.max(5000),
});
/** API Gateway throttling: steady rate and burst. */
export type Throttle = z.infer<typeof throttleSchema>;

const deploymentSchema = z.strictObject({
  /** How CodeDeploy shifts traffic. */
  strategy: strategySchema,
  /** Pre-traffic hook: slowest acceptable replay batch against the new version, ms. */
  preTrafficMaxLatencyMs: positiveInt,
  /**
   * Post-traffic hook: minutes at 100 % during which the guardrails are polled before the
   * deployment may succeed. 0 reads them once.
   */
  bakeMinutes: z.number().int().min(0).max(MAX_BAKE_MINUTES),
  /**
   * Evidence the new version must have collected (AWS/Lambda `Invocations` of its
   * `ExecutedVersion`) by the end of the bake; below it, `onLowTraffic` decides.
   */
  minCanaryInvocations: positiveInt,
  /** `fail`: too little canary traffic fails the deployment (fail closed). `pass`: it passes with a warning. */
  onLowTraffic: z.enum(['fail', 'pass']),
  /** The p99 guardrail ignores a minute with fewer invocations of the new version than this. */
  latencyMinSamples: positiveInt,
  /** Published versions of the score function kept for manual rollback (the live one included). */
  retainedVersions: positiveInt.min(2).max(50),
});

/** The validated settings of one stage. */
export const stageConfigSchema = z
  .strictObject({
    /** Stage name: lower-case letters and digits; prefixes stack, alarm and dashboard names. */
    stage: z.string().regex(/^[a-z][a-z0-9]{1,11}$/, 'lower-case letters and digits, 2–12 characters'),
    /** Where the stage deploys. Resolved by `resolveStageConfig`; never looked up. */
    env: z.strictObject({
      account: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id'),
      region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as eu-west-1'),
    }),
    /** Lambda architecture of the functions. arm64 needs an onnxruntime build verified on Graviton. */
    architecture: z.enum(['arm64', 'x86_64']),
    /** The model served: `models/<name>/<version>/`. */
    model: z.strictObject({
      name: z.string().regex(/^[a-z0-9-]+$/),
      version: z.string().regex(/^[0-9A-Za-z.+-]+$/),
    }),
    /**
     * A tree model the score function also scores every request with, after the live decision
     * and never changing it (`models/<model>/<version>/`, bundled, `SHADOW_MODEL_DIR`). Name the
     * candidate here before a model canary: the judge then gets paired (live, candidate)
     * decisions per segment (`ShadowSegmentDecision`). The neural shadow is `neural.mode: shadow`.
     * @default - no tree shadow
     */
    shadow: z
      .strictObject({
        model: z.string().regex(/^[a-z0-9-]+$/),
        version: z.string().regex(/^[0-9A-Za-z.+-]+$/),
      })
      .optional(),
    /** Score function sizing and behaviour. */
    scoreFunction: z.strictObject({
      /** Memory in MB (also buys CPU: 1769 MB = one vCPU). */
      memoryMb: positiveInt.min(128).max(10_240),
      /** Timeout in seconds; keep it well above the p99 and below API Gateway's 29 s. */
      timeoutSeconds: positiveInt.max(29),
      /** Budget of the feature read (BatchGetItem) before scoring with defaults, ms. */
      featureTimeoutMs: positiveInt.max(10_000),
      /** Card features older than this are treated as stale, seconds. */
      featureMaxAgeSeconds: positiveInt,
      /** How long a transactionId's answer is replayed to retries, seconds. */
      idempotencyTtlSeconds: positiveInt.min(60),
    }),
    capacity: capacitySchema,
    /** Service levels the alarms and the pre-traffic check derive from. */
    sla: z.strictObject({ p99Ms: positiveInt }),
    /** Alarm thresholds keyed by severity. */
    alarms: z.strictObject({ page: pageAlarmsSchema, ticket: ticketAlarmsSchema }),
    /** Safe delivery of new score-function versions. */
    deployment: deploymentSchema,
    api: z.strictObject({
      /** `iam`: SigV4-signed calls (default). `apiKey`: API key + usage plan. */
      auth: z.enum(['iam', 'apiKey']),
      /** Stage-wide throttling: steady requests per second and burst. */
      throttling: throttleSchema,
      /** Per-method throttling (override the stage-wide limits for one method). */
      methodThrottling: z.strictObject({ score: throttleSchema, events: throttleSchema }),
      /** Attach a WAF web ACL (AWS managed rule groups and a per-IP rate rule) to the stage. */
      waf: z.boolean(),
      /** WAF rate-based rule: requests one client IP may send per window before it is blocked. */
      wafRateLimit: z.strictObject({
        /** Requests per IP per window (WAF accepts 10 or more). */
        requestsPerIp: positiveInt.min(10).max(2_000_000_000),
        /** The window WAF counts over, seconds. */
        windowSeconds: z.union([z.literal(60), z.literal(120), z.literal(300), z.literal(600)]),
      }),
    }),
    /** Events path: `POST /v1/events` → SQS → feature updater. */
    events: z.strictObject({
      /** Feature-updater timeout, seconds (the queue's visibility timeout is 6× this). */
      updaterTimeoutSeconds: positiveInt.max(900),
      /** Longest wait to fill a batch of 10 records, seconds. */
      maxBatchingWindowSeconds: z.number().int().min(0).max(300),
      /** TTL of feature items written by the updater, seconds. */
      featureTtlSeconds: positiveInt.min(3600),
      /** Most concurrent updater invocations the SQS event source starts (2–1000). */
      updaterMaxConcurrency: positiveInt.min(2).max(1000),
    }),
    /** The event and answer archive (Firehose → S3 → Glue/Athena; `infra/constructs/archive.ts`). */
    archive: z.strictObject({
      /** Days before objects move to S3 Standard-IA (S3 allows 30 or more). */
      infrequentAccessAfterDays: positiveInt.min(30),
      /** Days before objects move to Glacier Instant Retrieval (at least 30 after Standard-IA). */
      glacierAfterDays: positiveInt,
      /** Days before objects are deleted: past the latest chargebacks the calibration monitor waits for. */
      expireAfterDays: positiveInt,
      /** Firehose buffer: seconds before an object is written (60–900). */
      bufferSeconds: z.number().int().min(60).max(900),
      /** Firehose buffer: MiB before an object is written (dynamic partitioning needs 64–128). */
      bufferMiB: z.number().int().min(64).max(128),
      /** Ticket alarms (evaluated with `alarms.ticket.defaults` unless overridden). */
      alarms: z.strictObject({
        /** Records the functions dropped (buffer full or delivery failed), count per period. */
        droppedRecords: alarmThresholdSchema,
        /** Records Firehose failed to deliver to S3, percent. */
        deliveryFailurePercent: alarmThresholdSchema.extend({ threshold: z.number().min(0).max(100) }),
      }),
    }),
    /** Days to keep function, access, execution and WAF logs. */
    logRetentionDays: positiveInt.refine((d) => LOG_RETENTION_DAYS.includes(d), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
    /** Subscriptions of the two alarm topics. */
    notifications: z.strictObject({ page: subscribersSchema, ticket: subscribersSchema }),
    /** The GPU neural service and the score function's place in the VPC. */
    neural: neuralSchema,
    /** The canary judge and whether a deployment needs its `pass`. */
    judge: judgeSchema,
    /** The daily calibration and recall monitor over the archive. */
    calibration: calibrationSchema,
  })
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (c.capacity.minProvisioned > c.capacity.maxProvisioned)
      issue(['capacity', 'minProvisioned'], 'must not exceed capacity.maxProvisioned');
    c.capacity.scheduled.forEach((s, i) => {
      if (s.minCapacity > s.maxCapacity)
        issue(['capacity', 'scheduled', i, 'minCapacity'], 'must not exceed maxCapacity');
    });
    const names = c.capacity.scheduled.map((s) => s.name);
    if (new Set(names).size !== names.length)
      issue(['capacity', 'scheduled'], 'scheduled action names must be unique');
    // CloudWatch cannot alarm when more datapoints must breach than it evaluates.
    for (const severity of ['page', 'ticket'] as const) {
      const { defaults, ...thresholds } = c.alarms[severity];
      for (const [name, t] of Object.entries(thresholds) as [string, AlarmThreshold][]) {
        const periods = t.evaluationPeriods ?? defaults.evaluationPeriods;
        const datapoints = t.datapointsToAlarm ?? defaults.datapointsToAlarm;
        if (datapoints > periods)
          issue(
            ['alarms', severity, name],
            `datapointsToAlarm ${datapoints} exceeds evaluationPeriods ${periods}`,
          );
      }
    }
    if (c.archive.glacierAfterDays < c.archive.infrequentAccessAfterDays + 30)
      issue(['archive', 'glacierAfterDays'], 'must be at least 30 days after infrequentAccessAfterDays');
    if (c.archive.expireAfterDays <= c.archive.glacierAfterDays)
      issue(['archive', 'expireAfterDays'], 'must be after glacierAfterDays');
    // The oldest partition a run reads (one day before the window, for offset-written times)
    // must still exist, or every run judges nothing.
    const oldestDay = c.calibration.maturityDays + c.calibration.spanDays + 1;
    if (oldestDay >= c.archive.expireAfterDays)
      issue(
        ['calibration', 'maturityDays'],
        `maturityDays + spanDays + 1 (${oldestDay}) must be below archive.expireAfterDays (${c.archive.expireAfterDays})`,
      );
    if (c.scoreFunction.featureTimeoutMs >= c.scoreFunction.timeoutSeconds * 1000)
      issue(['scoreFunction', 'featureTimeoutMs'], 'must be below the function timeout');
    if (c.neural.enabled) {
      const n = c.neural;
      if (n.tasks.min > n.tasks.max) issue(['neural', 'tasks', 'min'], 'must not exceed neural.tasks.max');
      // One task per AZ at least, or an AZ outage takes the service down.
      if (n.tasks.min < n.availabilityZones.length)
        issue(['neural', 'tasks', 'min'], 'must be at least one task per Availability Zone');
      if (n.budgetMs >= c.sla.p99Ms) issue(['neural', 'budgetMs'], 'must leave room inside sla.p99Ms');
      n.scheduled.forEach((s, i) => {
        if (s.minCapacity > s.maxCapacity || s.maxCapacity > n.tasks.max)
          issue(['neural', 'scheduled', i], 'needs minCapacity ≤ maxCapacity ≤ neural.tasks.max');
      });
    }
    if (c.judge.requirePass && !c.judge.enabled)
      issue(['judge', 'requirePass'], 'needs judge.enabled: no judge, no verdict to require');
    // All at once has no canary phase: the judge never sees two versions side by side.
    if (c.judge.requirePass && c.deployment.strategy.type === 'allAtOnce')
      issue(['judge', 'requirePass'], 'needs a canary or linear deployment.strategy');
    try {
      judgeConfig(c.judge.config);
    } catch (error) {
      issue(['judge', 'config'], (error as Error).message);
    }
    const { throttling, methodThrottling } = c.api;
    if (throttling.burstLimit < throttling.rateLimit / 10)
      issue(['api', 'throttling', 'burstLimit'], 'a burst below a tenth of the rate rejects ordinary jitter');
    for (const method of ['score', 'events'] as const) {
      for (const limit of ['rateLimit', 'burstLimit'] as const) {
        if (methodThrottling[method][limit] > throttling[limit])
          issue(['api', 'methodThrottling', method, limit], `must not exceed api.throttling.${limit}`);
      }
    }
  });

/** The validated settings of one stage, as stacks and constructs receive them. */
export type StageConfig = z.infer<typeof stageConfigSchema>;
/** Lambda architecture names as the stage config spells them (CDK: `Architecture.ARM_64` / `X86_64`). */
export type LambdaArchitecture = StageConfig['architecture'];
/** Safe-delivery settings of the score function. */
export type DeploymentConfig = StageConfig['deployment'];
