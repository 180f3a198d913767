/**
 * The neural score: the port the score function calls, and the calibrated combination of
 * the tree and neural scores stored in the `fraud-seq` model card.
 *
 * The neural model runs out of process (Triton on GPU in AWS, services/neural locally); the
 * score function reaches it through {@link NeuralScorer} with a strict time budget. When the
 * neural score is missing, the tree score and the tree card's thresholds decide, and the
 * answer says `degraded: ["neural_unavailable"]`.
 */
import { z } from 'zod';
import type { NeuralUnavailableError } from './errors';
import type { ModelIdentity } from './ports';
import type { CompanionScorer } from './scorers';
import { type SequenceInput, sequenceTensor } from './sequence';

export type { NeuralFailureKind } from './errors';

/** Scores one request's sequence input on the neural service. */
export interface NeuralScorer {
  /**
   * The calibrated neural probability for one input. Rejects with a {@link NeuralUnavailableError}
   * (timeout, breaker open, transport or protocol failure) within the configured budget;
   * `signal` aborts the call early (the request's own deadline).
   */
  score(input: SequenceInput, signal?: AbortSignal): Promise<number>;
}

/** Neural modes per stage: not called, called but never deciding, or deciding. */
export const NEURAL_MODES = ['off', 'shadow', 'live'] as const;
export type NeuralMode = (typeof NEURAL_MODES)[number];

const thresholdSchema = z.object({
  score: z.number().min(0).max(1),
  fpr: z.number().min(0).max(1),
  recall: z.number().min(0).max(1),
});

/** The `combination` block of the `fraud-seq` card. */
export const combinationSchema = z.object({
  method: z.literal('logistic-stacker'),
  treeModel: z.object({ name: z.string(), version: z.string() }),
  intercept: z.number(),
  tree: z.number(),
  neural: z.number(),
  clip: z.number().gt(0).lt(0.5),
  thresholds: z.object({ review: thresholdSchema, decline: thresholdSchema }),
});
export type Combination = z.infer<typeof combinationSchema>;

function logit(p: number, clip: number): number {
  const q = Math.min(1 - clip, Math.max(clip, p));
  return Math.log(q) - Math.log1p(-q);
}

/**
 * The combined probability: `sigmoid(intercept + tree·logit(tree) + neural·logit(neural))`,
 * fitted on the calibration slice (a logistic stacker), so it is calibrated on its own and
 * carries its own thresholds. Throws on a score outside [0, 1]: a broken input must never
 * quietly become a decision.
 */
export function combineScores(combination: Combination, treeScore: number, neuralScore: number): number {
  for (const [name, value] of [
    ['tree', treeScore],
    ['neural', neuralScore],
  ] as const) {
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} score ${value} is not a probability`);
  }
  const z =
    combination.intercept +
    combination.tree * logit(treeScore, combination.clip) +
    combination.neural * logit(neuralScore, combination.clip);
  return 1 / (1 + Math.exp(-z));
}

/**
 * The neural model as a companion of the tree: it sends the card's ring (read with the
 * features, in the same BatchGetItem) and the request to the neural service, concurrently with
 * the tree inference, and decides with the card's stacked combination and its thresholds.
 * Whether it is live or shadow is the composition's business, not this scorer's.
 */
export function neuralCompanion(
  scorer: NeuralScorer,
  model: ModelIdentity,
  combination: Combination,
): CompanionScorer {
  return {
    name: 'neural',
    model,
    start: 'concurrent',
    degradation: 'neural_unavailable',
    thresholds: {
      review: combination.thresholds.review.score,
      decline: combination.thresholds.decline.score,
    },
    score: (inputs) => scorer.score(sequenceTensor(inputs.state.card?.seq, inputs.request, inputs.now)),
    final(treeScore, own) {
      if (treeScore === undefined) throw new RangeError('no tree score to combine with');
      return combineScores(combination, treeScore, own);
    },
  };
}
