/**
 * Settings of the CodeDeploy hooks. The hooks load them inside the check (not at import), so
 * a misconfigured hook reports `Failed` to CodeDeploy instead of crashing at init and
 * leaving the deployment to wait for the lifecycle event's one-hour timeout.
 */
import { join } from 'node:path';
import { ConfigError } from '#domain/errors';
import { type Env, readNumber, readString } from '#shared/config';

export interface PreTrafficConfig {
  /** Qualified ARN of the version being deployed (`…:function:<name>:<version>`). */
  targetFunctionArn: string;
  /** The model's replay set (`replay.jsonl`), bundled with the hook. */
  replayPath: string;
  /** Largest accepted |score − expected score|. */
  tolerance: number;
  /** Largest accepted `durationMs` the function reports for one replay batch. */
  maxLatencyMs: number;
  /** Cases per replay invocation (the score function accepts up to 512). */
  batchSize: number;
}

export interface PostTrafficConfig {
  /** Alarms that must not be in ALARM after traffic has shifted. */
  alarmNames: string[];
}

/**
 * A numeric qualifier is required: an alias (`live`) or `$LATEST` would replay against code
 * other than the version CodeDeploy is about to shift traffic to, and pass for the wrong reason.
 */
const VERSION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+:\d+$/;

export function loadPreTrafficConfig(env: Env = process.env): Readonly<PreTrafficConfig> {
  const targetFunctionArn = readString(env, 'TARGET_FUNCTION_ARN');
  if (!VERSION_ARN.test(targetFunctionArn)) {
    throw new ConfigError(
      `TARGET_FUNCTION_ARN must be a version-qualified Lambda ARN (…:function:<name>:<number>), got "${targetFunctionArn}"`,
    );
  }
  return Object.freeze({
    targetFunctionArn,
    replayPath: readString(env, 'REPLAY_PATH', join(env.LAMBDA_TASK_ROOT ?? process.cwd(), 'replay.jsonl')),
    tolerance: readNumber(env, 'REPLAY_TOLERANCE', 1e-5, { min: 0 }),
    maxLatencyMs: readNumber(env, 'MAX_LATENCY_MS', 250, { min: 1 }),
    batchSize: Math.floor(readNumber(env, 'REPLAY_BATCH', 64, { min: 1, max: 512 })),
  });
}

export function loadPostTrafficConfig(env: Env = process.env): Readonly<PostTrafficConfig> {
  const alarmNames = readString(env, 'ALARM_NAMES', '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  // A post-traffic hook with nothing to check would report a green check that means nothing.
  if (alarmNames.length === 0) throw new ConfigError('ALARM_NAMES must list at least one alarm name');
  return Object.freeze({ alarmNames: [...new Set(alarmNames)] });
}
