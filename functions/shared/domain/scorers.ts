/**
 * The scorers beside the tree model, composed in one place: a **live** companion whose score
 * replaces the tree's (the neural model through its stacked combination), and **shadows** that
 * score the same request and are measured against the live decision but never change it.
 *
 * Adding a scorer is a new adapter behind a port plus a {@link CompanionScorer} built from it
 * in the wiring; {@link scoreTransaction} only ever sees this interface. The rules every
 * companion follows:
 * - a `concurrent` companion (a remote call) starts right after the feature read, while the
 *   tree inference runs, so its latency overlaps the tree's; an `after` companion (in-process,
 *   cheap) runs only once the live decision is made;
 * - a companion must bound its own time (the neural client has a budget and a breaker); a
 *   failure is a value here, never an exception: a live companion that fails leaves the tree
 *   score and the tree thresholds in charge with the companion's degradation flag; a shadow
 *   that fails is only counted.
 */
import type { ScoreResponse, ValidScoreRequest } from './contract';
import type { FeatureState } from './features';
import type { Decision } from './policy';
import type { ModelIdentity, ModelRunner } from './ports';

/** Review and decline score thresholds. */
export interface Thresholds {
  review: number;
  decline: number;
}

/** What a companion reads: the request, the state read for it, the tree's vector, the request time. */
export interface CompanionInputs {
  request: ValidScoreRequest;
  /** Fresh items only (stale ones are dropped before), so every scorer sees the same state. */
  state: FeatureState;
  /** The tree model's feature vector, in the feature module's order. */
  vector: readonly number[];
  /** The request's own time in epoch ms (never the wall clock: replays must score the same). */
  now: number;
}

/** A scorer composed with the tree model. */
export interface CompanionScorer {
  /** Short label for logs, metrics and `Server-Timing` (`neural`, `shadow`). */
  readonly name: string;
  /** The model whose version dimensions its metrics. */
  readonly model: ModelIdentity;
  /** `concurrent`: started with the tree inference; `after`: run once the live decision is made. */
  readonly start: 'concurrent' | 'after';
  /** Thresholds that apply to {@link final}'s probability. */
  readonly thresholds: Thresholds;
  /** Flag of the answer when this scorer is live and fails. */
  readonly degradation?: ScoreResponse['degraded'][number];
  /** This scorer's own probability; rejects on any failure, within the scorer's own bound. */
  score(inputs: CompanionInputs): Promise<number>;
  /**
   * The probability that decides, from the tree's score and this scorer's own (a stacker), or
   * this scorer's alone. Throws when it needs a tree score and there is none.
   */
  final(treeScore: number | undefined, own: number): number;
}

/** Which companions a stage runs; both optional. */
export interface ScorerComposition {
  live?: CompanionScorer;
  shadows: readonly CompanionScorer[];
}

/** No companions: the tree model alone. */
export const TREE_ONLY: ScorerComposition = Object.freeze({ shadows: Object.freeze([]) });

/** One companion call as it happened, for metrics and logs. */
export interface CompanionRun {
  name: string;
  role: 'live' | 'shadow';
  model: ModelIdentity;
  /** Milliseconds from its start to its settlement. */
  ms: number;
  ok: boolean;
  /** Its own probability, when it answered. */
  score?: number;
  /** Why not: the error's `kind` when it has one (`timeout`, `breaker_open`, …), else its name. */
  failure?: string;
  message?: string;
}

/** A shadow's paired signal: its score and decision beside the live one. */
export interface ShadowResult {
  name: string;
  model: ModelIdentity;
  /** The probability its decision used (the combined one for a stacked neural shadow). */
  score: number;
  decision: Decision;
  /** Its decision equals the live answer's. */
  agrees: boolean;
}

/** A companion's call in flight, settled as a value. */
export type CompanionCall = Promise<CompanionRun>;

/** Starts a companion; its promise never rejects. */
export function runCompanion(
  companion: CompanionScorer,
  role: CompanionRun['role'],
  inputs: CompanionInputs,
  clock: () => number,
): CompanionCall {
  const started = clock();
  const base = { name: companion.name, role, model: companion.model };
  let call: Promise<number>;
  try {
    call = companion.score(inputs);
  } catch (error) {
    call = Promise.reject(error);
  }
  return call.then(
    (score) => {
      if (!(score >= 0 && score <= 1)) {
        return { ...base, ms: clock() - started, ok: false, failure: 'protocol', message: `score ${score}` };
      }
      return { ...base, ms: clock() - started, ok: true, score };
    },
    (error: unknown) => ({
      ...base,
      ms: clock() - started,
      ok: false,
      failure: failureKind(error),
      message: error instanceof Error ? error.message : String(error),
    }),
  );
}

function failureKind(error: unknown): string {
  const kind = (error as { kind?: unknown })?.kind;
  if (typeof kind === 'string') return kind;
  return error instanceof Error ? error.name : 'error';
}

/**
 * A tree model in shadow: the same feature vector through another ONNX model, with that
 * model card's own thresholds. In-process and one row, so it runs after the decision.
 */
export function treeShadow(runner: ModelRunner, thresholds: Thresholds, name = 'shadow'): CompanionScorer {
  return {
    name,
    model: runner.model,
    start: 'after',
    thresholds,
    async score(inputs) {
      const [score] = await runner.score([inputs.vector]);
      return score as number;
    },
    final: (_tree, own) => own,
  };
}
