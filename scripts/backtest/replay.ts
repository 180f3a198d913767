/**
 * Replays a history through the scoring functions in memory: events in time order, every
 * authorization's feature vector taken from the state *before* its own event, then the event
 * folded in; labels are folded in when they arrive (they move the merchant's fraud counts, as
 * online). Vectors are scored in windows of thousands with one inference call per distinct
 * model, then each arm's policy decides each row.
 *
 * It runs the Lambda's own pieces — the in-memory adapter of the store port, the freshness
 * rule, `featureVector`, the ONNX runner and `decide` — but not the reason-code perturbations
 * of `scoreTransaction` (about 16 extra model rows per request): a backtest needs scores and
 * decisions, and those rows would cost it 15× the inference. `score-batch`, which returns the
 * full answer, goes through `scoreTransaction` itself; a test checks the two agree.
 */
import { InMemoryScoringStore } from '#adapters/in-memory-scoring-store';
import { FEATURE_NAMES, type FeatureState, featureVector } from '#domain/features';
import { type DecisionResult, decide } from '#domain/policy';
import type { ModelRunner, ScoringLookup } from '#domain/ports';
import { segmentKey, segmentOf } from '#domain/segment';
import { type AuthorizationEvent, isFraudLabel, type TransactionEvent } from '#domain/types';
import type { Arm } from './arm';

/** What one arm did with one authorization. */
export interface ArmOutcome extends DecisionResult {
  /** Model probability; undefined when the model failed (the policy's fallback decided). */
  readonly score: number | undefined;
}

/** One scored authorization, with one outcome per arm (in arm order). */
export interface Replayed {
  readonly event: AuthorizationEvent;
  readonly eventMs: number;
  /** Segment key (`segment.ts`), new/known from whether a fresh card item was found. */
  readonly segment: string;
  /** Final label: true when the last label of the transaction says fraud. Unlabelled is legitimate. */
  readonly fraud: boolean;
  readonly labelled: boolean;
  readonly outcomes: readonly ArmOutcome[];
}

/** Options of {@link replayHistory}. */
export interface ReplayOptions {
  /**
   * Authorizations collected per inference window.
   * @default 8192
   */
  readonly window?: number;
  /** Called after each window with the number of events folded so far. */
  readonly onProgress?: (eventsDone: number) => void;
}

/** The final label of each labelled transaction (a later label replaces an earlier one). */
export function finalLabels(events: readonly TransactionEvent[]): Map<string, boolean> {
  const labels = new Map<string, boolean>();
  for (const event of events)
    if (event.type === 'label') labels.set(event.transactionId, isFraudLabel(event.label));
  return labels;
}

/** The state the score function would use: items older than `maxAgeMs` count as missing (`score.ts`). */
export function freshState(lookup: ScoringLookup, maxAgeMs: number): FeatureState {
  const fresh = (age: number | undefined) => age !== undefined && age <= maxAgeMs;
  return {
    card: lookup.card && fresh(lookup.ageMs.card) ? lookup.card : undefined,
    merchant: lookup.merchant && fresh(lookup.ageMs.merchant) ? lookup.merchant : undefined,
  };
}

interface Row {
  event: AuthorizationEvent;
  eventMs: number;
  vector: number[];
  cardFound: boolean;
}

/** Scores `vectors` once per distinct model; a failed call leaves that model's scores undefined. */
async function scoreByModel(
  arms: readonly Arm[],
  vectors: number[][],
): Promise<Map<ModelRunner, number[] | undefined>> {
  const scores = new Map<ModelRunner, number[] | undefined>();
  for (const arm of arms) {
    if (scores.has(arm.model)) continue;
    try {
      scores.set(arm.model, await arm.model.score(vectors));
    } catch {
      scores.set(arm.model, undefined);
    }
  }
  return scores;
}

/**
 * Folds `events` (time-ordered, e.g. from `readEvents`) and calls `onScored` for every
 * authorization in order. `times` are the events' epoch milliseconds, parallel to `events`.
 */
export async function replayHistory(
  events: readonly TransactionEvent[],
  times: ArrayLike<number>,
  arms: readonly Arm[],
  onScored: (replayed: Replayed) => void,
  options: ReplayOptions = {},
): Promise<void> {
  const window = options.window ?? 8192;
  const maxAgeMs = arms[0]?.deps.maxFeatureAgeMs ?? Number.POSITIVE_INFINITY;
  const labels = finalLabels(events);
  // In place: each vector is computed before the next event is folded, so no read outlives its state.
  const store = new InMemoryScoringStore({ inPlace: true });
  let rows: Row[] = [];

  const drain = async (done: number) => {
    const scores = await scoreByModel(
      arms,
      rows.map((r) => r.vector),
    );
    // One features object refilled per row: `decide` reads it synchronously and keeps nothing,
    // and a million short-lived 21-key objects were a visible share of the run.
    const features: Record<string, number> = Object.fromEntries(FEATURE_NAMES.map((name) => [name, 0]));
    rows.forEach((row, i) => {
      for (let k = 0; k < FEATURE_NAMES.length; k += 1)
        features[FEATURE_NAMES[k] as string] = row.vector[k] as number;
      const outcomes = arms.map((arm): ArmOutcome => {
        const raw = scores.get(arm.model)?.[i];
        const score = raw !== undefined && Number.isFinite(raw) ? raw : undefined;
        return {
          score,
          ...decide(arm.policy, { score, features, request: row.event, thresholds: arm.deps.thresholds }),
        };
      });
      const label = labels.get(row.event.transactionId);
      onScored({
        event: row.event,
        eventMs: row.eventMs,
        segment: segmentKey(segmentOf(row.event, row.cardFound)),
        fraud: label === true,
        labelled: label !== undefined,
        outcomes,
      });
    });
    rows = [];
    options.onProgress?.(done);
  };

  for (let i = 0; i < events.length; i += 1) {
    const event = events[i] as TransactionEvent;
    const eventMs = times[i] as number;
    if (event.type === 'authorization') {
      const state = freshState(
        store.lookup({ cardId: event.cardId, merchantId: event.merchantId }, eventMs),
        maxAgeMs,
      );
      rows.push({
        event,
        eventMs,
        vector: featureVector(state, event, eventMs),
        cardFound: state.card !== undefined,
      });
    }
    store.apply(event, eventMs);
    if (rows.length >= window) await drain(i + 1);
  }
  await drain(events.length);
}
