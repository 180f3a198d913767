import { ConfigError } from '#domain/errors';
import { type JudgeConfig, type JudgeConfigOverrides, judgeConfig } from '#domain/judge/config';
import { type Env, readNumber, readOptionalString, readString } from '#shared/config';

/** Settings of the canary judge, read once at init. */
export interface CanaryJudgeConfig {
  stage: string;
  region: string;
  /** The score function whose alias routing is judged. */
  scoreFunctionName: string;
  /** The alias CodeDeploy shifts (`live`). */
  scoreAliasName: string;
  /** The model card bundled with the judge (the model the stack deploys: the canary's). */
  modelCardPath: string;
  /**
   * Whole minutes left out at the end of the window: CloudWatch needs about a minute to make
   * an EMF minute readable, and a half-aggregated minute would read as a quiet one.
   */
  lagMinutes: number;
  /** The judge's thresholds: defaults with the stage's `judge.config` overrides (`JUDGE_CONFIG`, JSON). */
  judge: JudgeConfig;
}

export function loadCanaryJudgeConfig(env: Env = process.env): Readonly<CanaryJudgeConfig> {
  return Object.freeze({
    stage: readString(env, 'STAGE', 'local'),
    region: readString(env, 'AWS_REGION', 'us-east-1'),
    scoreFunctionName: readString(env, 'SCORE_FUNCTION_NAME'),
    scoreAliasName: readString(env, 'SCORE_ALIAS_NAME', 'live'),
    modelCardPath: readString(env, 'MODEL_CARD_PATH', 'model/model.json'),
    lagMinutes: readNumber(env, 'JUDGE_LAG_MINUTES', 1, { min: 0, max: 10 }),
    judge: judgeOverrides(readOptionalString(env, 'JUDGE_CONFIG')),
  });
}

/** `JUDGE_CONFIG` (JSON of {@link JudgeConfigOverrides}) merged over the defaults and validated. */
function judgeOverrides(raw: string | undefined): JudgeConfig {
  if (raw === undefined) return judgeConfig();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('environment variable JUDGE_CONFIG must be JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError('environment variable JUDGE_CONFIG must be a JSON object');
  try {
    return judgeConfig(parsed as JudgeConfigOverrides);
  } catch (error) {
    throw new ConfigError(`JUDGE_CONFIG: ${(error as Error).message}`, { cause: error });
  }
}
