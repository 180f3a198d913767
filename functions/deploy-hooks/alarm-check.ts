/**
 * Post-traffic hook: after CodeDeploy has shifted all traffic, the deployment succeeds only if
 * none of the watched alarms (guardrails, the canary verdict) goes into ALARM during a bake at
 * 100 %, and the new version has served enough traffic to prove anything. CodeDeploy polls the
 * deployment group's alarms during the shift as well; the bake covers the minutes after the
 * last shift, which the guardrails need to see (two one-minute datapoints plus metric delay).
 * The evidence is counted after the bake, so the canary phase's last minutes are published.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { canaryInvocations } from './canary-evidence';
import type { PostTrafficConfig } from './config';
import { type FinalVerdictReading, finalJudgeVerdict } from './judge-verdict';
import { type HookOutcome, runLifecycleHook } from './lifecycle';
import { type PruneResult, pruneVersions } from './version-pruning';

export interface PostTrafficDeps {
  cloudWatch: CloudWatchClient;
  codeDeploy: CodeDeployClient;
  logger: Logger;
  /** The settings, or a loader called inside the check (a configuration error reports `Failed`). */
  config: PostTrafficConfig | (() => PostTrafficConfig);
  /** See {@link LifecycleDeps.safetyMarginMs}. */
  safetyMarginMs?: number;
  /**
   * Deletes old versions after a passing deployment.
   * @default - no pruning
   */
  lambda?: LambdaClient;
  /** Clock. @default () => new Date() */
  now?: () => Date;
  /** Waits between polls. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** DescribeAlarms accepts at most 100 names per call. */
const NAMES_PER_CALL = 100;

/** Current state of every named alarm, metric and composite alike. */
export async function describeAlarmStates(
  cloudWatch: CloudWatchClient,
  names: readonly string[],
): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
    let nextToken: string | undefined;
    do {
      const page = await cloudWatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: names.slice(i, i + NAMES_PER_CALL),
          // Without AlarmTypes, DescribeAlarms returns metric alarms only, and a composite
          // alarm (such as a canary verdict) would look missing.
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          NextToken: nextToken,
        }),
      );
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName) states.set(alarm.AlarmName, alarm.StateValue ?? 'UNKNOWN');
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return states;
}

/**
 * Builds the post-traffic hook handler. After the shift to 100 %, it bakes: it polls the named
 * alarms every `pollMs` for `bakeMs` and fails as soon as one is in ALARM or does not exist (a
 * typo in a name must not turn the check into a silent pass); INSUFFICIENT_DATA is fine. Then it
 * requires evidence — at least `minInvocations` of the new version through the alias during the
 * canary phase (before this hook started), or during the whole deployment for `evidenceWindow`
 * `deployment` — and fails closed without it when `onLowTraffic` is `fail`. Where the stage
 * requires it (`config.judge`), the canary judge's final verdict must be `pass` (`inconclusive`
 * per the stage's policy; no verdict at all fails). A passing deployment then prunes old versions
 * (best effort; it never fails the deployment).
 */
export function createPostTrafficHook(deps: PostTrafficDeps) {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return async function postTrafficHook(event: unknown, context?: Context): Promise<HookOutcome> {
    return runLifecycleHook('post-traffic', deps, event, context, async () => {
      const config = typeof deps.config === 'function' ? deps.config() : deps.config;
      const started = now().getTime();
      let polls = 0;
      for (;;) {
        const states = await describeAlarmStates(deps.cloudWatch, config.alarmNames);
        polls += 1;
        const inAlarm = config.alarmNames.filter((name) => states.get(name) === 'ALARM');
        const missing = config.alarmNames.filter((name) => !states.has(name));
        const bakedMs = now().getTime() - started;
        const details = { alarms: Object.fromEntries(states), inAlarm, missing, polls, bakedMs };
        if (inAlarm.length > 0) return { status: 'Failed', reason: 'alarm_in_alarm_state', details };
        if (missing.length > 0) return { status: 'Failed', reason: 'alarm_not_found', details };
        const left = config.bakeMs - bakedMs;
        if (left <= 0) break;
        await sleep(Math.min(config.pollMs, left));
      }
      const bake = { polls, bakedMs: now().getTime() - started };
      if (!config.target) return { status: 'Succeeded', reason: 'no_alarm', details: bake };

      const until = config.evidenceWindow === 'canary' ? new Date(started) : now();
      const invocations = await canaryInvocations(deps.cloudWatch, config.target, until);
      const evidence = {
        invocations,
        minInvocations: config.minInvocations,
        version: config.target.version,
        window: config.evidenceWindow,
      };
      const enough = invocations >= config.minInvocations;
      if (!enough && config.onLowTraffic === 'fail')
        return { status: 'Failed', reason: 'insufficient_canary_traffic', details: { ...bake, evidence } };

      let judge: (FinalVerdictReading & { inconclusivePolicy: 'fail' | 'pass' }) | undefined;
      if (config.judge) {
        const reading = await finalJudgeVerdict(
          deps.cloudWatch,
          { stage: config.judge.stage, canaryVersion: config.target.version },
          now(),
        );
        judge = { ...reading, inconclusivePolicy: config.judge.inconclusive };
        const accepted =
          reading.verdict === 'pass' ||
          (reading.verdict === 'inconclusive' && config.judge.inconclusive === 'pass');
        // `missing`: the judge never published for this version (not deployed, failing,
        // throttled throughout): a required check that did not run fails closed.
        if (!accepted)
          return {
            status: 'Failed',
            reason: `judge_${reading.verdict}`,
            details: { ...bake, evidence, judge },
          };
      }

      let pruning: PruneResult | { error: string; detail: string } | undefined;
      if (deps.lambda) {
        try {
          pruning = await pruneVersions(deps.lambda, {
            functionName: config.target.functionName,
            keep: config.retainedVersions,
            maxDeletions: config.maxDeletions,
            alsoKeep: config.target.version,
          });
        } catch (error) {
          pruning = { error: (error as Error).name, detail: (error as Error).message };
        }
      }
      return {
        status: 'Succeeded',
        reason: enough ? 'no_alarm' : 'no_alarm_low_traffic',
        details: { ...bake, evidence, judge, pruning },
      };
    });
  };
}
