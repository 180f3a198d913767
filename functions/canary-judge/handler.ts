/**
 * One run of the canary judge (every minute, EventBridge): reads the score alias's routing;
 * without a weighted canary it idles (logs `idle`, publishes nothing); with one it reads both
 * versions' series since the deployment began, runs `judgeCanary`, logs the whole report as
 * one structured line and publishes `JudgeVerdict` / `JudgeInconclusive` for the canary
 * version. Dependencies come from `index.ts`.
 *
 * Where the window starts: Lambda's alias has no "routing changed at" time, so the judge keeps
 * the minute it first saw the canary's weight in memory (one minute earlier, since the weight
 * appeared at most one schedule tick before). A cold start in the middle of a deployment
 * restarts the window there: the judge then sees less data, which can only make it less sure
 * (more `inconclusive`), never wrongly `pass`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { JudgeConfig } from '#domain/judge/config';
import { judgeCanary } from '#domain/judge/judge';
import type { AliasRoutingReader, CanarySeriesSource, JudgeWindow } from '#domain/judge/ports';
import type { Verdict } from '#domain/judge/types';
import { JudgeMetric, MetricDimension } from '#shared/metrics-contract';

const MINUTE_MS = 60_000;

export interface CanaryJudgeDeps {
  alias: AliasRoutingReader;
  source: CanarySeriesSource;
  judge: JudgeConfig;
  /** See {@link CanaryJudgeConfig.lagMinutes}. */
  lagMinutes: number;
  metrics: Metrics;
  logger: Logger;
  /** Epoch milliseconds; injectable for tests. @default Date.now */
  now?: () => number;
}

/** What one run did (the return value is for tests and the console; EventBridge ignores it). */
export type JudgeRun =
  | { readonly status: 'idle'; readonly baseline: string }
  | {
      readonly status: 'judged';
      readonly verdict: Verdict;
      readonly window: { readonly start: string; readonly end: string };
      readonly weight: number;
    };

/** The judged window: from the minute before the canary was first seen to `lag` minutes ago (at least one minute). */
export function judgeWindow(firstSeenMs: number, nowMs: number, lagMinutes: number): JudgeWindow {
  const start = Math.floor(firstSeenMs / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  const end = Math.max(Math.floor(nowMs / MINUTE_MS) * MINUTE_MS - lagMinutes * MINUTE_MS, start + MINUTE_MS);
  return { start: new Date(start), end: new Date(end) };
}

export function createCanaryJudgeHandler(deps: CanaryJudgeDeps) {
  const { logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  /** The deployment being judged: its canary version and when this environment first saw it. */
  let deployment: { canary: string; firstSeenMs: number } | undefined;

  return async function canaryJudgeHandler(): Promise<JudgeRun> {
    const routing = await deps.alias.routing();
    const { canary } = routing;
    if (!canary) {
      deployment = undefined;
      logger.info('idle', { baseline: routing.baseline });
      return { status: 'idle', baseline: routing.baseline };
    }
    const nowMs = now();
    if (deployment?.canary !== canary.version) deployment = { canary: canary.version, firstSeenMs: nowMs };
    const window = judgeWindow(deployment.firstSeenMs, nowMs, deps.lagMinutes);

    const input = await deps.source.read(window, routing.baseline, canary.version);
    const verdict = judgeCanary(input, deps.judge);

    metrics.addDimension(MetricDimension.CanaryVersion, canary.version);
    metrics.addMetric(JudgeMetric.JudgeVerdict, MetricUnit.NoUnit, verdict.outcome === 'fail' ? 1 : 0);
    metrics.addMetric(
      JudgeMetric.JudgeInconclusive,
      MetricUnit.NoUnit,
      verdict.outcome === 'inconclusive' ? 1 : 0,
    );
    metrics.publishStoredMetrics();

    const span = { start: window.start.toISOString(), end: window.end.toISOString() };
    const log = verdict.outcome === 'fail' ? logger.warn.bind(logger) : logger.info.bind(logger);
    log('canary judge verdict', {
      outcome: verdict.outcome,
      baselineVersion: routing.baseline,
      canaryVersion: canary.version,
      weight: canary.weight,
      window: span,
      because: verdict.because,
      report: verdict,
    });
    return { status: 'judged', verdict, window: span, weight: canary.weight };
  };
}
