/**
 * The hourly drift run: the live score histogram and each top feature's, against the model
 * card's baselines; PSI published as `DriftPsiScore` / `DriftPsiFeature`, the findings logged.
 * Dependencies come from `index.ts`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ModelCard } from '#domain/model-card';
import { type DriftFinding, driftOf, type HistogramSource } from '#domain/monitoring/drift';
import { DriftMetric, MetricDimension, ScoreMetric } from '#shared/metrics-contract';
import type { DriftConfig } from './config';

export interface DriftMonitorDeps {
  source: HistogramSource;
  card: Pick<ModelCard, 'version' | 'scoreHistogram' | 'monitoring'>;
  config: Pick<DriftConfig, 'windowMinutes' | 'lagMinutes' | 'minSamples'>;
  metrics: Metrics;
  logger: Logger;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
}

export interface DriftReport {
  modelVersion: string;
  start: string;
  end: string;
  score: DriftFinding;
  features: DriftFinding[];
}

/** The window: whole minutes, ending `lagMinutes` before now. */
export function driftWindow(
  nowMs: number,
  windowMinutes: number,
  lagMinutes: number,
): { start: Date; end: Date } {
  const end = Math.floor(nowMs / 60_000) * 60_000 - lagMinutes * 60_000;
  return { start: new Date(end - windowMinutes * 60_000), end: new Date(end) };
}

export function createDriftHandler(deps: DriftMonitorDeps) {
  const { card, config, metrics, logger } = deps;
  return async function driftHandler(): Promise<DriftReport> {
    const { start, end } = driftWindow((deps.now ?? Date.now)(), config.windowMinutes, config.lagMinutes);
    const base = { modelVersion: card.version, start, end };
    const scoreCounts = await deps.source.binCounts({
      ...base,
      metric: ScoreMetric.Score,
      edges: card.scoreHistogram.edges,
    });
    const score = driftOf('score', card.scoreHistogram.fractions, scoreCounts, config.minSamples);
    const features: DriftFinding[] = [];
    for (const name of card.monitoring?.topFeatures ?? []) {
      const baseline = card.monitoring?.featureHistograms[name];
      if (!baseline) continue;
      const counts = await deps.source.binCounts({
        ...base,
        metric: ScoreMetric.FeatureValue,
        extraDimension: { name: MetricDimension.Feature, value: name },
        edges: baseline.edges,
      });
      features.push(driftOf(name, baseline.fractions, counts, config.minSamples));
    }

    metrics.addDimension(MetricDimension.ModelVersion, card.version);
    metrics.addMetric(DriftMetric.DriftSamples, MetricUnit.Count, score.samples);
    if (score.psi !== undefined) metrics.addMetric(DriftMetric.DriftPsiScore, MetricUnit.NoUnit, score.psi);
    for (const finding of features) {
      if (finding.psi === undefined) continue;
      const single = metrics.singleMetric();
      single.addDimensions({
        [MetricDimension.ModelVersion]: card.version,
        [MetricDimension.Feature]: finding.subject,
      });
      single.addMetric(DriftMetric.DriftPsiFeature, MetricUnit.NoUnit, finding.psi);
    }
    metrics.publishStoredMetrics();

    const report = {
      modelVersion: card.version,
      start: start.toISOString(),
      end: end.toISOString(),
      score,
      features,
    };
    const shifted = [score, ...features].filter((f) => f.shifted).map((f) => f.subject);
    if (shifted.length > 0) logger.warn('drift: population shifted', { shifted, report });
    else logger.info('drift', { report });
    return report;
  };
}
