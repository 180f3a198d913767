/**
 * What the canary judge reads and what it decides. The observation of a version is what
 * CloudWatch (or the local EMF reader) holds for it over the judged window: per-minute latency,
 * request and error counts, decisions per segment, the score histogram on the model card's
 * fixed bins and the top features' histograms.
 */

/** Decisions of one slice of traffic: `answers` scored, of which `reviews` and `declines`. */
export interface DecisionCounts {
  readonly answers: number;
  readonly reviews: number;
  readonly declines: number;
}

export interface VersionObservation {
  /** The Lambda version (`functionVersion` dimension). */
  readonly functionVersion: string;
  /** The model version it serves (`modelVersion` dimension). */
  readonly modelVersion: string;
  /** One latency figure (p99 or mean, ms) per minute that had traffic, oldest first. */
  readonly latencyMinutes: readonly number[];
  /** Requests per minute, aligned with `latencyMinutes` (for the per-minute sample floor). */
  readonly requestsPerMinute: readonly number[];
  readonly requests: number;
  readonly errors: number;
  /** Decisions per segment key; the aggregate is their sum. */
  readonly segments: Readonly<Record<string, DecisionCounts>>;
  /** Score answers per bin of {@link JudgeInput.scoreEdges}. */
  readonly scoreCounts: readonly number[];
  /** Per top feature, counts on {@link JudgeInput.featureEdges}. */
  readonly featureCounts: Readonly<Record<string, readonly number[]>>;
}

export interface JudgeInput {
  readonly baseline: VersionObservation;
  readonly canary: VersionObservation;
  /** The score histogram's bin edges (the model card's `scoreHistogram.edges`). */
  readonly scoreEdges: readonly number[];
  /**
   * The canary model's card histogram (`scoreHistogram.counts` on the holdout), used when the
   * canary serves another model than the baseline.
   */
  readonly canaryCard?: { readonly counts: readonly number[] };
  /** Bin edges of each top feature (the card's `monitoring.featureHistograms`). */
  readonly featureEdges: Readonly<Record<string, readonly number[]>>;
  /**
   * Paired decisions on the baseline's own requests (`ShadowSegmentDecision`): per segment key a
   * 9-long count array indexed `3 × live + shadow` (0 approve, 1 review, 2 decline). Present only
   * when the baseline scored with a shadow model.
   */
  readonly paired?: {
    readonly shadow: { readonly model: string; readonly version: string };
    readonly segments: Readonly<Record<string, readonly number[]>>;
  };
}

/** One test's outcome; `skipped` tests (not applicable, too sparse a segment) do not vote. */
export type Outcome = 'pass' | 'fail' | 'inconclusive' | 'skipped';

export type VerdictOutcome = Exclude<Outcome, 'skipped'>;

export interface TestResult {
  /** e.g. `latency`, `errors`, `decline-rate[ecommerce.mid.known]`, `score-shift`, `score-psi`, `input-psi[amount_log]`. */
  readonly test: string;
  readonly outcome: Outcome;
  /** Name and value of the statistic the outcome rests on. */
  readonly statistic: { readonly name: string; readonly value: number };
  readonly pValue?: number;
  /** After the multiple-comparison correction, when the test belongs to a family. */
  readonly adjustedPValue?: number;
  /** The rule, e.g. `p < 0.01 and +10 %`. */
  readonly threshold: string;
  readonly baselineValue: number;
  readonly canaryValue: number;
  readonly samples: { readonly baseline: number; readonly canary: number };
  /** Why the outcome is what it is, in one line. */
  readonly reason: string;
}

export interface Verdict {
  readonly outcome: VerdictOutcome;
  readonly baseline: { readonly functionVersion: string; readonly modelVersion: string };
  readonly canary: { readonly functionVersion: string; readonly modelVersion: string };
  /** `code`: same model on both sides; `model`: the canary serves a new model. */
  readonly change: 'code' | 'model';
  readonly tests: readonly TestResult[];
  /** The tests that decided the outcome (failed ones, or the inconclusive ones). */
  readonly because: readonly string[];
}
