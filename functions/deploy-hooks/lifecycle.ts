/**
 * What every CodeDeploy Lambda hook shares: run a check, then report its verdict with
 * `PutLifecycleEventHookExecutionStatus` exactly once. CodeDeploy waits for that call; a hook
 * that throws, crashes or times out without it leaves the deployment hanging until the
 * lifecycle event's one-hour timeout. So the check runs inside a guard that turns every
 * exception — and an approaching Lambda timeout — into `Failed`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type CodeDeployClient,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import type { Context } from 'aws-lambda';
import { HookStatusReportError, InvalidHookEventError } from '#domain/errors';

/** The event CodeDeploy sends to a lifecycle hook function. */
export interface LifecycleHookEvent {
  DeploymentId: string;
  LifecycleEventHookExecutionId: string;
}

export type HookStatus = 'Succeeded' | 'Failed';

/** A check's verdict: the status to report, why, and what to log with it. */
export interface HookOutcome {
  status: HookStatus;
  reason: string;
  details?: Record<string, unknown>;
}

export interface LifecycleDeps {
  codeDeploy: CodeDeployClient;
  logger: Logger;
  /**
   * How long before the Lambda timeout the check is abandoned and `Failed` reported, leaving
   * time for the CodeDeploy call itself.
   * @default 5000
   */
  safetyMarginMs?: number;
}

export function parseHookEvent(event: unknown): LifecycleHookEvent {
  const e = (event ?? {}) as Partial<Record<keyof LifecycleHookEvent, unknown>>;
  if (typeof e.DeploymentId !== 'string' || e.DeploymentId === '')
    throw new InvalidHookEventError('event has no DeploymentId: not a CodeDeploy lifecycle hook event');
  if (typeof e.LifecycleEventHookExecutionId !== 'string' || e.LifecycleEventHookExecutionId === '')
    throw new InvalidHookEventError('event has no LifecycleEventHookExecutionId');
  return { DeploymentId: e.DeploymentId, LifecycleEventHookExecutionId: e.LifecycleEventHookExecutionId };
}

/** Runs `check` with a deadline and maps anything it throws to a `Failed` outcome. */
async function guardedCheck(
  check: () => Promise<HookOutcome>,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  safetyMarginMs: number,
): Promise<HookOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const budgetMs = context?.getRemainingTimeInMillis
    ? context.getRemainingTimeInMillis() - safetyMarginMs
    : undefined;
  const deadline =
    budgetMs === undefined
      ? undefined
      : new Promise<HookOutcome>((resolve) => {
          timer = setTimeout(
            () =>
              resolve({
                status: 'Failed',
                reason: 'deadline',
                details: { detail: `check did not finish within ${Math.max(budgetMs, 0)} ms` },
              }),
            Math.max(budgetMs, 0),
          );
        });
  const run = (async () => {
    try {
      return await check();
    } catch (error) {
      const err = error as Error;
      return {
        status: 'Failed' as const,
        reason: 'error',
        // Not `message`: Powertools Logger reserves that key for the log line's own message.
        details: { error: err.name, errorMessage: err.message },
      };
    }
  })();
  try {
    return deadline ? await Promise.race([run, deadline]) : await run;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * Runs one lifecycle hook: validates the event, runs the check (exceptions and the Lambda
 * deadline become `Failed`), logs the outcome and reports it to CodeDeploy exactly once.
 *
 * @returns the reported outcome (CodeDeploy ignores the return value; logs and tests read it)
 * @throws InvalidHookEventError when the event cannot be reported on
 * @throws HookStatusReportError when CodeDeploy rejects the status call
 */
export async function runLifecycleHook(
  hook: string,
  deps: LifecycleDeps,
  rawEvent: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  check: (event: LifecycleHookEvent) => Promise<HookOutcome>,
): Promise<HookOutcome> {
  const { logger } = deps;
  const event = parseHookEvent(rawEvent);
  logger.appendKeys({ hook, deploymentId: event.DeploymentId });
  try {
    const outcome = await guardedCheck(() => check(event), context, deps.safetyMarginMs ?? 5000);
    const log = outcome.status === 'Succeeded' ? logger.info.bind(logger) : logger.error.bind(logger);
    log(`${hook} ${outcome.status.toLowerCase()}`, {
      status: outcome.status,
      reason: outcome.reason,
      ...withoutReservedKeys(outcome.details),
    });
    try {
      await deps.codeDeploy.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: event.DeploymentId,
          lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
          status: outcome.status,
        }),
      );
    } catch (error) {
      throw new HookStatusReportError(`could not report ${outcome.status} to CodeDeploy`, { cause: error });
    }
    return outcome;
  } finally {
    logger.removeKeys(['hook', 'deploymentId']);
  }
}

/**
 * Keys Powertools Logger fills itself (`ReservedKeys` of @aws-lambda-powertools/logger): an
 * extra key with one of these names is dropped from the line with only a warning, so a detail
 * named `message` would lose a failure's explanation.
 */
const RESERVED_LOG_KEYS: ReadonlySet<string> = new Set([
  'level',
  'message',
  'sampling_rate',
  'service',
  'timestamp',
]);

/** `details` with Powertools' reserved keys renamed to `detail_<key>`, so none is dropped. */
export function withoutReservedKeys(details: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(details).map(([key, value]) => [
      RESERVED_LOG_KEYS.has(key) ? `detail_${key}` : key,
      value,
    ]),
  );
}
