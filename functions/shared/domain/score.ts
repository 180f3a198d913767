/**
 * Scores one transaction: one read (features, and the stored answer of a retried
 * transactionId), the vector, the model with reason-code perturbations in one batch, the
 * policy, and one conditional write of the answer. Degradation is part of the result, never
 * an exception: a failed or slow feature read scores with defaults, a failed model falls back
 * to rules only, a failed answer write answers anyway. Every I/O runs under a hard deadline.
 *
 * Scorers beside the tree (the neural model live or in shadow, a shadow tree model) come in
 * through one {@link ScorerComposition}: a concurrent one starts right after the read, while the
 * tree runs; the live one is awaited before the decision, shadows after it.
 */
import type { ScoreResponse, ValidScoreRequest } from './contract';
import { withDeadline } from './deadline';
import { IdempotencyConflictError } from './errors';
import { FEATURE_DEFAULTS, FEATURE_NAMES, type FeatureState, featureVector, toEpochMs } from './features';
import { inProgress, replayOf, requestHash } from './idempotency';
import { type DecisionResult, decide, type Policy } from './policy';
import type { ModelRunner, ScoringLookup, ScoringStore } from './ports';
import {
  type CompanionCall,
  type CompanionInputs,
  type CompanionRun,
  type CompanionScorer,
  runCompanion,
  type ScorerComposition,
  type ShadowResult,
  TREE_ONLY,
} from './scorers';

export type Degradation = ScoreResponse['degraded'][number];

/** Idempotent retries: answers are stored per transactionId and replayed. */
export interface IdempotencySettings {
  /** Budget for the answer write; past it the answer is returned unstored. */
  timeoutMs: number;
  /** How long a stored answer counts. */
  ttlSeconds: number;
}

export interface ScoringDeps {
  /** Features and stored answers: one read and one conditional write per request. */
  store: ScoringStore;
  /** Undefined when the model could not be loaded at init: every request is then rules-only. */
  model?: ModelRunner;
  thresholds: { review: number; decline: number };
  policy: Policy;
  /** Budget for the read; past it the request scores with defaults. */
  featureTimeoutMs: number;
  /** Items whose `updatedAt` is older than this are treated as missing. */
  maxFeatureAgeMs: number;
  /** Store and replay answers per transactionId; off when unset. */
  idempotency?: IdempotencySettings;
  /** Monotonic milliseconds for the timings; injectable for tests. */
  clock?: () => number;
  /** Wall-clock epoch milliseconds for answer expiry; injectable for tests. */
  now?: () => number;
  /** How many feature reasons to return. */
  maxReasons?: number;
  /** Scorers beside the tree: a live companion and shadows. @default the tree alone */
  scorers?: ScorerComposition;
}

/**
 * What happened to idempotency on this request: `stored` (the answer was written), `replayed`
 * (a stored answer was returned: a retry, or a concurrent duplicate that lost the race),
 * `unavailable` (the store could not be read or written in time: answered unstored), `off`.
 */
export type IdempotencyOutcome = 'stored' | 'replayed' | 'unavailable' | 'off';

/** What the handler needs to emit metrics and logs, beside the response. */
export interface ScoreOutcome {
  response: ScoreResponse;
  idempotency: IdempotencyOutcome;
  timings: {
    featuresMs: number;
    /** Tree inference and the live companion, up to the decision. */
    inferenceMs: number;
    /** Waiting for shadows after the decision (0 without shadows): what shadow scoring adds. */
    shadowMs: number;
    idempotencyMs: number;
    totalMs: number;
  };
  /** Every shadow that answered, beside the live decision (empty for a replay or without shadows). */
  shadows: ShadowResult[];
  signals: {
    cardFound: boolean;
    merchantFound: boolean;
    /** Items found but older than the freshness limit (treated as missing). */
    staleItems: number;
    /** Age in ms of the card item when found. */
    cardAgeMs?: number;
    /** What decided: the policy's step, or `replay` for a stored answer. */
    decidedBy: DecisionResult['decidedBy'] | 'replay';
    /** The model input (features in `FEATURE_NAMES` order); absent on a replay. */
    vector?: readonly number[];
    /** Error that caused a degradation, for the log. */
    errors: { stage: 'features' | 'inference' | 'companion' | 'idempotency'; message: string }[];
    /** Each companion call (live and shadow) as it happened. */
    companions: CompanionRun[];
  };
}

