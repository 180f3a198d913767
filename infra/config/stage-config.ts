/**
 * The typed settings of one deployment stage. `infra/bin/app.ts` builds a {@link StageConfig}
 * with {@link loadStageConfig} and passes it down as props; stacks and constructs never read
 * the environment or CDK context themselves.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';

/** Lambda architecture names as the stage config spells them (CDK: `Architecture.ARM_64` / `X86_64`). */
export type LambdaArchitecture = 'arm64' | 'x86_64';

/** Alarm severities; each maps to one SNS topic. */
export type Severity = 'page' | 'ticket';

/** How an alarm evaluates its metric. Severity defaults cascade into each alarm unless it overrides them. */
export interface AlarmEvaluation {
  /** Metric period in minutes (1, 5, 15 or 60). */
  periodMinutes: 1 | 5 | 15 | 60;
  /** Number of most recent periods the alarm looks at. */
  evaluationPeriods: number;
  /** How many of those periods must breach. */
  datapointsToAlarm: number;
}

/** One alarm's threshold, with optional overrides of its severity's evaluation defaults. */
export type AlarmThreshold = { threshold: number } & Partial<AlarmEvaluation>;

/** Alarms that page the on-call engineer: user impact, and the canary guardrails. */
export interface PageAlarms {
  /** Evaluation defaults for every page alarm. */
  defaults: AlarmEvaluation;
  /** API Gateway p99 latency of the stage above this many milliseconds (usually the SLA). */
  apiLatencyP99Ms: AlarmThreshold;
  /** API Gateway 5xx responses above this percentage of requests. */
  api5xxRatePercent: AlarmThreshold;
  /** Score function (alias `live`, all versions) invocation errors above this percentage. */
  scoreErrorRatePercent: AlarmThreshold;
  /** Canary guardrail: Lambda errors (crashes, timeouts) of the new version, count per period. */
  canaryErrors: AlarmThreshold;
  /** Canary guardrail: p99 duration of the new version above this many milliseconds. */
  canaryLatencyP99Ms: AlarmThreshold;
  /** Canary guardrail: the new version's own 5xx answers (EMF `Errors`) above this percentage. */
  canaryAppErrorRatePercent: AlarmThreshold;
}

/** Alarms that open a ticket: no immediate user impact, but something to fix this week. */
export interface TicketAlarms {
  /** Evaluation defaults for every ticket alarm. */
  defaults: AlarmEvaluation;
  /** Feature-store hit rate (card found) below this percentage. */
  featureHitRateMinPercent: AlarmThreshold;
  /** p90 age of the card features served, above this many seconds. */
  featureAgeP90Seconds: AlarmThreshold;
  /** Share of degraded answers above this percentage. */
  degradedRatePercent: AlarmThreshold;
  /** Messages in the events DLQ above this count. */
  dlqMessages: AlarmThreshold;
  /** Age of the oldest message in the events queue above this many seconds. */
  queueAgeSeconds: AlarmThreshold;
  /** Feature-updater records reported as failed, count per period. */
  updaterFailures: AlarmThreshold;
  /** Provisioned-concurrency utilization of alias `live` (maximum) above this percentage. */
  pcUtilizationPercent: AlarmThreshold;
  /** Invocations that spilled over provisioned concurrency (cold starts), count per period. */
  pcSpillovers: AlarmThreshold;
  /** DynamoDB throttled requests on the feature or idempotency table, count per period. */
  tableThrottles: AlarmThreshold;
}

/** A scheduled change of the provisioned-concurrency bounds before a known peak (or after it). */
export interface ScheduledCapacity {
  /** Construct id and human name, e.g. `weekday-peak`. Letters, digits and dashes. */
  name: string;
  /** Application Auto Scaling schedule: `cron(m h dom mon dow y)`, `rate(...)` or `at(...)`. */
  schedule: string;
  /** IANA time zone the schedule is written in. @default 'UTC' */
  timeZone?: string;
  /** Provisioned-concurrency floor from this time on. */
  minCapacity: number;
  /** Provisioned-concurrency ceiling from this time on. */
  maxCapacity: number;
}

