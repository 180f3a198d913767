/**
 * The fast path of `parseEventLine` (event-source.ts) for the usual line of a history: one
 * `/v1/events` body holding a single valid event (keys in any order, extra keys with any value,
 * such as the simulator's `sim`).
 *
 * The real parser runs the contract's zod schemas over `JSON.parse`'s result; zod's walk cost
 * more than the parse itself (about 3.5 of 7.5 µs per line on the simulator's history, most of
 * the reading thread's time). This checks the same rules with plain comparisons and builds the
 * same object. It never decides a line is bad: whenever a line is anything else (not JSON, a
 * batch, an archive record, a field the schema would refuse) it returns undefined and the
 * caller runs the real parser, which accepts or rejects with its usual reason. So the fast path
 * can only go wrong by accepting a line differently from the real parser, and the property
 * tests in `test/unit/event-line.test.ts` hold it to returning exactly the real parser's event
 * (same fields, same key order) for every line it accepts. (A hand-written scanner instead of
 * `JSON.parse` was measured too: string scanning in JavaScript is no faster than V8's parser.)
 */
import {
  COUNTRY_PATTERN,
  CURRENCY_PATTERN,
  isContractId as isId,
  MAX_AMOUNT,
  MCC_PATTERN,
  TIMESTAMP_PATTERN,
} from '#domain/contract';
import {
  type AuthorizationEvent,
  CHANNELS,
  type Channel,
  LABELS,
  type Label,
  type TransactionEvent,
} from '#domain/types';

const OUTCOMES: readonly AuthorizationEvent['outcome'][] = ['approved', 'declined'];

const matches = (value: unknown, pattern: RegExp): value is string =>
  typeof value === 'string' && pattern.test(value);
const isOneOf = <T extends string>(value: unknown, allowed: readonly T[]): value is T =>
  typeof value === 'string' && (allowed as readonly string[]).includes(value);

/** Fields of a parsed line, as the schema reads them (unknown keys are never read). */
type Fields = Partial<Record<keyof AuthorizationEvent | 'label' | 'transactionTimestamp', unknown>>;

/**
 * The event a parsed JSON value holds, as the contract's schemas (unknown keys dropped) would
 * return it, in the key order they give; undefined for anything else (a batch, an archive
 * record, a value the schemas would refuse).
 */
export function plainEventOf(json: unknown): TransactionEvent | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  // Records and batches are the real parser's (it tests these with `in`, so do we).
  if ('kind' in json || 'events' in json) return undefined;
  const { type, eventId, transactionId, cardId, merchantId, timestamp } = json as Fields;
  if (!isId(eventId) || !isId(transactionId) || !isId(cardId) || !isId(merchantId)) return undefined;
  if (!matches(timestamp, TIMESTAMP_PATTERN)) return undefined;
  if (type === 'authorization') {
    const { mcc, amount, currency, country, channel, deviceId, outcome } = json as Fields;
    const valid =
      matches(mcc, MCC_PATTERN) &&
      typeof amount === 'number' &&
      Number.isInteger(amount) &&
      amount > 0 &&
      amount <= MAX_AMOUNT &&
      matches(currency, CURRENCY_PATTERN) &&
      matches(country, COUNTRY_PATTERN) &&
      isOneOf<Channel>(channel, CHANNELS) &&
      isOneOf(outcome, OUTCOMES) &&
      (deviceId === undefined || isId(deviceId));
    if (!valid) return undefined;
    // zod lists the optional deviceId between channel and outcome, and leaves it out when absent.
    return deviceId === undefined
      ? {
          type,
          eventId,
          transactionId,
          cardId,
          merchantId,
          timestamp,
          mcc,
          amount,
          currency,
          country,
          channel,
          outcome,
        }
      : {
          type,
          eventId,
          transactionId,
          cardId,
          merchantId,
          timestamp,
          mcc,
          amount,
          currency,
          country,
          channel,
          deviceId,
          outcome,
        };
  }
  if (type === 'label') {
    const { label, transactionTimestamp } = json as Fields;
    if (!isOneOf<Label>(label, LABELS) || !matches(transactionTimestamp, TIMESTAMP_PATTERN)) return undefined;
    return { type, eventId, transactionId, cardId, merchantId, timestamp, label, transactionTimestamp };
  }
  return undefined;
}
