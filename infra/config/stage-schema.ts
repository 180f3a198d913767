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

const positiveInt = z.number().int().positive();

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

const scheduleExpression = z
  .string()
  .regex(
    /^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\))$/,
    'cron(m h dom mon dow y), rate(n unit) or at(yyyy-mm-ddThh:mm:ss)',
  );

const scheduledCapacitySchema = z.strictObject({
  /** Construct id and human name, e.g. `weekday-peak`. Letters, digits and dashes. */
  name: z.string().regex(/^[a-z0-9-]+$/),
  /** Application Auto Scaling schedule: `cron(m h dom mon dow y)`, `rate(...)` or `at(...)`. */
  schedule: scheduleExpression,
  /** IANA time zone the schedule is written in. @default 'UTC' */
  timeZone: z.string().min(1).optional(),
  /** Provisioned-concurrency floor from this time on. */
  minCapacity: positiveInt,
  /** Provisioned-concurrency ceiling from this time on. */
  maxCapacity: positiveInt,
});
/** A scheduled change of the provisioned-concurrency bounds before a known peak (or after it). */
export type ScheduledCapacity = z.infer<typeof scheduledCapacitySchema>;

const capacitySchema = z.strictObject({
  /** Floor of provisioned concurrency outside scheduled peaks. */
  minProvisioned: positiveInt,
  /** Ceiling of provisioned concurrency. */
  maxProvisioned: positiveInt,
  /** Target-tracking utilization, 0.1–0.9 (0.6 keeps 40 % headroom for bursts). */
  utilizationTarget: z.number().min(0.1).max(0.9),
  /** Scheduled bounds for known peaks, in order of the day. */
  scheduled: z.array(scheduledCapacitySchema),
});
/** Provisioned concurrency of the score alias, owned by Application Auto Scaling. */
export type CapacityConfig = z.infer<typeof capacitySchema>;

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

const ecrImageSchema = z.strictObject({
  /** Repository name in the stage account's ECR (the mirror of the upstream image). */
  repository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/),
  /** Pinned content digest: a tag can move, a digest cannot. */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a sha256:<64 hex> image digest'),
  /** The upstream image the mirror was copied from, for the deploy guide and the console. */
  upstream: z.string().min(1),
});
/** A container image mirrored into the account's ECR, pinned by digest. */
export type EcrImage = z.infer<typeof ecrImageSchema>;

const neuralAlarmsSchema = z.strictObject({
  /** Pages: healthy Triton tasks below this count for the evaluation window (0 = service down). */
  healthyTasksMin: alarmThresholdSchema,
  /** Pages: share of score answers degraded with `neural_unavailable` (breaker open or calls failing), percent. */
  unavailablePercent: alarmThresholdSchema.extend({ threshold: z.number().min(0).max(100) }),
  /** Canary guardrail (rolls the ECS deployment back) and page: ALB target 5xx per minute. */
  target5xx: alarmThresholdSchema,
  /** Canary guardrail (rolls back) and page: ALB target response time p99, milliseconds. */
  targetP99Ms: alarmThresholdSchema,
  /** Canary guardrail (rolls back): Triton queue time p99, microseconds. */
  queueP99Us: alarmThresholdSchema,
  /** Ticket: average GPU utilization across tasks above this percentage. */
  gpuUtilizationPercent: alarmThresholdSchema.extend({ threshold: z.number().min(0).max(100) }),
  /** Ticket: Triton mean queue time per request above this many microseconds (rising queue). */
  queueMeanUs: alarmThresholdSchema,
  /** Ticket: unhealthy targets in one Availability Zone above this count. */
  unhealthyPerAz: alarmThresholdSchema,
});

const neuralEnabledSchema = z.strictObject({
  enabled: z.literal(true),
  /** `shadow`: called and measured, never decides. `live`: the combined score decides. `off`: not called. */
  mode: z.enum(['off', 'shadow', 'live']),
  /** Whole-call budget of the neural client inside the score function, ms (`NEURAL_BUDGET_MS`). */
  budgetMs: positiveInt.max(1_000),
  /** The model served by Triton: `models/<name>/<version>/triton/` is uploaded as the repository. */
  model: z.strictObject({
    name: z.string().regex(/^[a-z0-9-]+$/),
    version: z.string().regex(/^[0-9A-Za-z.+-]+$/),
  }),
  /** Triton Inference Server, mirrored from NGC (`nvcr.io/nvidia/tritonserver:<yy.mm>-py3`). */
  tritonImage: ecrImageSchema,
  /** CloudWatch agent sidecar (Prometheus scrape → EMF), mirrored from public ECR. */
  cloudwatchAgentImage: ecrImageSchema,
  /** EC2 GPU instance type (one GPU per instance: g4dn/g5/g6/g6e `.xlarge`–`.8xlarge`). */
  instanceType: z
    .string()
    .regex(/^(g4dn|g5|g6|g6e)\.(xlarge|2xlarge|4xlarge|8xlarge)$/, 'a single-GPU g4dn/g5/g6/g6e size'),
  /** Tasks (one GPU each): floor, ceiling; the service scales between them. */
  tasks: z.strictObject({ min: positiveInt, max: positiveInt }),
  /** Target tracking: ALB requests per target per minute (from the planner's per-GPU throughput). */
  requestsPerTargetPerMinute: positiveInt,
  /** Target tracking: average GPU utilization, percent. */
  gpuUtilizationTarget: z.number().min(10).max(90),
  /** Scheduled floors of the task count before known peaks. */
  scheduled: z.array(scheduledCapacitySchema),
  /** Seconds Triton may take to load the model before health checks count (CUDA init + S3 read). */
  startupGraceSeconds: positiveInt.min(30).max(600),
  /** ECS built-in canary: share of production traffic on the new tasks, and the bake per step. */
  canary: z.strictObject({
    percent: z.number().min(0.1).max(100),
    bakeMinutes: z.number().int().min(0).max(1440),
  }),
  /** Network egress: `endpoints` (interface endpoints, no internet) or `nat` (one NAT gateway per AZ). */
  egress: z.enum(['endpoints', 'nat']),
  /** Availability Zones of the VPC (suffixes of the region, e.g. `a`, `b`). */
  availabilityZones: z
    .array(z.string().regex(/^[a-z]$/))
    .min(2)
    .max(3),
  /** Alarm thresholds of the neural service, with page/ticket evaluation defaults of `alarms`. */
  alarms: neuralAlarmsSchema,
});

