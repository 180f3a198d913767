/**
 * The stage config's production monitors (issue 12): the canary judge, the slow tier of safe
 * delivery, and the daily calibration and recall monitor.
 */
import { z } from 'zod';
import { positiveInt } from './schema-parts';

const nonNegative = z.number().min(0).optional();

/**
 * Overrides of the canary judge's thresholds (`JudgeConfig` of `#domain/judge/config`); a field
 * left out keeps the default the simulator tuned (docs/canary-judge.md). Every field is also
 * validated by `judgeConfig` at synth.
 */
const judgeOverridesSchema = z.strictObject({
  /** Family-wise significance of each test family, (0, 0.5]. */
  alpha: z.number().gt(0).max(0.5).optional(),
  latency: z
    .strictObject({ minMinutes: nonNegative, minRequestsPerMinute: nonNegative, relativeFloor: nonNegative })
    .optional(),
  errors: z.strictObject({ minRequests: nonNegative, absoluteFloor: nonNegative }).optional(),
  decisions: z
    .strictObject({
      minAnswers: nonNegative,
      minSegmentAnswers: nonNegative,
      minExpectedEvents: nonNegative,
      relativeTolerance: nonNegative,
      segmentRelativeTolerance: nonNegative,
    })
    .optional(),
  scores: z
    .strictObject({
      minAnswers: nonNegative,
      psiFail: nonNegative,
      cardPsiFail: nonNegative,
      shiftFloor: nonNegative,
    })
    .optional(),
  inputs: z.strictObject({ minAnswers: nonNegative, psiInvalid: nonNegative }).optional(),
});

/** The canary judge (issue 12): the slow tier of safe delivery. */
export const judgeSchema = z.strictObject({
  /**
   * Deploy the judge: a function run every minute that compares the canary version with the
   * baseline while the alias is weighted, and a `JudgeVerdict` alarm in the deployment group
   * that rolls back a `fail`.
   */
  enabled: z.boolean(),
  /** The post-traffic hook fails the deployment unless the judge's final verdict is `pass`. */
  requirePass: z.boolean(),
  /** With `requirePass`: a final `inconclusive` fails the deployment (`fail`, closed) or passes it. */
  inconclusive: z.enum(['fail', 'pass']),
  /** Threshold overrides passed to `judgeConfig`. */
  config: judgeOverridesSchema,
});
/** Settings of the canary judge of a stage. */
export type JudgeStageConfig = z.infer<typeof judgeSchema>;

/**
 * The daily calibration and recall monitor (issue 12), deployed with the archive it reads:
 * answers of a matured window joined with the labels posted since (docs/monitoring.md).
 */
export const calibrationSchema = z.strictObject({
  /** Chargebacks arrive weeks late: transactions younger than this many days are not judged. */
  maturityDays: z.number().int().min(0).max(365),
  /**
   * Whole UTC days of matured transactions each run judges. Every answer of the span is held in
   * memory (about 165 bytes each, docs/monitoring.md#sizing): size it with `memoryMb` and the traffic.
   */
  spanDays: positiveInt.max(90),
  /** Equal-mass bins of the ECE. */
  eceBins: z.number().int().min(2).max(100),
  /** A segment with fewer labelled answers publishes no figures (too noisy to read). */
  minAnswersPerSegment: positiveInt,
  /** The UTC hour of the daily run. */
  runAtHourUtc: z.number().int().min(0).max(23),
  /** Memory of the function, MB (more memory also buys CPU for gunzip and JSON parsing). */
  memoryMb: positiveInt.min(256).max(10_240),
  /** Ticket: the overall ECE (equal-mass) of a run above this. */
  eceThreshold: z.number().gt(0).lt(1),
  /** Ticket: live recall at the decline threshold more than this many points below the card's. */
  recallGapPoints: z.number().gt(0).max(100),
  /**
   * The stage's planned average traffic, requests/s: what `npm run bench:calibration` projects
   * a run's length at (answers and label lines to read against Lambda's 15 minutes). Not deployed.
   * @default - no projection for the stage
   */
  plannedAverageRps: z.number().positive().optional(),
});
/** Settings of the calibration monitor of a stage. */
export type CalibrationStageConfig = z.infer<typeof calibrationSchema>;
