/**
 * Key definitions of the project's DynamoDB tables. The CDK constructs, the local stack and
 * the integration tests all create tables from these, so the schemas cannot drift.
 * No AWS SDK or CDK imports: plain data.
 */

export interface TableSchema {
  partitionKey: { name: string; type: 'S' };
  /** Attribute holding an epoch-seconds expiry, enabled as the table's TTL. */
  ttlAttribute: string;
}

/** Online features: one item per card (`card#<token>`) and per merchant (`merchant#<id>`), labels (`label#<transactionId>`). */
export const FEATURE_TABLE: TableSchema = Object.freeze({
  partitionKey: Object.freeze({ name: 'pk', type: 'S' as const }),
  ttlAttribute: 'ttl',
});

/** Stored score answers for idempotent retries (`answer#<transactionId>`), expiring with `expiration`. */
export const IDEMPOTENCY_TABLE: TableSchema = Object.freeze({
  partitionKey: Object.freeze({ name: 'id', type: 'S' as const }),
  ttlAttribute: 'expiration',
});

export const cardKey = (cardId: string) => `card#${cardId}`;
export const merchantKey = (merchantId: string) => `merchant#${merchantId}`;
export const answerKey = (transactionId: string) => `answer#${transactionId}`;
export const labelKey = (transactionId: string) => `label#${transactionId}`;