/**
 * The GPU neural service (issue 11). `enabled: false` creates none of it and keeps the score
 * function out of the VPC.
 */
const neuralSchema = z.discriminatedUnion('enabled', [
  z.strictObject({ enabled: z.literal(false) }),
  neuralEnabledSchema,
]);
/** Settings of the GPU neural service of a stage that enables it. */
export type NeuralConfig = z.infer<typeof neuralEnabledSchema>;

const nonNegative = z.number().min(0).optional();

/**
 * Overrides of the canary judge's thresholds (`JudgeConfig` of `#domain/judge/config`); a field
 * left out keeps the default the simulator tuned (docs/canary-judge.md). Every field is also
 * validated by `judgeConfig` at synth.
 */
const judgeOverridesSchema = z.strictObject({
  /** Family-wise significance of each test family, (0, 0.5]. */
  alpha: z.number().gt(0).max(0.5).optional(),
  latency: z
    .strictObject({ minMinutes: nonNegative, minRequestsPerMinute: nonNegative, relativeFloor: nonNegative })
    .optional(),
  errors: z.strictObject({ minRequests: nonNegative, absoluteFloor: nonNegative }).optional(),
  decisions: z
    .strictObject({
      minAnswers: nonNegative,
      minSegmentAnswers: nonNegative,
      minExpectedEvents: nonNegative,
      relativeTolerance: nonNegative,
      segmentRelativeTolerance: nonNegative,
    })
    .optional(),
  scores: z
    .strictObject({
      minAnswers: nonNegative,
      psiFail: nonNegative,
      cardPsiFail: nonNegative,
      shiftFloor: nonNegative,
    })
    .optional(),
  inputs: z.strictObject({ minAnswers: nonNegative, psiInvalid: nonNegative }).optional(),
});

/** The canary judge (issue 12): the slow tier of safe delivery. */
const judgeSchema = z.strictObject({
  /**
   * Deploy the judge: a function run every minute that compares the canary version with the
   * baseline while the alias is weighted, and a `JudgeVerdict` alarm in the deployment group
   * that rolls back a `fail`.
   */
  enabled: z.boolean(),
  /** The post-traffic hook fails the deployment unless the judge's final verdict is `pass`. */
  requirePass: z.boolean(),
  /** With `requirePass`: a final `inconclusive` fails the deployment (`fail`, closed) or passes it. */
  inconclusive: z.enum(['fail', 'pass']),
  /** Threshold overrides passed to `judgeConfig`. */
  config: judgeOverridesSchema,
});
/** Settings of the canary judge of a stage. */
export type JudgeStageConfig = z.infer<typeof judgeSchema>;

/**
 * The daily calibration and recall monitor (issue 12), deployed with the archive it reads:
 * answers of a matured window joined with the labels posted since (docs/monitoring.md).
 */
const calibrationSchema = z.strictObject({
  /** Chargebacks arrive weeks late: transactions younger than this many days are not judged. */
  maturityDays: z.number().int().min(0).max(365),
  /**
   * Whole UTC days of matured transactions each run judges. Every answer of the span is held in
   * memory (about 165 bytes each, docs/monitoring.md#sizing): size it with `memoryMb` and the traffic.
   */
  spanDays: positiveInt.max(90),
  /** Equal-mass bins of the ECE. */
  eceBins: z.number().int().min(2).max(100),
  /** A segment with fewer labelled answers publishes no figures (too noisy to read). */
  minAnswersPerSegment: positiveInt,
  /** The UTC hour of the daily run. */
  runAtHourUtc: z.number().int().min(0).max(23),
  /** Memory of the function, MB (more memory also buys CPU for gunzip and JSON parsing). */
  memoryMb: positiveInt.min(256).max(10_240),
  /** Ticket: the overall ECE (equal-mass) of a run above this. */
  eceThreshold: z.number().gt(0).lt(1),
  /** Ticket: live recall at the decline threshold more than this many points below the card's. */
  recallGapPoints: z.number().gt(0).max(100),
  /**
   * The stage's planned average traffic, requests/s: what `npm run bench:calibration` projects
   * a run's length at (answers and label lines to read against Lambda's 15 minutes). Not deployed.
   * @default - no projection for the stage
   */
  plannedAverageRps: z.number().positive().optional(),
});
/** Settings of the calibration monitor of a stage. */
export type CalibrationStageConfig = z.infer<typeof calibrationSchema>;

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