/**
 * The feature tables the per-answer loops read, bound once. Through a CommonJS transform (tsx,
 * jest: how `npm run bench` runs) every read of an imported binding is a getter call, dozens
 * per answer in these loops; the deployed ESM bundle reads them directly either way.
 */
const NAMES: readonly string[] = FEATURE_NAMES;
const DEFAULTS: readonly number[] = FEATURE_DEFAULTS;
/** Each feature's reason code, upper-cased once. */
const CODES: readonly string[] = NAMES.map((name) => name.toUpperCase());

/**
 * Contribution of each feature = score − score with that feature set to its default.
 * Only features that differ from their default are perturbed, all in the same batch as
 * the real row, so reason codes cost one inference call. Plain loops: this runs on every
 * answer, and the callbacks and closures of `forEach` were a measurable share of its time.
 */
function perturbations(vector: readonly number[]): { rows: number[][]; indices: number[] } {
  const rows: number[][] = [vector.slice()];
  const indices: number[] = [];
  for (let i = 0; i < vector.length; i += 1) {
    const fallback = DEFAULTS[i] as number;
    if (vector[i] === fallback) continue;
    const row = vector.slice();
    row[i] = fallback;
    rows.push(row);
    indices.push(i);
  }
  return { rows, indices };
}

/** The model input by feature name, as the policy's rules read it. */
function namedFeatures(vector: readonly number[]): Record<string, number> {
  const features: Record<string, number> = {};
  for (let i = 0; i < NAMES.length; i += 1) features[NAMES[i] as string] = vector[i] as number;
  return features;
}

/** The default monotonic clock, one function for every request instead of a closure per call. */
const monotonic = (): number => performance.now();

export async function scoreTransaction(deps: ScoringDeps, request: ValidScoreRequest): Promise<ScoreOutcome> {
  const clock = deps.clock ?? monotonic;
  const started = clock();
  const hash = deps.idempotency ? requestHash(request) : undefined;
  const errors: ScoreOutcome['signals']['errors'] = [];

  // 1. One read: features, plus the stored answer when idempotency is on.
  let lookup: ScoringLookup | undefined;
  try {
    lookup = await withDeadline('feature read', deps.featureTimeoutMs, (signal) =>
      deps.store.read(
        {
          cardId: request.cardId,
          merchantId: request.merchantId,
          transactionId: hash && request.transactionId,
        },
        signal,
      ),
    );
  } catch (error) {
    errors.push({ stage: 'features', message: (error as Error).message });
  }
  const featuresDone = clock();
  if (lookup?.answer && hash) {
    return replayed(replayOf(lookup.answer, hash), started, featuresDone, clock);
  }

  // 2. Vector, model and policy.
  const scored = await scoreWith(deps, request, lookup, errors);
  const inferenceDone = clock();

  // 3. One conditional write of the answer; a concurrent duplicate that stored first wins.
  let idempotency: IdempotencyOutcome = 'off';
  if (deps.idempotency && hash) {
    const settings = deps.idempotency;
    const expiresAt = Math.floor((deps.now ?? Date.now)() / 1000) + settings.ttlSeconds;
    try {
      const saved = await withDeadline('answer write', settings.timeoutMs, (signal) =>
        deps.store.saveAnswer(
          request.transactionId,
          { requestHash: hash, response: scored.response, expiresAt },
          signal,
        ),
      );
      if (!saved.stored) {
        if (!saved.existing) throw inProgress();
        return replayed(replayOf(saved.existing, hash), started, featuresDone, clock);
      }
      idempotency = 'stored';
    } catch (error) {
      if (error instanceof IdempotencyConflictError) throw error;
      idempotency = 'unavailable';
      errors.push({ stage: 'idempotency', message: (error as Error).message });
    }
  }
  const done = clock();
  return {
    response: scored.response,
    idempotency,
    timings: {
      featuresMs: featuresDone - started,
      inferenceMs: inferenceDone - featuresDone - scored.shadowMs,
      shadowMs: scored.shadowMs,
      idempotencyMs: done - inferenceDone,
      totalMs: done - started,
    },
    shadows: scored.shadows,
    signals: { ...scored.signals, errors },
  };
}