/** Provisioned concurrency of the score alias, owned by Application Auto Scaling. */
export interface CapacityConfig {
  /** Floor of provisioned concurrency outside scheduled peaks. */
  minProvisioned: number;
  /** Ceiling of provisioned concurrency. */
  maxProvisioned: number;
  /** Target-tracking utilization, 0.1–0.9 (0.6 keeps 40 % headroom for bursts). */
  utilizationTarget: number;
  /** Scheduled bounds for known peaks, in order of the day. */
  scheduled: ScheduledCapacity[];
}

/** How CodeDeploy shifts alias `live` to a new version. */
export type DeploymentStrategy =
  | { type: 'allAtOnce' }
  | {
      type: 'canary' | 'linear';
      /** Canary: share of traffic in the first step. Linear: share added at each step. */
      percentage: number;
      /** Minutes between steps. */
      intervalMinutes: number;
    };

/** Who gets an SNS topic's notifications. */
export interface Subscribers {
  /** E-mail addresses (each must confirm the subscription). */
  emails: string[];
  /** HTTPS endpoints (paging tools, chat webhooks). */
  httpsEndpoints: string[];
}

export interface StageConfig {
  /** Stage name: lower-case letters and digits; prefixes stack, alarm and dashboard names. */
  stage: string;
  /** Where the stage deploys. Resolved by {@link loadStageConfig}; never looked up. */
  env: { account: string; region: string };
  /** Lambda architecture of the functions. arm64 needs an onnxruntime build verified on Graviton. */
  architecture: LambdaArchitecture;
  /** The model served: `models/<name>/<version>/`. */
  model: { name: string; version: string };
  /** Score function sizing and behaviour. */
  scoreFunction: {
    /** Memory in MB (also buys CPU: 1769 MB = one vCPU). */
    memoryMb: number;
    /** Timeout in seconds; keep it well above the p99 and below API Gateway's 29 s. */
    timeoutSeconds: number;
    /** Budget of the feature read (BatchGetItem) before scoring with defaults, ms. */
    featureTimeoutMs: number;
    /** Card features older than this are treated as stale, seconds. */
    featureMaxAgeSeconds: number;
    /** How long a transactionId's answer is replayed to retries, seconds. */
    idempotencyTtlSeconds: number;
  };
  capacity: CapacityConfig;
  /** Service levels the alarms and the pre-traffic check derive from. */
  sla: { p99Ms: number };
  /** Alarm thresholds keyed by severity. */
  alarms: { page: PageAlarms; ticket: TicketAlarms };
  /** Safe delivery of new score-function versions. */
  deployment: {
    strategy: DeploymentStrategy;
    /** Pre-traffic hook: slowest acceptable replay batch against the new version, ms. */
    preTrafficMaxLatencyMs: number;
  };
  api: {
    /** `iam`: SigV4-signed calls (default). `apiKey`: API key + usage plan. */
    auth: 'iam' | 'apiKey';
    /** Stage-wide throttling: steady requests per second and burst. */
    throttling: { rateLimit: number; burstLimit: number };
    /** Attach a WAF web ACL (AWS managed rule groups) to the stage. */
    waf: boolean;
  };
  /** Events path: `POST /v1/events` → SQS → feature updater. */
  events: {
    /** Feature-updater timeout, seconds (the queue's visibility timeout is 6× this). */
    updaterTimeoutSeconds: number;
    /** Longest wait to fill a batch of 10 records, seconds. */
    maxBatchingWindowSeconds: number;
    /** TTL of feature items written by the updater, seconds. */
    featureTtlSeconds: number;
  };
  /** Days to keep function, access and WAF logs. */
  logRetentionDays: number;
  /** Subscriptions of the two alarm topics. */
  notifications: Record<Severity, Subscribers>;
}

/** Stage config as written in `infra/config/stages.ts`: account and region may come from the environment. */
export type StageConfigInput = Omit<StageConfig, 'env'> & {
  /** Pin the stage to an account/region (recommended for prod). Unset parts come from the environment. */
  env?: { account?: string; region?: string };
};

/** The stage config is invalid; the message lists every problem with its path. */
export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
}

