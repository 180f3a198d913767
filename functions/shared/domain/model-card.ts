/**
 * The model card (`models/<name>/<version>/model.json`): what a model expects and how it
 * was measured. Serving refuses a card whose feature spec differs from the code's, so a
 * model can never be fed features it was not trained on.
 */
import { z } from 'zod';
import { describeFirstIssue, ModelCardError } from './errors';
import { FEATURE_SPEC_VERSION, FEATURES } from './features';

const featureSchema = z.object({
  name: z.string().min(1),
  source: z.enum(['request', 'card', 'merchant']),
  default: z.number(),
  description: z.string(),
});

const thresholdSchema = z.object({
  score: z.number().min(0).max(1),
  fpr: z.number().min(0).max(1),
  recall: z.number().min(0).max(1),
});

export const modelCardSchema = z.object({
  schemaVersion: z.literal(1),
  name: z.string().regex(/^[a-z0-9-]+$/),
  version: z.string().min(1),
  created: z.iso.datetime(),
  description: z.string().optional(),
  framework: z.record(z.string(), z.unknown()),
  training: z.object({
    seed: z.number().int(),
    data: z.record(z.string(), z.unknown()),
    hyperparameters: z.record(z.string(), z.unknown()),
    durationSeconds: z.number().nonnegative(),
  }),
  featureSpecVersion: z.string(),
  features: z.array(featureSchema).min(1),
  input: z.object({
    name: z.string(),
    dtype: z.literal('float32'),
    shape: z.tuple([z.null(), z.number().int()]),
  }),
  output: z.object({ name: z.string(), description: z.string().optional() }),
  calibration: z.object({
    method: z.enum(['none', 'platt']),
    a: z.number().optional(),
    b: z.number().optional(),
    eceBefore: z.number().optional(),
    eceAfter: z.number().optional(),
  }),
  thresholds: z
    .object({ review: thresholdSchema, decline: thresholdSchema })
    .refine((t) => t.review.score <= t.decline.score, {
      message: 'review threshold must not exceed decline',
    }),
  metrics: z.object({
    rocAuc: z.number(),
    prAuc: z.number(),
    recallAt1PctFpr: z.number(),
    ece: z.number(),
    brier: z.number().optional(),
    holdoutRows: z.number().int().positive(),
    holdoutFraudRate: z.number(),
  }),
  scoreHistogram: z
    .object({
      edges: z.array(z.number()).min(2),
      counts: z.array(z.number()),
      fractions: z.array(z.number()),
    })
    .refine((h) => h.counts.length === h.edges.length - 1 && h.fractions.length === h.counts.length, {
      message: 'histogram needs one count and fraction per bin',
    }),
  /**
   * What production monitoring compares against (optional: older cards have none): the top
   * features by the model's importance, published per answer as `FeatureValue`, and each one's
   * training histogram for the drift monitor's PSI.
   */
  monitoring: z
    .object({
      topFeatures: z.array(z.string().min(1)).min(1).max(5),
      /** How importance was measured, and on how many rows (provenance, not used by code). */
      importance: z.string().optional(),
      importanceSample: z.number().int().positive().optional(),
      histogramRows: z.number().int().positive().optional(),
      featureHistograms: z.record(
        z.string(),
        z
          .object({ edges: z.array(z.number()).min(2), fractions: z.array(z.number().min(0).max(1)) })
          .refine((h) => h.fractions.length === h.edges.length - 1, {
            message: 'feature histogram needs one fraction per bin',
          })
          .refine((h) => h.edges.every((edge, i) => i === 0 || edge > (h.edges[i - 1] as number)), {
            message: 'feature histogram edges must be strictly ascending',
          }),
      ),
    })
    .refine((m) => m.topFeatures.every((name) => m.featureHistograms[name] !== undefined), {
      message: 'every top feature needs a feature histogram',
    })
    .optional(),
  replay: z.object({
    file: z.string(),
    cases: z.number().int().positive(),
    tolerance: z.number().positive(),
  }),
});

export type ModelCard = z.infer<typeof modelCardSchema>;

/**
 * Validates a parsed `model.json` and checks that its feature spec is the one this code
 * computes (same names, order and defaults). Throws {@link ModelCardError} naming the problem.
 */
export function parseModelCard(json: unknown): ModelCard {
  const parsed = modelCardSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelCardError(`invalid model card ${describeFirstIssue(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  const card = parsed.data;
  if (card.featureSpecVersion !== FEATURE_SPEC_VERSION) {
    throw new ModelCardError(
      `model ${card.name}@${card.version} was trained on feature spec ${card.featureSpecVersion}, this code computes ${FEATURE_SPEC_VERSION}`,
    );
  }
  const mismatch = FEATURES.findIndex(
    (f, i) => card.features[i]?.name !== f.name || card.features[i]?.default !== f.default,
  );
  if (mismatch >= 0 || card.features.length !== FEATURES.length) {
    throw new ModelCardError(
      `model ${card.name}@${card.version} feature list differs from the code at position ${Math.max(mismatch, FEATURES.length)}`,
    );
  }
  const unknown = card.monitoring?.topFeatures.find((name) => !FEATURES.some((f) => f.name === name));
  if (unknown !== undefined) {
    throw new ModelCardError(`model ${card.name}@${card.version} monitors unknown feature ${unknown}`);
  }
  if (card.input.shape[1] !== FEATURES.length) {
    throw new ModelCardError(`model input has ${card.input.shape[1]} columns, expected ${FEATURES.length}`);
  }
  return card;
}