/** The outcome of a replayed answer: no inference, no metrics beyond the replay itself. */
function replayed(
  response: ScoreResponse,
  started: number,
  featuresDone: number,
  clock: () => number,
): ScoreOutcome {
  const done = clock();
  return {
    response,
    idempotency: 'replayed',
    timings: {
      featuresMs: featuresDone - started,
      inferenceMs: 0,
      shadowMs: 0,
      idempotencyMs: 0,
      totalMs: done - started,
    },
    shadows: [],
    signals: {
      cardFound: false,
      merchantFound: false,
      staleItems: 0,
      decidedBy: 'replay',
      errors: [],
      companions: [],
    },
  };
}

/** Builds the vector from what was read (defaults when the read failed), scores and decides. */
async function scoreWith(
  deps: ScoringDeps,
  request: ValidScoreRequest,
  lookup: ScoringLookup | undefined,
  errors: ScoreOutcome['signals']['errors'],
): Promise<{
  response: ScoreResponse;
  shadows: ShadowResult[];
  shadowMs: number;
  signals: Omit<ScoreOutcome['signals'], 'errors'>;
}> {
  const clock = deps.clock ?? monotonic;
  const scorers = deps.scorers ?? TREE_ONLY;
  const degraded: Degradation[] = [];
  const state: FeatureState = {};
  let staleItems = 0;
  if (lookup) {
    if (lookup.card && isFresh(lookup.ageMs.card, deps.maxFeatureAgeMs)) state.card = lookup.card;
    else if (lookup.card) staleItems += 1;
    if (lookup.merchant && isFresh(lookup.ageMs.merchant, deps.maxFeatureAgeMs))
      state.merchant = lookup.merchant;
    else if (lookup.merchant) staleItems += 1;
  } else {
    degraded.push('features_unavailable');
  }

  const now = toEpochMs(request.timestamp);
  const vector = featureVector(state, request, now);
  // Remote companions first, so their calls are in flight while the tree runs. The tree alone
  // (most environments) builds none of this.
  const calls =
    scorers.live || scorers.shadows.length > 0
      ? new CompanionCalls({ request, state, vector, now }, clock)
      : undefined;
  if (scorers.live?.start === 'concurrent') calls?.start(scorers.live, 'live');
  for (const shadow of scorers.shadows) if (shadow.start === 'concurrent') calls?.start(shadow, 'shadow');

  const tree = await treeScore(deps, vector, errors);
  let score = tree.score;
  let thresholds = deps.thresholds;
  let model = score === undefined || !deps.model ? null : deps.model.model;
  if (scorers.live && score !== undefined) {
    const live = scorers.live;
    const run = await (calls as CompanionCalls).of(live, 'live');
    const combined = run.ok ? finalScore(live, score, run.score as number) : undefined;
    if (combined !== undefined) {
      score = combined;
      thresholds = live.thresholds;
      model = live.model;
    } else {
      if (live.degradation) degraded.push(live.degradation);
      errors.push({ stage: 'companion', message: `${live.name}: ${run.message ?? run.failure}` });
    }
  }
  if (score === undefined) degraded.push('model_unavailable');

  const features = namedFeatures(vector);
  const result = decide(deps.policy, { score, features, request, thresholds });

  // Shadows: after the decision, never changing it.
  const shadowStarted = clock();
  const shadows: ShadowResult[] = [];
  for (const shadow of scorers.shadows) {
    const run = await (calls as CompanionCalls).of(shadow, 'shadow');
    const final = run.ok ? finalScore(shadow, tree.score, run.score as number) : undefined;
    if (final === undefined) continue;
    const decision = decide(deps.policy, {
      score: final,
      features,
      request,
      thresholds: shadow.thresholds,
    }).decision;
    shadows.push({
      name: shadow.name,
      model: shadow.model,
      score: round(final, 6),
      decision,
      agrees: decision === result.decision,
    });
  }
  const shadowMs = scorers.shadows.length > 0 ? clock() - shadowStarted : 0;
  const companions = calls ? await calls.all() : [];

  return {
    response: {
      transactionId: request.transactionId,
      score: score === undefined ? null : round(score, 6),
      decision: result.decision,
      reasons: [
        ...result.reasons.map((code) => ({ code })),
        ...tree.reasons.map((r) => ({ ...r, contribution: round(r.contribution ?? 0, 6) })),
      ],
      model,
      policyVersion: deps.policy.policyVersion,
      degraded,
    },
    shadows,
    shadowMs,
    signals: {
      cardFound: state.card !== undefined,
      merchantFound: state.merchant !== undefined,
      staleItems,
      cardAgeMs: lookup?.ageMs.card,
      decidedBy: result.decidedBy,
      companions,
      vector,
    },
  };
}

