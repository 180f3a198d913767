/**
 * The data both targets serve: the population `npm start` seeds (same simulator, seed and
 * window), folded into feature items with the same code the local stack uses
 * (`FeatureAccumulator` → `bulkWrite`), and the request mix drawn from the same cards'
 * continued stream, as `npm run simulate` does.
 */
import { FeatureAccumulator } from '#adapters/feature-bulk-loader';
import {
  cardFromItem,
  cardToAttributes,
  merchantFromItem,
  merchantToAttributes,
} from '#adapters/feature-items';
import { type FeatureState, featureVector, toEpochMs } from '#domain/features';
import type { ScoreRequest, TransactionEvent } from '#domain/types';
import { requestOf } from '../../models/training/export-features';
import { type SimulatedEvent, simulate } from '../../models/training/simulator';
import { seededWindowStart } from '../local/app';

/** The seeded population, as `npm start -- --cards --days --seed` takes it. */
export interface Population {
  readonly cards: number;
  readonly days: number;
  readonly seed: number;
}

/** Items older than this would be expired by the TTL; the local stack uses the same. */
const TTL_SECONDS = 180 * 86_400;

/**
 * The state the local stack holds when it took its own `now` somewhere in
 * `[notBefore, notAfter]` (it does not print it): every event up to `notBefore` is certainly
 * in it; events in between may or may not be, so their cards and merchants are marked
 * ambiguous and left out of the request mix.
 */
export interface SeededState {
  readonly accumulator: FeatureAccumulator;
  readonly items: Record<string, unknown>[];
  readonly windowStart: string;
  readonly ambiguousCards: ReadonlySet<string>;
  readonly ambiguousMerchants: ReadonlySet<string>;
  readonly events: number;
}

/** Folds the seeded window exactly as `npm start` does, with events up to `notBefore`. */
export function seededState(population: Population, notBefore: number, notAfter: number): SeededState {
  const windowStart = seededWindowStart(notBefore, population.days);
  if (seededWindowStart(notAfter, population.days) !== windowStart) {
    throw new Error(
      'the local stack started across midnight UTC, so its seeded window is unknown: run again',
    );
  }
  const accumulator = new FeatureAccumulator();
  const ambiguousCards = new Set<string>();
  const ambiguousMerchants = new Set<string>();
  for (const event of simulate({ ...population, start: windowStart })) {
    const ms = Date.parse(event.timestamp);
    if (ms > notAfter) continue;
    if (ms > notBefore) {
      ambiguousCards.add(event.cardId);
      ambiguousMerchants.add(event.merchantId);
      continue;
    }
    accumulator.add(stripTruth(event));
  }
  return {
    accumulator,
    items: accumulator.items(notBefore, TTL_SECONDS),
    windowStart,
    ambiguousCards,
    ambiguousMerchants,
    events: accumulator.events,
  };
}

function stripTruth(event: SimulatedEvent): TransactionEvent {
  if (event.type !== 'authorization') return event;
  const { sim: _truth, ...plain } = event;
  return plain;
}

/**
 * The request mix: the seeded cards' next authorizations after `after`, as the payment
 * service would send them, skipping ambiguous cards and merchants.
 */
export function requestMix(
  population: Population,
  state: SeededState,
  after: number,
  count: number,
): ScoreRequest[] {
  const requests: ScoreRequest[] = [];
  const stream = simulate({ ...population, days: population.days + 30, start: state.windowStart });
  for (const event of stream) {
    if (requests.length >= count) break;
    if (event.type !== 'authorization' || Date.parse(event.timestamp) <= after) continue;
    if (state.ambiguousCards.has(event.cardId) || state.ambiguousMerchants.has(event.merchantId)) continue;
    const { sim: _truth, ...authorization } = event;
    requests.push(requestOf(authorization));
  }
  if (requests.length < count) throw new Error(`only ${requests.length} requests in the continued stream`);
  return requests;
}

/**
 * What the project's `featureVector` gives for `request` against the seeded state, after
 * the same item round trip the store does (non-finite times are not stored).
 */
export function expectedFeatures(state: SeededState, request: ScoreRequest): number[] {
  const card = state.accumulator.cards.get(request.cardId);
  const merchant = state.accumulator.merchants.get(request.merchantId);
  const features: FeatureState = {
    card: card ? cardFromItem(roundTrip(cardToAttributes(card))) : undefined,
    merchant: merchant ? merchantFromItem(roundTrip(merchantToAttributes(merchant))) : undefined,
  };
  return featureVector(features, request, toEpochMs(request.timestamp));
}

function roundTrip(item: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(item));
}

/**
 * The peer's training table: one row per simulated authorization (label = the simulator's
 * ground truth), features from the state before the event, computed by the project's code.
 */
export function trainingTable(options: { cards: number; days: number; seed: number; maxRows: number }): {
  csv: string;
  rows: number;
  positives: number;
} {
  const accumulator = new FeatureAccumulator();
  const lines: string[] = ['label'];
  let positives = 0;
  for (const event of simulate({ cards: options.cards, days: options.days, seed: options.seed })) {
    if (event.type === 'authorization') {
      if (lines.length > options.maxRows) break;
      const vector = featureVector(
        { card: accumulator.cards.get(event.cardId), merchant: accumulator.merchants.get(event.merchantId) },
        event,
        toEpochMs(event.timestamp),
      );
      lines.push(`${event.sim.fraud ? 1 : 0},${vector.join(',')}`);
      if (event.sim.fraud) positives += 1;
    }
    accumulator.add(stripTruth(event));
  }
  return { csv: `${lines.join('\n')}\n`, rows: lines.length - 1, positives };
}
