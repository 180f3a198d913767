/**
 * One side of a comparison (or the one scorer of a batch): a model directory and a policy
 * file, loaded the way the score function loads them (`functions/score/index.ts`), with the
 * model behind a {@link BatchingModelRunner} so thousands of in-flight replays share a few
 * large inference calls. Scoring goes through `scoreTransaction` itself, so a replay runs the
 * Lambda's vector, model, reason codes and policy, not a copy of them.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BatchingModelRunner } from '#adapters/batching-model-runner';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import type { ValidScoreRequest } from '#domain/contract';
import type { ModelCard } from '#domain/model-card';
import { type Policy, parsePolicy } from '#domain/policy';
import type { ScoringStore } from '#domain/ports';
import { type ScoreOutcome, type ScoringDeps, scoreTransaction } from '#domain/score';

/** Where the default (deployed) model and policy live, as the local stack serves them. */
export const ROOT = resolve(__dirname, '..', '..');
export const CURRENT_MODEL_DIR = resolve(ROOT, 'models', 'fraud-gbdt', '1.0.0');
export const CURRENT_POLICY = resolve(ROOT, 'functions', 'score', 'policy.json');

/** A loaded scorer. */
export interface Arm {
  /** `baseline` / `candidate`, or `batch`. */
  readonly name: string;
  readonly modelDir: string;
  readonly policyPath: string;
  readonly card: ModelCard;
  readonly policy: Policy;
  /** The thresholds the policy applies (its overrides, else the card's). */
  readonly thresholds: { review: number; decline: number };
  /** The model itself, for replays that batch their own rows. */
  readonly model: OnnxModelRunner;
  /** The model behind a batcher, for concurrent `scoreTransaction` calls. */
  readonly runner: BatchingModelRunner;
  /** Everything `scoreTransaction` needs but the store, which each request brings. */
  readonly deps: Omit<ScoringDeps, 'store'>;
}

/** Loads a model directory and a policy file; errors name the file that failed. */
export async function loadArm(
  name: string,
  modelDir: string,
  policyPath: string,
  shared?: Map<string, OnnxModelRunner>,
): Promise<Arm> {
  let policy: Policy;
  try {
    policy = parsePolicy(JSON.parse(await readFile(policyPath, 'utf8')));
  } catch (error) {
    throw new Error(`${name} policy ${policyPath}: ${(error as Error).message}`, { cause: error });
  }
  const key = resolve(modelDir);
  let model = shared?.get(key);
  if (model === undefined) {
    model = await OnnxModelRunner.load(modelDir);
    shared?.set(key, model);
  }
  const runner = new BatchingModelRunner(model);
  const cardThresholds = {
    review: model.card.thresholds.review.score,
    decline: model.card.thresholds.decline.score,
  };
  return {
    name,
    modelDir,
    policyPath,
    card: model.card,
    policy,
    thresholds: {
      review: policy.thresholds.review ?? cardThresholds.review,
      decline: policy.thresholds.decline ?? cardThresholds.decline,
    },
    model,
    runner,
    deps: {
      model: runner,
      thresholds: cardThresholds,
      policy,
      // The read is an in-memory snapshot; the budget only has to outlast a queue of replays.
      featureTimeoutMs: 600_000,
      // The score function's default freshness limit (FEATURE_MAX_AGE_SECONDS, 90 days).
      maxFeatureAgeMs: 90 * 86_400_000,
    },
  };
}

/** Scores one request against `store` (normally a snapshot) exactly as the Lambda would. */
export function scoreWith(arm: Arm, store: ScoringStore, request: ValidScoreRequest): Promise<ScoreOutcome> {
  return scoreTransaction({ ...arm.deps, store }, request);
}