function isFresh(ageMs: number | undefined, maxAgeMs: number): boolean {
  return ageMs !== undefined && ageMs <= maxAgeMs;
}

/** The companion calls of one request: each started once, concurrently or when first awaited. */
class CompanionCalls {
  private readonly calls = new Map<CompanionScorer, CompanionCall>();
  constructor(
    private readonly inputs: CompanionInputs,
    private readonly clock: () => number,
  ) {}

  start(companion: CompanionScorer, role: CompanionRun['role']): CompanionCall {
    const call = runCompanion(companion, role, this.inputs, this.clock);
    this.calls.set(companion, call);
    return call;
  }

  /** The call of `companion`, started now if it was not started concurrently. */
  of(companion: CompanionScorer, role: CompanionRun['role']): CompanionCall {
    return this.calls.get(companion) ?? this.start(companion, role);
  }

  /** Every call as it happened, in the order they started. */
  all(): Promise<CompanionRun[]> {
    return Promise.all(this.calls.values());
  }
}

/** A companion's deciding probability, or undefined when it cannot give one (no tree score, a broken value). */
function finalScore(companion: CompanionScorer, tree: number | undefined, own: number): number | undefined {
  try {
    const value = companion.final(tree, own);
    return value >= 0 && value <= 1 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The tree model's score and its reason codes (perturbations in the same batch). */
async function treeScore(
  deps: ScoringDeps,
  vector: readonly number[],
  errors: ScoreOutcome['signals']['errors'],
): Promise<{ score?: number; reasons: ScoreResponse['reasons'] }> {
  if (!deps.model) return { reasons: [] };
  try {
    const { rows, indices } = perturbations(vector);
    const scores = await deps.model.score(rows);
    const score = scores[0] as number;
    if (!Number.isFinite(score)) throw new Error(`model returned ${score}`);
    // The positive contributions, largest first (a stable sort: ties keep feature order).
    const reasons: NonNullable<ScoreResponse['reasons']> = [];
    for (let k = 0; k < indices.length; k += 1) {
      const contribution = score - (scores[k + 1] as number);
      if (!(contribution > 0)) continue;
      const i = indices[k] as number;
      reasons.push({
        code: CODES[i] as string,
        feature: NAMES[i] as string,
        value: vector[i] as number,
        contribution,
      });
    }
    reasons.sort((a, b) => (b.contribution as number) - (a.contribution as number));
    return { score, reasons: reasons.slice(0, deps.maxReasons ?? 3) };
  } catch (error) {
    errors.push({ stage: 'inference', message: (error as Error).message });
    return { reasons: [] };
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
