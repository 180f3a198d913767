/**
 * How much traffic the version being deployed has served through the alias: the sum of
 * `AWS/Lambda` `Invocations` with its `ExecutedVersion`. A version is new in its own deployment,
 * so every such invocation belongs to this canary (the pre-traffic replay invokes the version
 * directly, which Lambda does not count under the alias's `ExecutedVersion`).
 */
import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { DeployedVersion } from './config';

/** How far back the count looks; longer than any canary interval plus bake of the stage config. */
export const EVIDENCE_LOOKBACK_MS = 6 * 60 * 60 * 1000;

/**
 * Invocations of `target` through its alias from {@link EVIDENCE_LOOKBACK_MS} before `until`
 * up to `until` (one-minute periods). With `until` = the moment the post-traffic hook started,
 * this counts the traffic-shifting (canary) phase only; read it after the bake, when the
 * canary's last minutes have been published.
 */
export async function canaryInvocations(
  cloudWatch: CloudWatchClient,
  target: DeployedVersion,
  until: Date,
): Promise<number> {
  let total = 0;
  let nextToken: string | undefined;
  do {
    const page = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(until.getTime() - EVIDENCE_LOOKBACK_MS),
        EndTime: until,
        NextToken: nextToken,
        MetricDataQueries: [
          {
            Id: 'invocations',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Lambda',
                MetricName: 'Invocations',
                Dimensions: [
                  { Name: 'FunctionName', Value: target.functionName },
                  { Name: 'Resource', Value: `${target.functionName}:${target.aliasName}` },
                  { Name: 'ExecutedVersion', Value: target.version },
                ],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    for (const result of page.MetricDataResults ?? []) {
      for (const value of result.Values ?? []) total += value;
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return total;
}
