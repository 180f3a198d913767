/**
 * The daily calibration run: answers of a matured window joined with their labels, then ECE,
 * the reliability curve (logged), and recall / precision at the card's thresholds, overall and
 * per segment, published under `modelVersion` (+ `segment`). Dependencies come from `index.ts`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ModelCard } from '#domain/model-card';
import {
  type ArchiveReader,
  type ArchiveReadStats,
  type CalibrationFigures,
  calibrationReport,
  joinLabels,
} from '#domain/monitoring/calibration';
import { CalibrationMetric, MetricDimension } from '#shared/metrics-contract';
import type { CalibrationConfig } from './config';

export interface CalibrationMonitorDeps {
  /** The archive; a reader that counts what it skipped (`stats`) gets those counts published. */
  archive: ArchiveReader & { readonly stats?: Readonly<ArchiveReadStats> };
  card: Pick<ModelCard, 'version' | 'thresholds'>;
  config: Pick<CalibrationConfig, 'maturityDays' | 'spanDays' | 'eceBins' | 'minAnswersPerSegment'>;
  metrics: Metrics;
  logger: Logger;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
}

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Transactions of [start, end): the `spanDays` whole UTC days ending `maturityDays` ago. */
export function maturedWindow(
  nowMs: number,
  maturityDays: number,
  spanDays: number,
): { start: number; end: number } {
  const end = Math.floor(nowMs / DAY) * DAY - maturityDays * DAY;
  return { start: end - spanDays * DAY, end };
}

export function createCalibrationHandler(deps: CalibrationMonitorDeps) {
  const { archive, card, config, metrics, logger } = deps;

  type Emit = (name: string, unit: Parameters<Metrics['addMetric']>[1], value: number) => void;
  /** Into the run's document, under `modelVersion` (added once by the caller). */
  const overall: Emit = (name, unit, value) => metrics.addMetric(name, unit, value);
  /**
   * A document of its own per metric: Powertools' `singleMetric()` publishes on `addMetric` and
   * then clears its dimensions, so each metric gets a fresh one with the segment's dimensions.
   */
  const perSegment =
    (segment: string): Emit =>
    (name, unit, value) => {
      const single = metrics.singleMetric();
      single.addDimensions({
        [MetricDimension.ModelVersion]: card.version,
        [MetricDimension.Segment]: segment,
      });
      single.addMetric(name, unit, value);
    };

  function publish(figures: CalibrationFigures, emit: Emit): void {
    emit(CalibrationMetric.LabelledAnswers, MetricUnit.Count, figures.answers);
    emit(CalibrationMetric.CalibrationEce, MetricUnit.NoUnit, figures.ece);
    const percent = (value: number | undefined, name: string) => {
      if (value !== undefined) emit(name, MetricUnit.Percent, value * 100);
    };
    percent(figures.decline.recall, CalibrationMetric.RecallAtDecline);
    percent(figures.decline.precision, CalibrationMetric.PrecisionAtDecline);
    percent(figures.review.recall, CalibrationMetric.RecallAtReview);
    percent(figures.review.precision, CalibrationMetric.PrecisionAtReview);
    if (figures.decline.recall !== undefined)
      percent(card.thresholds.decline.recall - figures.decline.recall, CalibrationMetric.RecallGapAtDecline);
  }

  return async function calibrationHandler() {
    const now = (deps.now ?? Date.now)();
    const { start, end } = maturedWindow(now, config.maturityDays, config.spanDays);
    // The reader's counters live as long as the environment; this run reports its own share.
    const statsBefore = archive.stats && { ...archive.stats };
    const inWindow = (iso: string) => {
      const t = Date.parse(iso);
      return t >= start && t < end;
    };
    // Partitions are by each record's own date as written: the window's days, and from one day
    // either side only the answers written with an offset (the others lie outside the window).
    const answers = [];
    const sources = [
      archive.answers(day(start), day(end - DAY)),
      archive.answers(day(start - DAY), day(start - DAY), { offsetTimesOnly: true }),
      archive.answers(day(end), day(end), { offsetTimesOnly: true }),
    ];
    for (const source of sources)
      for await (const answer of source) if (inWindow(answer.eventTime)) answers.push(answer);
    const labels = [];
    for await (const label of archive.labels(day(start - DAY), day(now)))
      if (inWindow(label.transactionTimestamp)) labels.push(label);
    const joined = joinLabels(answers, labels, card.version);
    const report = calibrationReport(joined, {
      thresholds: { review: card.thresholds.review.score, decline: card.thresholds.decline.score },
      bins: config.eceBins,
      minAnswersPerSegment: config.minAnswersPerSegment,
    });
    const read = archive.stats && difference(archive.stats, statsBefore);
    metrics.addDimensions({ [MetricDimension.ModelVersion]: card.version });
    if (report.overall) publish(report.overall, overall);
    // Zero is a figure too: a run that found nothing is told apart from a run that did not happen.
    else metrics.addMetric(CalibrationMetric.LabelledAnswers, MetricUnit.Count, 0);
    if (read) {
      metrics.addMetric(CalibrationMetric.ArchiveLinesSkipped, MetricUnit.Count, read.skippedLines);
      metrics.addMetric(CalibrationMetric.ArchiveObjectsUnreadable, MetricUnit.Count, read.unreadableObjects);
    }
    for (const segment of report.segments) publish(segment, perSegment(segment.population));
    metrics.publishStoredMetrics();
    const summary = {
      modelVersion: card.version,
      window: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
      answersRead: answers.length,
      labelsRead: labels.length,
      ...(read ? { archive: read } : {}),
      card: { recallAtDecline: card.thresholds.decline.recall },
      ...report,
    };
    if (!report.overall) logger.warn('calibration: no labelled answers in the matured window', summary);
    else if (read && read.skippedLines + read.unreadableObjects > 0)
      logger.warn('calibration (damaged archive records were skipped)', summary);
    else logger.info('calibration', summary);
    return summary;
  };
}

function difference(after: Readonly<ArchiveReadStats>, before: Readonly<ArchiveReadStats> | undefined) {
  const base = before ?? { objects: 0, lines: 0, skippedLines: 0, unreadableObjects: 0 };
  return {
    objects: after.objects - base.objects,
    lines: after.lines - base.lines,
    skippedLines: after.skippedLines - base.skippedLines,
    unreadableObjects: after.unreadableObjects - base.unreadableObjects,
  };
}