const positiveInt = z.number().int().positive();
/** Retention values CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS: readonly number[] = Object.values(RetentionDays).filter(
  (v): v is number => typeof v === 'number',
);
const evaluation = z.strictObject({
  periodMinutes: z.union([z.literal(1), z.literal(5), z.literal(15), z.literal(60)]),
  evaluationPeriods: positiveInt.max(1440),
  datapointsToAlarm: positiveInt,
});
const threshold = z.strictObject({
  threshold: z.number().nonnegative(),
  periodMinutes: evaluation.shape.periodMinutes.optional(),
  evaluationPeriods: evaluation.shape.evaluationPeriods.optional(),
  datapointsToAlarm: evaluation.shape.datapointsToAlarm.optional(),
});
const percent = threshold.extend({ threshold: z.number().min(0).max(100) });
const subscribers = z.strictObject({
  emails: z.array(z.email()),
  httpsEndpoints: z.array(z.url({ protocol: /^https$/ })),
});
const scheduleExpression = z
  .string()
  .regex(
    /^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\))$/,
    'cron(m h dom mon dow y), rate(n unit) or at(yyyy-mm-ddThh:mm:ss)',
  );

const stageConfigSchema = z
  .strictObject({
    stage: z.string().regex(/^[a-z][a-z0-9]{1,11}$/, 'lower-case letters and digits, 2–12 characters'),
    env: z.strictObject({
      account: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id'),
      region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as eu-west-1'),
    }),
    architecture: z.enum(['arm64', 'x86_64']),
    model: z.strictObject({
      name: z.string().regex(/^[a-z0-9-]+$/),
      version: z.string().regex(/^[0-9A-Za-z.+-]+$/),
    }),
    scoreFunction: z.strictObject({
      memoryMb: positiveInt.min(128).max(10_240),
      timeoutSeconds: positiveInt.max(29),
      featureTimeoutMs: positiveInt.max(10_000),
      featureMaxAgeSeconds: positiveInt,
      idempotencyTtlSeconds: positiveInt.min(60),
    }),
    capacity: z.strictObject({
      minProvisioned: positiveInt,
      maxProvisioned: positiveInt,
      utilizationTarget: z.number().min(0.1).max(0.9),
      scheduled: z.array(
        z.strictObject({
          name: z.string().regex(/^[a-z0-9-]+$/),
          schedule: scheduleExpression,
          timeZone: z.string().min(1).optional(),
          minCapacity: positiveInt,
          maxCapacity: positiveInt,
        }),
      ),
    }),
    sla: z.strictObject({ p99Ms: positiveInt }),
    alarms: z.strictObject({
      page: z.strictObject({
        defaults: evaluation,
        apiLatencyP99Ms: threshold,
        api5xxRatePercent: percent,
        scoreErrorRatePercent: percent,
        canaryErrors: threshold,
        canaryLatencyP99Ms: threshold,
        canaryAppErrorRatePercent: percent,
      }),
      ticket: z.strictObject({
        defaults: evaluation,
        featureHitRateMinPercent: percent,
        featureAgeP90Seconds: threshold,
        degradedRatePercent: percent,
        dlqMessages: threshold,
        queueAgeSeconds: threshold,
        updaterFailures: threshold,
        pcUtilizationPercent: percent,
        pcSpillovers: threshold,
        tableThrottles: threshold,
      }),
    }),
    deployment: z.strictObject({
      strategy: z.discriminatedUnion('type', [
        z.strictObject({ type: z.literal('allAtOnce') }),
        z.strictObject({
          type: z.enum(['canary', 'linear']),
          percentage: positiveInt.max(99),
          intervalMinutes: positiveInt.max(2880),
        }),
      ]),
      preTrafficMaxLatencyMs: positiveInt,
    }),
    api: z.strictObject({
      auth: z.enum(['iam', 'apiKey']),
      throttling: z.strictObject({ rateLimit: positiveInt, burstLimit: positiveInt.max(5000) }),
      waf: z.boolean(),
    }),
    events: z.strictObject({
      updaterTimeoutSeconds: positiveInt.max(900),
      maxBatchingWindowSeconds: z.number().int().min(0).max(300),
      featureTtlSeconds: positiveInt.min(3600),
    }),
    logRetentionDays: positiveInt.refine((d) => LOG_RETENTION_DAYS.includes(d), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
    notifications: z.strictObject({ page: subscribers, ticket: subscribers }),
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
    if (c.scoreFunction.featureTimeoutMs >= c.scoreFunction.timeoutSeconds * 1000)
      issue(['scoreFunction', 'featureTimeoutMs'], 'must be below the function timeout');
    if (c.api.throttling.burstLimit < c.api.throttling.rateLimit / 10)
      issue(['api', 'throttling', 'burstLimit'], 'a burst below a tenth of the rate rejects ordinary jitter');
  });

// Compile-time proof that the schema and the documented interface describe the same shape.
type SchemaOutput = z.infer<typeof stageConfigSchema>;
const _schemaMatchesInterface: (c: SchemaOutput) => StageConfig = (c) => c;
const _interfaceMatchesSchema: (c: StageConfig) => SchemaOutput = (c) => c;
void _schemaMatchesInterface;
void _interfaceMatchesSchema;

/**
 * Account used when neither the stage config nor the environment names one, so that
 * `cdk synth` works offline and without credentials. A deploy with it fails fast (the CLI
 * refuses credentials of another account), which is the safe outcome.
 */
