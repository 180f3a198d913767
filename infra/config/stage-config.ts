/**
 * Loading a stage's settings. `infra/bin/app.ts` builds a {@link StageConfig} with
 * {@link loadStageConfig} and passes it down as props; stacks and constructs never read the
 * environment or CDK context themselves. The schema and the types derived from it live in
 * `stage-schema.ts` and the schemas it is built from (`alarm-`, `capacity-`, `neural-` and
 * `monitor-schema.ts`); they are re-exported here.
 */
import { type StageConfig, stageConfigSchema } from './stage-schema';

export {
  type AlarmEvaluation,
  type AlarmSettings,
  type AlarmThreshold,
  alarmSettings,
  type PageAlarms,
  type Severity,
  type TicketAlarms,
} from './alarm-schema';
export type { CapacityConfig, ScheduledCapacity } from './capacity-schema';
export type { CalibrationStageConfig, JudgeStageConfig } from './monitor-schema';
export type { EcrImage, NeuralConfig } from './neural-schema';
export {
  type DeploymentConfig,
  type DeploymentStrategy,
  type LambdaArchitecture,
  LOG_RETENTION_DAYS,
  MAX_BAKE_MINUTES,
  type StageConfig,
  type Subscribers,
  type Throttle,
} from './stage-schema';

/** Stage config as written in `infra/config/stages.ts`: account and region may come from the environment. */
export type StageConfigInput = Omit<StageConfig, 'env'> & {
  /** Pin the stage to an account/region (recommended for prod). Unset parts come from the environment. */
  env?: { account?: string; region?: string };
};

/** The stage config is invalid; the message lists every problem with its path. */
export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
}

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
  /** Account of the CLI's credentials. @default - none: the stage pin or the offline account */
  readonly CDK_DEFAULT_ACCOUNT?: string;
  /** Region of the CLI's profile. @default - none: the stage pin or `DEFAULT_REGION` */
  readonly CDK_DEFAULT_REGION?: string;
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
