/**
 * The canary judge's final verdict on a version, as the post-traffic hook requires it: the
 * last `JudgeVerdict` / `JudgeInconclusive` datapoint the judge published for the version
 * (dimensions `service=canary-judge`, `stage`, `canaryVersion`).
 *
 * Why read the metric instead of judging again: after the shift to 100 % the alias has no
 * weighted routing left to name the baseline, and the judge's last run during the canary phase
 * already judged the whole canary window — the verdict the rollback alarm watched and the
 * dashboard shows. One source of truth, and one GetMetricData call.
 */
import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { JudgeMetric, METRICS_NAMESPACE, MetricDimension, MetricService } from '#shared/metrics-contract';
import { EVIDENCE_LOOKBACK_MS } from './canary-evidence';

/** The final verdict; `missing` when the judge published nothing for the version. */
export type FinalVerdict = 'pass' | 'fail' | 'inconclusive' | 'missing';

export interface FinalVerdictReading {
  readonly verdict: FinalVerdict;
  /** Minute of the datapoint the verdict rests on (ISO), absent when missing. */
  readonly at?: string;
}

/**
 * The latest minute in the lookback up to `until` with a judge datapoint for `canaryVersion`:
 * `fail` when its `JudgeVerdict` is 1, else `inconclusive` when its `JudgeInconclusive` is 1,
 * else `pass`. A minute with only one of the two metrics reads the other as 0.
 */
export async function finalJudgeVerdict(
  cloudWatch: CloudWatchClient,
  target: { stage: string; canaryVersion: string },
  until: Date,
): Promise<FinalVerdictReading> {
  const dimensions = [
    { Name: MetricDimension.Service, Value: MetricService.CanaryJudge },
    { Name: MetricDimension.Stage, Value: target.stage },
    { Name: MetricDimension.CanaryVersion, Value: target.canaryVersion },
  ];
  const query = (id: string, metricName: string) => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: METRICS_NAMESPACE, MetricName: metricName, Dimensions: dimensions },
      Period: 60,
      Stat: 'Maximum',
    },
  });
  const latest = { verdict: new Map<number, number>(), inconclusive: new Map<number, number>() };
  let nextToken: string | undefined;
  do {
    const page = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(until.getTime() - EVIDENCE_LOOKBACK_MS),
        EndTime: until,
        ScanBy: 'TimestampDescending',
        NextToken: nextToken,
        MetricDataQueries: [
          query('verdict', JudgeMetric.JudgeVerdict),
          query('inconclusive', JudgeMetric.JudgeInconclusive),
        ],
      }),
    );
    for (const result of page.MetricDataResults ?? []) {
      const into =
        result.Id === 'verdict'
          ? latest.verdict
          : result.Id === 'inconclusive'
            ? latest.inconclusive
            : undefined;
      (result.Values ?? []).forEach((value, i) => {
        const t = result.Timestamps?.[i]?.getTime();
        if (into && t !== undefined) into.set(t, value);
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  const minutes = [...latest.verdict.keys(), ...latest.inconclusive.keys()];
  if (minutes.length === 0) return { verdict: 'missing' };
  const last = Math.max(...minutes);
  const at = new Date(last).toISOString();
  if ((latest.verdict.get(last) ?? 0) >= 1) return { verdict: 'fail', at };
  if ((latest.inconclusive.get(last) ?? 0) >= 1) return { verdict: 'inconclusive', at };
  return { verdict: 'pass', at };
}
