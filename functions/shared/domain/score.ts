/**
 * Scores one transaction: read features, build the vector, run the model with reason-code
 * perturbations in one batch, apply the policy. Degradation is part of the result, never
 * an exception: a failed feature read scores with defaults, a failed model falls back to
 * rules only.
 */
import type { ScoreResponse, ValidScoreRequest } from './contract';
import { FEATURE_DEFAULTS, FEATURE_NAMES, type FeatureState, featureVector, toEpochMs } from './features';
import { type DecisionResult, decide, type Policy } from './policy';
import type { FeatureStore, ModelRunner } from './ports';

export type Degradation = ScoreResponse['degraded'][number];

export interface ScoringDeps {
  features: FeatureStore;
  /** Undefined when the model could not be loaded at init: every request is then rules-only. */
  model?: ModelRunner;
  thresholds: { review: number; decline: number };
  policy: Policy;
  /** Budget for the feature read; past it the request scores with defaults. */
  featureTimeoutMs: number;
  /** Items whose `updatedAt` is older than this are treated as missing. */
  maxFeatureAgeMs: number;
  /** Monotonic milliseconds for the timings; injectable for tests. */
  clock?: () => number;
  /** How many feature reasons to return. */
  maxReasons?: number;
}

/** What the handler needs to emit metrics and logs, beside the response. */
export interface ScoreOutcome {
  response: ScoreResponse;
  timings: { featuresMs: number; inferenceMs: number; totalMs: number };
  signals: {
    cardFound: boolean;
    merchantFound: boolean;
    /** Items found but older than the freshness limit (treated as missing). */
    staleItems: number;
    /** Age in ms of the card item when found. */
    cardAgeMs?: number;
    decidedBy: DecisionResult['decidedBy'];
    /** Error that caused a degradation, for the log. */
    errors: { stage: 'features' | 'inference'; message: string }[];
  };
}

/** Runs `work` with an abort signal that fires after `ms`. */
async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Contribution of each feature = score − score with that feature set to its default.
 * Only features that differ from their default are perturbed, all in the same batch as
 * the real row, so reason codes cost one inference call.
 */
function perturbations(vector: readonly number[]): { rows: number[][]; indices: number[] } {
  const rows: number[][] = [vector.slice()];
  const indices: number[] = [];
  vector.forEach((value, i) => {
    const fallback = FEATURE_DEFAULTS[i] as number;
    if (value === fallback) return;
    const row = vector.slice();
    row[i] = fallback;
    rows.push(row);
    indices.push(i);
  });
  return { rows, indices };
}

export async function scoreTransaction(deps: ScoringDeps, request: ValidScoreRequest): Promise<ScoreOutcome> {
  const clock = deps.clock ?? (() => performance.now());
  const started = clock();
  const degraded: Degradation[] = [];
  const errors: ScoreOutcome['signals']['errors'] = [];
  const now = toEpochMs(request.timestamp);

  // 1. Features (one round trip; defaults when it fails or is too slow).
  let state: FeatureState = {};
  let staleItems = 0;
  let cardAgeMs: number | undefined;
  try {
    const found = await withTimeout(deps.featureTimeoutMs, (signal) =>
      deps.features.get(request.cardId, request.merchantId, signal),
    );
    const fresh = (age: number | undefined) => age !== undefined && age <= deps.maxFeatureAgeMs;
    if (found.card && fresh(found.ageMs.card)) state.card = found.card;
    else if (found.card) staleItems += 1;
    if (found.merchant && fresh(found.ageMs.merchant)) state.merchant = found.merchant;
    else if (found.merchant) staleItems += 1;
    cardAgeMs = found.ageMs.card;
  } catch (error) {
    state = {};
    degraded.push('features_unavailable');
    errors.push({ stage: 'features', message: (error as Error).message });
  }
  const featuresDone = clock();

  // 2. Vector and model (with reason-code perturbations in the same batch).
  const vector = featureVector(state, request, now);
  let score: number | undefined;
  let featureReasons: ScoreResponse['reasons'] = [];
  if (deps.model) {
    try {
      const { rows, indices } = perturbations(vector);
      const scores = await deps.model.score(rows);
      score = scores[0] as number;
      if (!Number.isFinite(score)) throw new Error(`model returned ${score}`);
      featureReasons = indices
        .map((featureIndex, k) => ({
          code: (FEATURE_NAMES[featureIndex] as string).toUpperCase(),
          feature: FEATURE_NAMES[featureIndex] as string,
          value: vector[featureIndex] as number,
          contribution: (score as number) - (scores[k + 1] as number),
        }))
        .filter((r) => r.contribution > 0)
        .sort((a, b) => b.contribution - a.contribution)
        .slice(0, deps.maxReasons ?? 3);
    } catch (error) {
      score = undefined;
      featureReasons = [];
      errors.push({ stage: 'inference', message: (error as Error).message });
    }
  }
  if (score === undefined) degraded.push('model_unavailable');
  const inferenceDone = clock();

  // 3. Policy.
  const features = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, vector[i] as number]));
  const result = decide(deps.policy, { score, features, request, thresholds: deps.thresholds });

  return {
    response: {
      transactionId: request.transactionId,
      score: score === undefined ? null : round(score, 6),
      decision: result.decision,
      reasons: [
        ...result.reasons.map((code) => ({ code })),
        ...featureReasons.map((r) => ({ ...r, contribution: round(r.contribution ?? 0, 6) })),
      ],
      model: score === undefined || !deps.model ? null : deps.model.model,
      policyVersion: deps.policy.policyVersion,
      degraded,
    },
    timings: {
      featuresMs: featuresDone - started,
      inferenceMs: inferenceDone - featuresDone,
      totalMs: clock() - started,
    },
    signals: {
      cardFound: state.card !== undefined,
      merchantFound: state.merchant !== undefined,
      staleItems,
      cardAgeMs,
      decidedBy: result.decidedBy,
      errors,
    },
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
