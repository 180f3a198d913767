/**
 * Calibration and recall of live answers against matured labels: equal-mass ECE with its
 * reliability curve, and recall / precision at the card's review and decline thresholds,
 * overall and per segment. Pure; the daily monitor feeds it joined archive records.
 *
 * A transaction counts as fraud when a `chargeback` or `confirmed_fraud` label arrived for it
 * and as legitimate otherwise — the rule training used (`models/training/README.md`), so the
 * live figures compare with the card's. Only answers old enough for labels to have arrived
 * ("matured") may be judged this way.
 */

/** One scored answer joined with its outcome. */
export interface LabelledAnswer {
  readonly score: number;
  readonly fraud: boolean;
  readonly segment: string;
}

/** One point of the reliability curve: a bin of equal mass. */
export interface ReliabilityBin {
  readonly count: number;
  readonly meanScore: number;
  readonly fraudRate: number;
}

/**
 * Expected calibration error with `bins` bins of equal mass (sorted by score; the first
 * n mod bins bins get one extra answer): Σ_b (n_b / n) · |mean score_b − fraud rate_b|.
 * Fewer answers than bins give one answer per bin.
 *
 * @throws RangeError for no answers or bins < 1
 */
export function equalMassCalibration(
  answers: readonly Pick<LabelledAnswer, 'score' | 'fraud'>[],
  bins = 10,
): { ece: number; curve: ReliabilityBin[] } {
  if (answers.length === 0) throw new RangeError('calibration needs at least one answer');
  if (!(Number.isInteger(bins) && bins >= 1))
    throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const sorted = [...answers].sort((a, b) => a.score - b.score);
  const n = sorted.length;
  const k = Math.min(bins, n);
  const curve: ReliabilityBin[] = [];
  let ece = 0;
  let from = 0;
  for (let b = 0; b < k; b++) {
    const size = Math.floor(n / k) + (b < n % k ? 1 : 0);
    let scoreSum = 0;
    let frauds = 0;
    for (let i = from; i < from + size; i++) {
      scoreSum += (sorted[i] as LabelledAnswer).score;
      if ((sorted[i] as LabelledAnswer).fraud) frauds += 1;
    }
    const bin = { count: size, meanScore: scoreSum / size, fraudRate: frauds / size };
    curve.push(bin);
    ece += (size / n) * Math.abs(bin.meanScore - bin.fraudRate);
    from += size;
  }
  return { ece, curve };
}

/** Recall and precision of "score ≥ threshold" (undefined when the denominator is 0). */
export interface ThresholdRates {
  readonly threshold: number;
  readonly recall?: number;
  readonly precision?: number;
  readonly flagged: number;
  readonly frauds: number;
}

export function ratesAt(
  answers: readonly Pick<LabelledAnswer, 'score' | 'fraud'>[],
  threshold: number,
): ThresholdRates {
  let flagged = 0;
  let frauds = 0;
  let caught = 0;
  for (const answer of answers) {
    const hit = answer.score >= threshold;
    if (hit) flagged += 1;
    if (answer.fraud) {
      frauds += 1;
      if (hit) caught += 1;
    }
  }
  return {
    threshold,
    flagged,
    frauds,
    ...(frauds > 0 ? { recall: caught / frauds } : {}),
    ...(flagged > 0 ? { precision: caught / flagged } : {}),
  };
}

/** Everything the monitor publishes for one population (overall or one segment). */
export interface CalibrationFigures {
  readonly population: string;
  readonly answers: number;
  readonly frauds: number;
  readonly ece: number;
  readonly curve: readonly ReliabilityBin[];
  readonly review: ThresholdRates;
  readonly decline: ThresholdRates;
}

export interface CalibrationSettings {
  readonly thresholds: { readonly review: number; readonly decline: number };
  /** Equal-mass bins of the ECE. */
  readonly bins: number;
  /** A segment with fewer labelled answers gets no figures (too noisy to alarm on). */
  readonly minAnswersPerSegment: number;
}

