/**
 * The ports the scoring domain depends on. Adapters implement them; tests pass fakes.
 */
import type { CardState, MerchantState } from './features';
import type { SaveAnswerResult, StoredAnswer } from './idempotency';

/** Identifies the model that produced a score. */
export interface ModelIdentity {
  name: string;
  version: string;
}

/** Runs the tree model on a batch of feature vectors. */
export interface ModelRunner {
  readonly model: ModelIdentity;
  /** One calibrated probability per row, in row order. */
  score(rows: readonly (readonly number[])[]): Promise<number[]>;
}

/** What the feature store returns for one request. */
export interface FeatureLookup {
  card?: CardState;
  merchant?: MerchantState;
  /** Age in ms of each item found (now − updatedAt); absent for items not found. */
  ageMs: { card?: number; merchant?: number };
}

/** Keys of one scoring read. */
export interface ScoringKeys {
  cardId: string;
  merchantId: string;
  /** Also read the stored answer of this transaction (idempotent retries); omitted when idempotency is off. */
  transactionId?: string;
}

/** The features and, when asked for, the stored answer of an earlier request with the same transactionId. */
export interface ScoringLookup extends FeatureLookup {
  /** A live (unexpired) stored answer; absent when there is none. */
  answer?: StoredAnswer;
}

/**
 * The scoring path's store: one read round trip (card, merchant and the stored answer) and
 * one conditional write of the answer. Implementations must honour the abort signal.
 */
export interface ScoringStore {
  read(keys: ScoringKeys, signal?: AbortSignal): Promise<ScoringLookup>;
  /** Stores the answer unless a live one exists for this transactionId. */
  saveAnswer(transactionId: string, answer: StoredAnswer, signal?: AbortSignal): Promise<SaveAnswerResult>;
}