export const OFFLINE_ACCOUNT = '000000000000';
/** Region used when neither the stage config nor the environment names one. */
export const DEFAULT_REGION = 'eu-west-1';

/** The environment variables {@link loadStageConfig} reads (the CLI sets the CDK_DEFAULT_* ones). */
export interface StageEnv {
  CDK_DEFAULT_ACCOUNT?: string;
  CDK_DEFAULT_REGION?: string;
}

/**
 * Validates one stage's settings and resolves its account and region:
 * stage pin → `CDK_DEFAULT_ACCOUNT`/`CDK_DEFAULT_REGION` → offline defaults. No lookups.
 *
 * @throws StageConfigError listing every invalid field
 */
export function resolveStageConfig(input: StageConfigInput, env: StageEnv = {}): Readonly<StageConfig> {
  const candidate = {
    ...input,
    env: {
      account: input.env?.account ?? nonEmpty(env.CDK_DEFAULT_ACCOUNT) ?? OFFLINE_ACCOUNT,
      region: input.env?.region ?? nonEmpty(env.CDK_DEFAULT_REGION) ?? DEFAULT_REGION,
    },
  };
  const parsed = stageConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new StageConfigError(`invalid config for stage "${input.stage}":\n${problems.join('\n')}`, {
      cause: parsed.error,
    });
  }
  return deepFreeze(parsed.data);
}

/**
 * The validated config of `stage` from a map of stage inputs.
 *
 * @throws StageConfigError for an unknown stage or an invalid config
 */
export function loadStageConfig(
  stages: Readonly<Record<string, StageConfigInput>>,
  stage: string | undefined,
  env: StageEnv = {},
): Readonly<StageConfig> {
  const known = Object.keys(stages);
  if (!stage) throw new StageConfigError(`no stage given: pass -c stage=<${known.join('|')}>`);
  const input = stages[stage];
  if (!input) throw new StageConfigError(`unknown stage "${stage}": expected one of ${known.join(', ')}`);
  if (input.stage !== stage)
    throw new StageConfigError(`stage map key "${stage}" holds the config of stage "${input.stage}"`);
  return resolveStageConfig(input, env);
}

/** Threshold and evaluation of one alarm, its severity's defaults filled in. */
export function alarmSettings(
  severity: { defaults: AlarmEvaluation },
  alarm: AlarmThreshold,
): AlarmEvaluation & { threshold: number } {
  return {
    threshold: alarm.threshold,
    periodMinutes: alarm.periodMinutes ?? severity.defaults.periodMinutes,
    evaluationPeriods: alarm.evaluationPeriods ?? severity.defaults.evaluationPeriods,
    datapointsToAlarm: alarm.datapointsToAlarm ?? severity.defaults.datapointsToAlarm,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
