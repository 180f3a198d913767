/**
 * `/v1/events` bodies for tests: one approved authorization and one chargeback of card `card_1`
 * at merchant `m_1`, with the fields a test cares about given as overrides.
 */
import type { AuthorizationEvent, LabelEvent } from '#domain/types';

/** An approved e-commerce authorization (EUR, DE, MCC 5411, 100 minor units) with `fields` over it. */
export function authorizationEvent(
  fields: Pick<AuthorizationEvent, 'eventId' | 'transactionId' | 'timestamp'> & Partial<AuthorizationEvent>,
): AuthorizationEvent {
  return {
    type: 'authorization',
    cardId: 'card_1',
    merchantId: 'm_1',
    mcc: '5411',
    amount: 100,
    currency: 'EUR',
    country: 'DE',
    channel: 'ecommerce',
    outcome: 'approved',
    ...fields,
  };
}

/** A chargeback label with `fields` over it. */
export function chargebackEvent(
  fields: Pick<LabelEvent, 'eventId' | 'transactionId' | 'timestamp' | 'transactionTimestamp'> &
    Partial<LabelEvent>,
): LabelEvent {
  return { type: 'label', cardId: 'card_1', merchantId: 'm_1', label: 'chargeback', ...fields };
}
