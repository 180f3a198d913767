/**
 * The ports the scoring domain depends on. Adapters implement them; tests pass fakes.
 */
import type { CardState, MerchantState } from './features';

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

/** Reads online features: one round trip for the card and merchant items. */
export interface FeatureStore {
  get(cardId: string, merchantId: string, signal?: AbortSignal): Promise<FeatureLookup>;
}
