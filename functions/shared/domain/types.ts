/**
 * Wire and domain types shared by the simulator, the feature module, the handlers and
 * training. Amounts are integers in minor units (cents) of the settlement currency, as
 * card networks report them; timestamps are ISO-8601 strings on the wire and epoch
 * milliseconds inside the domain.
 */

/** How the card was used. */
export const CHANNELS = ['card_present', 'ecommerce', 'moto', 'contactless'] as const;
export type Channel = (typeof CHANNELS)[number];

/** A scoring request as the payment service sends it (`POST /v1/score`). */
export interface ScoreRequest {
  transactionId: string;
  /** Card token issued by the vault; never a raw card number. */
  cardId: string;
  merchantId: string;
  /** ISO 18245 merchant category code, four digits. */
  mcc: string;
  /** Minor units, > 0. */
  amount: number;
  /** ISO 4217 alphabetic code. */
  currency: string;
  /** ISO 3166-1 alpha-2 country where the transaction happens. */
  country: string;
  channel: Channel;
  /** ISO-8601 time of the authorization. */
  timestamp: string;
  deviceId?: string;
  ip?: string;
  customerId?: string;
}

/** Outcome of an authorization, reported after the decision. */
export type AuthorizationOutcome = 'approved' | 'declined';

/** Labels that arrive later for a transaction. */
export const LABELS = ['chargeback', 'confirmed_fraud', 'confirmed_legitimate'] as const;
export type Label = (typeof LABELS)[number];

/**
 * An authorization event: the transaction happened (feeds the velocity aggregates). It
 * carries the scored request's transaction fields, so the updater sees what scoring saw.
 */
export interface AuthorizationEvent extends Omit<ScoreRequest, 'ip' | 'customerId'> {
  type: 'authorization';
  /** Unique per event; redelivery of the same event carries the same id. */
  eventId: string;
  outcome: AuthorizationOutcome;
}

/** A label event: a chargeback or a confirmation, arriving days after the transaction. */
export interface LabelEvent {
  type: 'label';
  eventId: string;
  transactionId: string;
  cardId: string;
  merchantId: string;
  label: Label;
  /** When the label was reported. */
  timestamp: string;
  /** When the labelled transaction happened, so the label lands in the right bucket. */
  transactionTimestamp: string;
}

export type TransactionEvent = AuthorizationEvent | LabelEvent;

/** True for labels that mean the transaction was fraudulent. */
export function isFraudLabel(label: Label): boolean {
  return label === 'chargeback' || label === 'confirmed_fraud';
}
