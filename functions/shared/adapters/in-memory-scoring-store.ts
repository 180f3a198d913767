/**
 * The scoring store port held in process memory, for replaying a history offline (backtests,
 * batch scoring): the feature state is folded from the events with the same pure functions the
 * feature updater uses, so `scoreTransaction` reads exactly what it would have read from
 * DynamoDB at that point of the history, without a table.
 *
 * Time is the history's, not the wall clock's: an item's `updatedAt` is the time of the last
 * event applied to it, and a read's age is measured from the time the caller says it is now
 * (the request's timestamp), so the freshness limit behaves as it did online.
 */
import {
  applyCardEvent,
  applyMerchantEvent,
  cloneCardState,
  cloneMerchantState,
  emptyCardState,
  emptyMerchantState,
  type FeatureState,
  foldCardAuthorization,
  foldMerchantAuthorization,
  foldMerchantLabel,
  toEpochMs,
} from '#domain/features';
import type { SaveAnswerResult, StoredAnswer } from '#domain/idempotency';
import type { ScoringKeys, ScoringLookup, ScoringStore } from '#domain/ports';
import type { TransactionEvent } from '#domain/types';

interface Held<S> {
  state: S;
  /** Event time (epoch ms) of the last event applied: the item's `updatedAt`. */
  updatedAt: number;
}

/** Options of {@link InMemoryScoringStore}. */
export interface InMemoryScoringStoreOptions {
  /**
   * "Now" for the age of items read through {@link InMemoryScoringStore.read}, in epoch ms.
   * Replays set it to each request's time; {@link InMemoryScoringStore.snapshot} takes it explicitly.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Fold events into the held state in place instead of replacing it with a folded copy.
   * Several times faster for long replays, but a state read earlier changes under its reader:
   * only for callers that finish with each read before the next event (the backtest), and
   * {@link InMemoryScoringStore.snapshot} then pays for a deep copy.
   * @default false
   */
  readonly inPlace?: boolean;
}

/**
 * Feature items and stored answers in maps. Events are applied once per `eventId` (as the
 * updater's markers do online); answers follow the conditional-write contract of the port.
 */
export class InMemoryScoringStore implements ScoringStore {
  private readonly cards = new Map<string, Held<NonNullable<FeatureState['card']>>>();
  private readonly merchants = new Map<string, Held<NonNullable<FeatureState['merchant']>>>();
  private readonly answers = new Map<string, StoredAnswer>();
  private readonly applied = new Set<string>();
  private readonly now: () => number;
  private readonly inPlace: boolean;

  constructor(options: InMemoryScoringStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.inPlace = options.inPlace ?? false;
  }

  /** Number of distinct cards and merchants held. */
  get size(): { cards: number; merchants: number } {
    return { cards: this.cards.size, merchants: this.merchants.size };
  }

  /**
   * Folds one event into the card and merchant items it touches; a redelivered `eventId` is
   * ignored. Returns whether it was applied.
   */
  apply(event: TransactionEvent, eventMs: number = toEpochMs(event.timestamp)): boolean {
    if (this.applied.has(event.eventId)) return false;
    this.applied.add(event.eventId);
    if (this.inPlace) {
      this.fold(event, eventMs);
      return true;
    }
    if (event.type === 'authorization') {
      const card = this.cards.get(event.cardId);
      this.cards.set(event.cardId, {
        state: applyCardEvent(card?.state, event).state,
        updatedAt: Math.max(card?.updatedAt ?? eventMs, eventMs),
      });
    }
    const merchant = this.merchants.get(event.merchantId);
    const next = applyMerchantEvent(merchant?.state, event);
    if (next.applied) {
      this.merchants.set(event.merchantId, {
        state: next.state,
        updatedAt: Math.max(merchant?.updatedAt ?? eventMs, eventMs),
      });
    }
    return true;
  }

  /** The in-place fold: the same mutating cores the pure `apply…Event` functions run on a copy. */
  private fold(event: TransactionEvent, eventMs: number): void {
    let merchant = this.merchants.get(event.merchantId);
    if (merchant === undefined) {
      merchant = { state: emptyMerchantState(), updatedAt: eventMs };
      this.merchants.set(event.merchantId, merchant);
    }
    merchant.updatedAt = Math.max(merchant.updatedAt, eventMs);
    if (event.type === 'label') {
      foldMerchantLabel(merchant.state, event, toEpochMs(event.transactionTimestamp));
      return;
    }
    foldMerchantAuthorization(merchant.state, event, eventMs);
    let card = this.cards.get(event.cardId);
    if (card === undefined) {
      card = { state: emptyCardState(), updatedAt: eventMs };
      this.cards.set(event.cardId, card);
    }
    card.updatedAt = Math.max(card.updatedAt, eventMs);
    foldCardAuthorization(card.state, event, eventMs);
  }

  /** What a read for these keys returns at `nowMs` (without `inPlace`, items are immutable, so this is a snapshot). */
  lookup(keys: ScoringKeys, nowMs: number): ScoringLookup {
    const card = this.cards.get(keys.cardId);
    const merchant = this.merchants.get(keys.merchantId);
    const age = (item: Held<unknown> | undefined) =>
      item === undefined ? undefined : Math.max(0, nowMs - item.updatedAt);
    const lookup: ScoringLookup = {
      card: card?.state,
      merchant: merchant?.state,
      ageMs: { card: age(card), merchant: age(merchant) },
    };
    if (keys.transactionId !== undefined) {
      const answer = this.answers.get(keys.transactionId);
      if (answer !== undefined && answer.expiresAt * 1000 > nowMs) lookup.answer = answer;
    }
    return lookup;
  }

  async read(keys: ScoringKeys, signal?: AbortSignal): Promise<ScoringLookup> {
    signal?.throwIfAborted();
    return this.lookup(keys, this.now());
  }

  async saveAnswer(
    transactionId: string,
    answer: StoredAnswer,
    signal?: AbortSignal,
  ): Promise<SaveAnswerResult> {
    signal?.throwIfAborted();
    const existing = this.answers.get(transactionId);
    if (existing !== undefined && existing.expiresAt * 1000 > this.now()) return { stored: false, existing };
    this.answers.set(transactionId, answer);
    return { stored: true };
  }

  /**
   * A read-only store frozen at this moment for one request at `nowMs`: the state it returns
   * is the state *before* any event applied after this call, however late the scoring call
   * reads it. This is what lets a replay start many scoring calls, keep folding events, and
   * await the answers together. Answers written to it are dropped (replays do not store them).
   */
  snapshot(keys: ScoringKeys, nowMs: number): ScoringStore {
    const lookup = this.lookup(keys, nowMs);
    if (this.inPlace) {
      if (lookup.card) lookup.card = cloneCardState(lookup.card);
      if (lookup.merchant) lookup.merchant = cloneMerchantState(lookup.merchant);
    }
    return {
      read: async (_keys, signal) => {
        signal?.throwIfAborted();
        return lookup;
      },
      saveAnswer: async () => ({ stored: true }),
    };
  }
}
