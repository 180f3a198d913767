/**
 * The API contract: request schemas for `POST /v1/score` and `POST /v1/events`. The
 * handlers validate with these schemas and `api/openapi.ts` generates the OpenAPI
 * document from them, so the two cannot drift.
 */
import { z } from 'zod';
import { CHANNELS, LABELS, type ScoreRequest } from './types';

/** Largest accepted request body, in bytes. */
export const MAX_BODY_BYTES = 8 * 1024;

/**
 * Deepest accepted JSON nesting (arrays and objects). A valid body nests 3 deep (a batch of
 * events); the limit keeps every walk over a body (PAN check, schema) far from the stack's end.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * The field rules the schemas below are built from. The precompiled fast paths that try a
 * common valid body before the schemas (the score function's `request-check.ts`, the training
 * export's `event-line.ts`) test these same values, so a rule changed here changes both.
 */
export const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
export const MAX_ID_LENGTH = 128;
export const MCC_PATTERN = /^\d{4}$/;
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
export const COUNTRY_PATTERN = /^[A-Z]{2}$/;
/** Largest amount, in minor units. */
export const MAX_AMOUNT = 1e11;

/** Whether `value` passes the schemas' identifier rule (`id()` below). */
export const isContractId = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= MAX_ID_LENGTH && ID_PATTERN.test(value);

const id = (description: string) =>
  z
    .string()
    .min(1)
    .max(MAX_ID_LENGTH)
    .regex(ID_PATTERN, 'letters, digits and . _ : - only')
    .describe(description);

const isoTimestamp = z.iso.datetime({ offset: true }).describe('ISO-8601 time with offset or Z');

/**
 * The pattern zod builds for the contract's ISO timestamps (a regex test is all it checks),
 * taken from the schema so the fast paths cannot differ from it; loading fails if a zod
 * upgrade stops exposing it.
 */
export const TIMESTAMP_PATTERN: RegExp = (() => {
  const pattern = isoTimestamp.def.pattern;
  if (!(pattern instanceof RegExp)) throw new Error('the contract timestamp has no pattern');
  return pattern;
})();

export const scoreRequestSchema = z
  .strictObject({
    transactionId: id('Unique per authorization; retries reuse it and get the same answer'),
    cardId: id('Card token from the vault; raw card numbers are rejected'),
    merchantId: id('Merchant identifier'),
    mcc: z.string().regex(MCC_PATTERN, 'four digits').describe('ISO 18245 merchant category code'),
    amount: z.number().int().positive().max(MAX_AMOUNT).describe('Amount in minor units (cents)'),
    currency: z
      .string()
      .regex(CURRENCY_PATTERN, 'ISO 4217 code, e.g. EUR')
      .describe('ISO 4217 alphabetic code'),
    country: z
      .string()
      .regex(COUNTRY_PATTERN, 'ISO 3166-1 alpha-2 code, e.g. DE')
      .describe('Country where the transaction happens'),
    channel: z.enum(CHANNELS),
    timestamp: isoTimestamp,
    deviceId: id('Device fingerprint').optional(),
    ip: z.union([z.ipv4(), z.ipv6()]).optional(),
    customerId: id('Customer identifier').optional(),
  })
  .meta({ id: 'ScoreRequest' });

const eventBase = {
  eventId: id('Unique per event; redelivery reuses it'),
  transactionId: id('The transaction this event is about'),
  cardId: id('Card token'),
  merchantId: id('Merchant identifier'),
  timestamp: isoTimestamp,
};

export const authorizationEventSchema = z.strictObject({
  type: z.literal('authorization'),
  ...eventBase,
  mcc: scoreRequestSchema.shape.mcc,
  amount: scoreRequestSchema.shape.amount,
  currency: scoreRequestSchema.shape.currency,
  country: scoreRequestSchema.shape.country,
  channel: scoreRequestSchema.shape.channel,
  deviceId: scoreRequestSchema.shape.deviceId,
  outcome: z.enum(['approved', 'declined']),
});

export const labelEventSchema = z.strictObject({
  type: z.literal('label'),
  ...eventBase,
  label: z.enum(LABELS),
  transactionTimestamp: isoTimestamp,
});

export const eventSchema = z.discriminatedUnion('type', [authorizationEventSchema, labelEventSchema]);

export const eventsBatchSchema = z.strictObject({ events: z.array(eventSchema).min(1).max(25) });

/** `POST /v1/events` takes one event or a batch of up to 25. */
export const eventsRequestSchema = z.union([eventSchema, eventsBatchSchema]).meta({ id: 'EventsRequest' });

/** Picks the single-event or batch schema from the body's shape, so errors name the failing field. */
export function eventsSchemaFor(json: unknown): typeof eventSchema | typeof eventsBatchSchema {
  return json !== null && typeof json === 'object' && 'events' in json ? eventsBatchSchema : eventSchema;
}

/** A machine-readable error, returned as `{ error: { code, message, field } }`. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      field: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' });

export const scoreResponseSchema = z
  .object({
    transactionId: z.string(),
    score: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe('Calibrated fraud probability; null when no model scored'),
    decision: z.enum(['approve', 'review', 'decline']),
    reasons: z.array(
      z.object({
        code: z.string(),
        feature: z.string().optional(),
        value: z.number().optional(),
        contribution: z.number().optional(),
      }),
    ),
    model: z.object({ name: z.string(), version: z.string() }).nullable(),
    policyVersion: z.string(),
    degraded: z.array(z.enum(['features_unavailable', 'model_unavailable', 'neural_unavailable'])),
  })
  .meta({ id: 'ScoreResponse' });

export type ScoreResponse = z.infer<typeof scoreResponseSchema>;

/** The answer to `POST /v1/events` (202): how many events were taken and their ids. */
export const eventsAcceptedSchema = z
  .object({ accepted: z.number().int().min(1).max(25), eventIds: z.array(z.string()) })
  .meta({ id: 'EventsAccepted' });

export type ValidScoreRequest = z.infer<typeof scoreRequestSchema> & ScoreRequest;
