/**
 * Post-traffic hook: after CodeDeploy has shifted all traffic, the deployment succeeds only
 * if none of the watched alarms (guardrails, the canary verdict) is in ALARM. CodeDeploy
 * polls the deployment group's alarms during the shift as well; this hook is the explicit
 * last look, and it also covers alarms that are not attached to the deployment group.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { Context } from 'aws-lambda';
import type { PostTrafficConfig } from './config';
import { type HookOutcome, runLifecycleHook } from './lifecycle';

export interface PostTrafficDeps {
  cloudWatch: CloudWatchClient;
  codeDeploy: CodeDeployClient;
  logger: Logger;
  /** The settings, or a loader called inside the check (a configuration error reports `Failed`). */
  config: PostTrafficConfig | (() => PostTrafficConfig);
  /** See {@link LifecycleDeps.safetyMarginMs}. */
  safetyMarginMs?: number;
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
 * Builds the post-traffic hook handler. `Failed` when any named alarm is in ALARM or does not
 * exist (a typo in a name must not turn the check into a silent pass); INSUFFICIENT_DATA is
 * fine, since a quiet stage may not have produced data points yet.
 */
export function createPostTrafficHook(deps: PostTrafficDeps) {
  return async function postTrafficHook(event: unknown, context?: Context): Promise<HookOutcome> {
    return runLifecycleHook('post-traffic', deps, event, context, async () => {
      const config = typeof deps.config === 'function' ? deps.config() : deps.config;
      const states = await describeAlarmStates(deps.cloudWatch, config.alarmNames);
      const inAlarm = config.alarmNames.filter((name) => states.get(name) === 'ALARM');
      const missing = config.alarmNames.filter((name) => !states.has(name));
      const details = { alarms: Object.fromEntries(states), inAlarm, missing };
      if (inAlarm.length > 0) return { status: 'Failed', reason: 'alarm_in_alarm_state', details };
      if (missing.length > 0) return { status: 'Failed', reason: 'alarm_not_found', details };
      return { status: 'Succeeded', reason: 'no_alarm', details };
    });
  };
}
