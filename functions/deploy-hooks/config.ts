/**
 * Settings of the CodeDeploy hooks. The hooks load them inside the check (not at import), so
 * a misconfigured hook reports `Failed` to CodeDeploy instead of crashing at init and
 * leaving the deployment to wait for the lifecycle event's one-hour timeout.
 */
import { join } from 'node:path';
import { ConfigError } from '#domain/errors';
import { type Env, readNumber, readOptionalString, readString } from '#shared/config';

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

/** The version being deployed, as the post-traffic hook needs it (evidence and pruning). */
export interface DeployedVersion {
  /** Function name (unqualified). */
  functionName: string;
  /** The published version number CodeDeploy shifted to. */
  version: string;
  /** The alias CodeDeploy shifts (`live`): AWS/Lambda publishes `Resource=<fn>:<alias>`. */
  aliasName: string;
}

export interface PostTrafficConfig {
  /** Alarms that must not be in ALARM after traffic has shifted. */
  alarmNames: string[];
  /** How long to keep polling the alarms at 100 % before deciding, ms. 0: look once. */
  bakeMs: number;
  /** Time between two alarm polls during the bake, ms. */
  pollMs: number;
  /**
   * The version being deployed. Unset: no evidence check and no pruning (the stack always
   * sets it; tests may not).
   */
  target?: DeployedVersion;
  /** Invocations of the new version through the alias the deployment must have seen. */
  minInvocations: number;
  /**
   * Which invocations count: `canary` — only those before the post-traffic hook started (the
   * traffic-shifting phase); `deployment` — the bake at 100 % too (all-at-once deployments).
   */
  evidenceWindow: 'canary' | 'deployment';
  /** Too few invocations: `fail` the deployment (fail closed) or `pass` with a warning. */
  onLowTraffic: 'fail' | 'pass';
  /** Published versions kept (newest first); older ones no alias points to are deleted. */
  retainedVersions: number;
  /** Most versions deleted by one run: bounds the hook's work after a long gap. */
  maxDeletions: number;
  /**
   * The canary judge's final verdict must be `pass` (stage `judge.requirePass`); `inconclusive`
   * fails closed unless `inconclusive` is `pass`. Unset: the verdict is not required.
   */
  judge?: JudgeRequirement;
}

/** What the post-traffic hook requires of the canary judge. */
export interface JudgeRequirement {
  /** The `stage` dimension of the judge's metrics. */
  stage: string;
  /** An `inconclusive` final verdict: `fail` the deployment (fail closed) or let it `pass`. */
  inconclusive: 'fail' | 'pass';
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

/**
 * The post-traffic settings. The bake must end well inside the hook's own Lambda timeout
 * (15 minutes at most), which the CDK construct sizes from `BAKE_SECONDS`.
 */
export function loadPostTrafficConfig(env: Env = process.env): Readonly<PostTrafficConfig> {
  const alarmNames = readString(env, 'ALARM_NAMES', '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  // A post-traffic hook with nothing to check would report a green check that means nothing.
  if (alarmNames.length === 0) throw new ConfigError('ALARM_NAMES must list at least one alarm name');
  const onLowTraffic = readString(env, 'ON_LOW_TRAFFIC', 'fail');
  if (onLowTraffic !== 'fail' && onLowTraffic !== 'pass')
    throw new ConfigError(`ON_LOW_TRAFFIC must be "fail" or "pass", got "${onLowTraffic}"`);
  const evidenceWindow = readString(env, 'EVIDENCE_WINDOW', 'canary');
  if (evidenceWindow !== 'canary' && evidenceWindow !== 'deployment')
    throw new ConfigError(`EVIDENCE_WINDOW must be "canary" or "deployment", got "${evidenceWindow}"`);
  const targetArn = readOptionalString(env, 'TARGET_FUNCTION_ARN');
  const requirePass = readString(env, 'JUDGE_REQUIRE_PASS', 'false');
  if (requirePass !== 'true' && requirePass !== 'false')
    throw new ConfigError(`JUDGE_REQUIRE_PASS must be "true" or "false", got "${requirePass}"`);
  const inconclusive = readString(env, 'JUDGE_INCONCLUSIVE', 'fail');
  if (inconclusive !== 'fail' && inconclusive !== 'pass')
    throw new ConfigError(`JUDGE_INCONCLUSIVE must be "fail" or "pass", got "${inconclusive}"`);
  // The verdict is published per canary version: without the version there is nothing to read.
  if (requirePass === 'true' && !targetArn)
    throw new ConfigError('JUDGE_REQUIRE_PASS needs TARGET_FUNCTION_ARN (the verdict is per version)');
  const judge: JudgeRequirement | undefined =
    requirePass === 'true' ? { stage: readString(env, 'STAGE'), inconclusive } : undefined;
  return Object.freeze({
    alarmNames: [...new Set(alarmNames)],
    bakeMs: readNumber(env, 'BAKE_SECONDS', 0, { min: 0, max: 13 * 60 }) * 1000,
    pollMs: readNumber(env, 'POLL_SECONDS', 30, { min: 1, max: 300 }) * 1000,
    target: targetArn ? deployedVersion(targetArn, readString(env, 'ALIAS_NAME', 'live')) : undefined,
    minInvocations: Math.floor(readNumber(env, 'MIN_CANARY_INVOCATIONS', 1, { min: 0 })),
    evidenceWindow,
    onLowTraffic,
    retainedVersions: Math.floor(readNumber(env, 'RETAINED_VERSIONS', 5, { min: 2, max: 50 })),
    maxDeletions: Math.floor(readNumber(env, 'MAX_VERSION_DELETIONS', 20, { min: 0, max: 100 })),
    judge,
  });
}

function deployedVersion(arn: string, aliasName: string): DeployedVersion {
  if (!VERSION_ARN.test(arn)) {
    throw new ConfigError(
      `TARGET_FUNCTION_ARN must be a version-qualified Lambda ARN (…:function:<name>:<number>), got "${arn}"`,
    );
  }
  const [, , , , , , functionName, version] = arn.split(':') as string[];
  return { functionName: functionName as string, version: version as string, aliasName };
}
