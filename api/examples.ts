/**
 * Request and response examples of the OpenAPI document. Typed by the contract's schemas
 * and parsed with them in `test/unit/openapi.test.ts`, so an example cannot show a body
 * the API would refuse or never send.
 */
import type { z } from 'zod';
import type {
  eventsAcceptedSchema,
  eventsRequestSchema,
  scoreRequestSchema,
  scoreResponseSchema,
} from '../functions/shared/domain/contract';

/** A named example as OpenAPI 3.0 writes it. */
export interface Example<T> {
  readonly summary: string;
  readonly value: T;
}

export const SCORE_REQUEST_EXAMPLES = {
  ecommerce: {
    summary: 'An e-commerce authorization with a device fingerprint',
    value: {
      transactionId: 'tx-2026-11-23-000123',
      cardId: 'card_000042',
      merchantId: 'm_00007',
      mcc: '5411',
      amount: 4599,
      currency: 'EUR',
      country: 'DE',
      channel: 'ecommerce',
      timestamp: '2026-11-23T10:00:00Z',
      deviceId: 'dev-9',
      ip: '203.0.113.7',
    },
  },
  cardPresent: {
    summary: 'A card-present authorization with only the required fields',
    value: {
      transactionId: 'tx-2026-11-23-000124',
      cardId: 'card_000108',
      merchantId: 'm_00311',
      mcc: '5812',
      amount: 1250,
      currency: 'EUR',
      country: 'FR',
      channel: 'card_present',
      timestamp: '2026-11-23T12:30:05.120+01:00',
    },
  },
} as const satisfies Record<string, Example<z.input<typeof scoreRequestSchema>>>;

export const SCORE_RESPONSE_EXAMPLES = {
  approved: {
    summary: 'Scored by the model and approved',
    value: {
      transactionId: 'tx-2026-11-23-000123',
      score: 0.0031,
      decision: 'approve',
      reasons: [{ code: 'CARD_COUNT_1H', feature: 'card_count_1h', value: 3, contribution: 0.0012 }],
      model: { name: 'fraud-gbdt', version: '1.0.0' },
      policyVersion: '2026-11-23.1',
      degraded: [],
    },
  },
  degraded: {
    summary: 'Features unavailable: scored with the model card defaults, flagged in `degraded`',
    value: {
      transactionId: 'tx-2026-11-23-000124',
      score: 0.0412,
      decision: 'approve',
      reasons: [],
      model: { name: 'fraud-gbdt', version: '1.0.0' },
      policyVersion: '2026-11-23.1',
      degraded: ['features_unavailable'],
    },
  },
  rulesOnly: {
    summary: "Model unavailable: the policy's rules and fallback decide; `score` and `model` are null",
    value: {
      transactionId: 'tx-2026-11-23-000125',
      score: null,
      decision: 'approve',
      reasons: [],
      model: null,
      policyVersion: '2026-11-23.1',
      degraded: ['model_unavailable'],
    },
  },
} as const satisfies Record<string, Example<z.input<typeof scoreResponseSchema>>>;

const authorization = {
  type: 'authorization',
  eventId: 'evt-000123-auth',
  transactionId: 'tx-2026-11-23-000123',
  cardId: 'card_000042',
  merchantId: 'm_00007',
  timestamp: '2026-11-23T10:00:01Z',
  mcc: '5411',
  amount: 4599,
  currency: 'EUR',
  country: 'DE',
  channel: 'ecommerce',
  deviceId: 'dev-9',
  outcome: 'approved',
} as const;

const label = {
  type: 'label',
  eventId: 'evt-000098-label',
  transactionId: 'tx-2026-11-20-000098',
  cardId: 'card_000042',
  merchantId: 'm_00019',
  timestamp: '2026-11-23T09:12:00Z',
  label: 'chargeback',
  transactionTimestamp: '2026-11-20T18:44:10Z',
} as const;

export const EVENTS_REQUEST_EXAMPLES = {
  single: { summary: 'One authorization outcome', value: authorization },
  batch: {
    summary: 'A batch (up to 25): an outcome and a chargeback label',
    value: { events: [authorization, label] },
  },
} as const satisfies Record<string, Example<z.input<typeof eventsRequestSchema>>>;

export const EVENTS_ACCEPTED_EXAMPLES = {
  batch: {
    summary: 'Both events of the batch taken',
    value: { accepted: 2, eventIds: ['evt-000123-auth', 'evt-000098-label'] },
  },
} as const satisfies Record<string, Example<z.input<typeof eventsAcceptedSchema>>>;
