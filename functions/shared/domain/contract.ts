/**
 * The API contract: request schemas for `POST /v1/score` and `POST /v1/events`. The
 * handlers validate with these schemas and `api/openapi.ts` generates the OpenAPI
 * document from them, so the two cannot drift.
 */
import { z } from 'zod';
import { CHANNELS, LABELS, type ScoreRequest } from './types';

/** Largest accepted request body, in bytes. */
export const MAX_BODY_BYTES = 8 * 1024;

const id = (description: string) =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only')
    .describe(description);

const isoTimestamp = z.iso.datetime({ offset: true }).describe('ISO-8601 time with offset or Z');

export const scoreRequestSchema = z
  .strictObject({
    transactionId: id('Unique per authorization; retries reuse it and get the same answer'),
    cardId: id('Card token from the vault; raw card numbers are rejected'),
    merchantId: id('Merchant identifier'),
    mcc: z
      .string()
      .regex(/^\d{4}$/, 'four digits')
      .describe('ISO 18245 merchant category code'),
    amount: z.number().int().positive().max(1e11).describe('Amount in minor units (cents)'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. EUR')
      .describe('ISO 4217 alphabetic code'),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, e.g. DE')
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

// --- Raw card numbers (PAN) -------------------------------------------------------------

/** Luhn checksum over a digit string. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * A PAN as people write it: 13–19 digits in one run, or in the groupings printed on cards with
 * one separator (space or dash) used throughout: 4-4-4-4 with an optional last group of 1–3
 * (Visa, Mastercard, Discover, 19-digit Maestro/UnionPay) and 4-6-4 / 4-6-5 (Diners, Amex).
 * Any other digit-dash mix is not a candidate: ids like `tx-1795426770881-10` (epoch ms and a
 * sequence number) would otherwise read as a 15-digit number and fail Luhn only nine times in ten.
 */
const PAN_CANDIDATE =
  /(?<!\d)(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?!\d)/g;

/**
 * Card networks issue PANs with a leading digit of 2–6 (Mastercard 2/5, Amex/Diners/JCB 3,
 * Visa 4, Discover/UnionPay/Maestro 6); UATP airline cards start with 1 and have 15 digits.
 * The check matters: a 13-digit epoch-milliseconds timestamp (leading 1) inside an id passes
 * Luhn one time in ten and would otherwise be rejected as a card number.
 */
function plausibleIssuer(digits: string): boolean {
  const first = digits.charCodeAt(0) - 48;
  return (first >= 2 && first <= 6) || (first === 1 && digits.length === 15);
}

/** True when the string contains something that looks like a card number (13–19 digits, a card-network leading digit, passing Luhn). */
export function containsPan(value: string): boolean {
  for (const match of value.matchAll(PAN_CANDIDATE)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && plausibleIssuer(digits) && luhnValid(digits))
      return true;
  }
  return false;
}

/**
 * The path of the first string field (at any depth) holding a PAN, or undefined. Runs on the
 * raw parsed body before schema validation, so a PAN is caught even in an unknown field.
 */
export function findPan(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return containsPan(value) ? path.join('.') || '(body)' : undefined;
  if (typeof value === 'number' && Number.isInteger(value)) {
    return containsPan(String(value)) ? path.join('.') || '(body)' : undefined;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findPan(item, [...path, String(i)]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = findPan(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

export type ValidScoreRequest = z.infer<typeof scoreRequestSchema> & ScoreRequest;
