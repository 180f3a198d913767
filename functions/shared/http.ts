/**
 * HTTP plumbing shared by the API handlers: body parsing and the one place that maps errors
 * to responses (through `ERROR_STATUS`). Error messages never echo field values, so a raw
 * card number in the body cannot reach a response or a log.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from '#domain/contract';
import {
  ERROR_STATUS,
  type ErrorCode,
  FraudScoringError,
  IdempotencyConflictError,
  ValidationError,
} from '#domain/errors';
import { containsPan, findPan, REDACTED, redactPans, safeFieldPath } from '#domain/pan';

const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** Public messages of the server-side codes: internals never reach the caller. */
const SERVER_MESSAGES: Partial<Record<ErrorCode, string>> = {
  QUEUE_UNAVAILABLE: 'events could not be accepted; retry',
  INTERNAL_ERROR: 'internal error',
};

/** The API code an error is answered with: its own, or `INTERNAL_ERROR` for anything unexpected. */
function codeOf(error: unknown): ErrorCode {
  return error instanceof FraudScoringError && error.code ? error.code : 'INTERNAL_ERROR';
}

/** The HTTP status an error is answered with (500 for anything without a known code). */
export function statusOf(error: unknown): number {
  return ERROR_STATUS[codeOf(error)];
}

/** Maps any error to a response: known codes keep their code and status, everything else is a 500 without details. */
export function errorResponse(error: unknown): APIGatewayProxyResult {
  const code = codeOf(error);
  const status = ERROR_STATUS[code];
  const message = SERVER_MESSAGES[code] ?? (error as Error).message;
  const field = error instanceof ValidationError ? error.field : undefined;
  const headers: Record<string, string> =
    error instanceof IdempotencyConflictError && error.retryAfterSeconds !== undefined
      ? { 'Retry-After': String(error.retryAfterSeconds) }
      : {};
  return jsonResponse(status, { error: { code, message, ...(field ? { field } : {}) } }, headers);
}

/** The value at a path of issue segments, or undefined when any step is missing. */
function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (node, key) =>
      node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
    json,
  );
}

/**
 * Whether JSON text nests arrays/objects deeper than `limit` within its first `scanChars`
 * characters, counted in one pass over the raw text (brackets inside strings do not count)
 * before anything parses or walks it, so depth is bounded without recursion. Malformed text is
 * left to `JSON.parse`; an unclosed `[[[…` still counts as deep.
 */
function nestsDeeperThan(text: string, limit: number, scanChars: number): boolean {
  let depth = 0;
  let inString = false;
  const end = Math.min(text.length, scanChars);
  for (let i = 0; i < end; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) depth -= 1;
  }
  return false;
}

/**
 * Parses and validates a JSON body: nesting depth, size limit, JSON syntax, raw card numbers
 * anywhere (checked before the schema, so even unknown fields and keys are covered), then the
 * schema. `schema` may be chosen from the parsed JSON (e.g. single event vs batch), so errors
 * name the failing field instead of a union. Every `field` and message that could quote the
 * body goes through the PAN redaction, so no error can echo a card number.
 *
 * `precheck`, when given, is tried after the PAN check and before the schema: a precompiled
 * check that returns the parsed value only when the schema would accept the body and return
 * the same (else `undefined`, and the schema decides), so errors always come from the schema.
 */
export function parseBody<S extends z.ZodType>(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  schema: S | ((json: unknown) => S),
  precheck?: (json: unknown) => z.infer<S> | undefined,
): z.infer<S> {
  if (!event.body) throw new ValidationError('BODY_REQUIRED', 'request body is required');
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  // Depth first, over at most the size limit's worth of text: a nesting attack is named as
  // such even when it is also too long, and the scan stays bounded either way.
  if (nestsDeeperThan(text, MAX_JSON_DEPTH, MAX_BODY_BYTES)) {
    throw new ValidationError('TOO_DEEP', `request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new ValidationError('BODY_TOO_LARGE', `request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError('INVALID_JSON', 'request body is not valid JSON');
  }
  const panField = findPan(json);
  if (panField) {
    throw new ValidationError(
      'PAN_DETECTED',
      'a raw card number was found; send the card token instead',
      panField,
    );
  }
  const checked = precheck?.(json);
  if (checked !== undefined) return checked;
  const chosen = typeof schema === 'function' ? schema(json) : schema;
  const parsed = chosen.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const field = safeFieldPath(path);
    if (issue?.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => (containsPan(key) ? REDACTED : key));
      throw new ValidationError('UNKNOWN_FIELD', redactPans(`unknown field(s): ${keys.join(', ')}`), field);
    }
    const missing = path.length > 0 && valueAt(json, path) === undefined;
    throw new ValidationError(
      missing ? 'MISSING_FIELD' : 'INVALID_FIELD',
      redactPans(issue?.message ?? 'invalid request'),
      field,
    );
  }
  return parsed.data;
}
