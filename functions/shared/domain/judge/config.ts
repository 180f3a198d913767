/**
 * The canary judge's settings: significance, effect-size floors and minimum samples per test.
 * One frozen object, validated once; the stage config (`judge` block) overrides any field.
 *
 * The defaults were tuned with `npm run canary:simulate` at prod's canary traffic so that an
 * A/A canary fails ≤ 1 % of the time (see docs/canary-judge.md for the table).
 */

export interface JudgeConfig {
  /** Family-wise significance of each test family (latency, errors, decisions, scores). */
  readonly alpha: number;
  readonly latency: {
    /** Fewest minutes with at least `minRequestsPerMinute` requests, per version. */
    readonly minMinutes: number;
    readonly minRequestsPerMinute: number;
    /** Smallest relative increase of the canary's median per-minute latency that can fail. */
    readonly relativeFloor: number;
  };
  readonly errors: {
    readonly minRequests: number;
    /** Smallest increase of the error rate (absolute, 0.002 = 0.2 percentage points) that can fail. */
    readonly absoluteFloor: number;
  };
  readonly decisions: {
    /** Fewest answers per version before the aggregate decision mix is judged at all. */
    readonly minAnswers: number;
    /** Fewest canary answers for a segment to enter the test family. */
    readonly minSegmentAnswers: number;
    /**
     * Fewest decisions of a kind the canary would show at the baseline's rate: below it the
     * normal approximation is poor and the test is left out (listed as `skipped`).
     */
    readonly minExpectedEvents: number;
    /** Largest tolerated relative change of a decline or review rate in the aggregate. */
    readonly relativeTolerance: number;
    /** Same, within one segment: a segment may not degrade beyond it even if the aggregate is fine. */
    readonly segmentRelativeTolerance: number;
  };
  readonly scores: {
    readonly minAnswers: number;
    /** Code-only change: PSI of the canary's score histogram against the baseline's that fails. */
    readonly psiFail: number;
    /** New model: PSI of the canary's histogram against its own card's that fails. */
    readonly cardPsiFail: number;
    /**
     * Smallest shift of the score distribution that can fail, as |P(canary > reference) − ½|
     * from the rank test on the histograms (reference: the baseline for a code change, the
     * card's holdout histogram for a new model). Odds ×1.5 on this model's traffic gives ~0.02.
     */
    readonly shiftFloor: number;
  };
  readonly inputs: {
    readonly minAnswers: number;
    /** Feature PSI between canary and baseline above which the comparison is invalid. */
    readonly psiInvalid: number;
  };
}

export const DEFAULT_JUDGE_CONFIG: JudgeConfig = deepFreeze({
  alpha: 0.01,
  latency: { minMinutes: 5, minRequestsPerMinute: 30, relativeFloor: 0.1 },
  errors: { minRequests: 2000, absoluteFloor: 0.002 },
  decisions: {
    minAnswers: 2000,
    minSegmentAnswers: 200,
    minExpectedEvents: 10,
    relativeTolerance: 0.1,
    segmentRelativeTolerance: 0.25,
  },
  scores: { minAnswers: 2000, psiFail: 0.1, cardPsiFail: 0.2, shiftFloor: 0.005 },
  inputs: { minAnswers: 1000, psiInvalid: 0.2 },
});

/** Deep-partial overrides, as the stage config writes them. */
export type JudgeConfigOverrides = {
  readonly [K in keyof JudgeConfig]?: JudgeConfig[K] extends object
    ? Partial<JudgeConfig[K]>
    : JudgeConfig[K];
};

/**
 * Merges `overrides` over the defaults and validates every field; throws a `RangeError` that
 * names the field.
 */
export function judgeConfig(overrides: JudgeConfigOverrides = {}): JudgeConfig {
  const d = DEFAULT_JUDGE_CONFIG;
  const merged: JudgeConfig = {
    alpha: overrides.alpha ?? d.alpha,
    latency: { ...d.latency, ...overrides.latency },
    errors: { ...d.errors, ...overrides.errors },
    decisions: { ...d.decisions, ...overrides.decisions },
    scores: { ...d.scores, ...overrides.scores },
    inputs: { ...d.inputs, ...overrides.inputs },
  };
  check('alpha', merged.alpha, 0, 0.5, true);
  for (const [group, values] of Object.entries(merged)) {
    if (typeof values !== 'object') continue;
    for (const [key, value] of Object.entries(values as Record<string, number>)) {
      check(`${group}.${key}`, value, 0, Number.POSITIVE_INFINITY, false);
    }
  }
  return deepFreeze(merged);
}

function check(name: string, value: number, min: number, max: number, exclusiveMin: boolean): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (exclusiveMin && value === min)
  )
    throw new RangeError(
      `judge config ${name} must be a number in ${exclusiveMin ? '(' : '['}${min}, ${max}], got ${value}`,
    );
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (inner && typeof inner === 'object') Object.freeze(inner);
  return Object.freeze(value);
}