export function figuresOf(
  population: string,
  answers: readonly LabelledAnswer[],
  settings: CalibrationSettings,
): CalibrationFigures {
  const { ece, curve } = equalMassCalibration(answers, settings.bins);
  return {
    population,
    answers: answers.length,
    frauds: answers.filter((a) => a.fraud).length,
    ece,
    curve,
    review: ratesAt(answers, settings.thresholds.review),
    decline: ratesAt(answers, settings.thresholds.decline),
  };
}

/** Overall figures (undefined without answers) and those of each segment with enough answers. */
export function calibrationReport(
  answers: readonly LabelledAnswer[],
  settings: CalibrationSettings,
): { overall?: CalibrationFigures; segments: CalibrationFigures[] } {
  const bySegment = new Map<string, LabelledAnswer[]>();
  for (const answer of answers) {
    const list = bySegment.get(answer.segment) ?? [];
    list.push(answer);
    bySegment.set(answer.segment, list);
  }
  const segments = [...bySegment.entries()]
    .filter(([, list]) => list.length >= settings.minAnswersPerSegment)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([segment, list]) => figuresOf(segment, list, settings));
  return { ...(answers.length > 0 ? { overall: figuresOf('all', answers, settings) } : {}), segments };
}

/** The fields of the archive's records the join reads (`#domain/archive` ScoreRecord / EventRecord). */
export interface ArchivedAnswer {
  readonly transactionId: string;
  readonly eventTime: string;
  readonly modelVersion: string;
  readonly score: number | null;
  readonly segment: string;
}
export interface ArchivedLabel {
  readonly transactionId: string;
  readonly label: string;
}

/**
 * Joins answers with labels by transactionId. Answers without a model score (rules-only) are
 * left out; an answer without a fraud label is legitimate. Several answers of one transaction
 * (a retry scored twice) count once, the first.
 */
export function joinLabels(
  answers: Iterable<ArchivedAnswer>,
  labels: Iterable<ArchivedLabel>,
  modelVersion: string,
): LabelledAnswer[] {
  const fraud = new Set<string>();
  for (const label of labels) {
    if (label.label === 'chargeback' || label.label === 'confirmed_fraud') fraud.add(label.transactionId);
  }
  const seen = new Set<string>();
  const joined: LabelledAnswer[] = [];
  for (const answer of answers) {
    if (answer.score === null || answer.modelVersion !== modelVersion || seen.has(answer.transactionId))
      continue;
    seen.add(answer.transactionId);
    joined.push({ score: answer.score, fraud: fraud.has(answer.transactionId), segment: answer.segment });
  }
  return joined;
}

/**
 * What a reader went through (counters grow over its lifetime): objects opened, lines read,
 * lines skipped as damaged (not JSON, not the expected record, too long) and objects whose
 * compression was corrupt or truncated (their lines before the damage count).
 */
export interface ArchiveReadStats {
  objects: number;
  lines: number;
  skippedLines: number;
  unreadableObjects: number;
}

/** Which answers of the partitions a reader yields. */
export interface AnswerScope {
  /**
   * Only answers whose `eventTime` is written with an offset, not `Z`: a partition holds the
   * answers whose time is written with its date, so from the partitions either side of a
   * window only those can fall inside it. A reader may then skip the `Z` lines unparsed.
   * @default false
   */
  readonly offsetTimesOnly?: boolean;
}

/** Port: the archive's answers and label events of a date range (`YYYY-MM-DD` partitions, inclusive). */
export interface ArchiveReader {
  answers(fromDay: string, toDay: string, scope?: AnswerScope): AsyncIterable<ArchivedAnswer>;
  labels(
    fromDay: string,
    toDay: string,
  ): AsyncIterable<ArchivedLabel & { readonly transactionTimestamp: string }>;
}
