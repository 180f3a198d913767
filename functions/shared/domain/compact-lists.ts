/**
 * The compact stored form of a card's and a merchant's bounded lists: each list is ONE string
 * (one DynamoDB attribute value) instead of a list of lists of numbers, in the style of the
 * sequence ring (`ringToStored`). DynamoDB, dynalite and both SDK codecs handle an item value by
 * value (type checks, size accounting, JSON, marshalling); a busy card held ~560 values, now
 * about 15. The format, with an example per attribute, is in `docs/features.md`.
 *
 * Grammar (strict, no whitespace):
 * - a number is base 36 in lowercase digits, `-` for a negative one, at most 11 digits, and a
 *   safe integer;
 * - a string is its length in base 36, `:`, then exactly that many UTF-16 code units, so a
 *   value may hold any character, separators included;
 * - fields of an entry are separated by `,`, entries of a list by `;`; an empty list is `""`.
 *
 * To keep the text short without losing anything:
 * - a bucket stores its start in units of the bucket width, and every start after the first as
 *   the difference to the previous one (`1` for the next bucket);
 * - a time list (recent authorizations, and the last uses in a recency list) stores the first
 *   time in epoch milliseconds and every later one as the difference to the one before it;
 * - a merchant's previous use is stored as how long before its last use it was.
 * Differences may be negative, so any list of safe integers round-trips (the writers keep every
 * list ascending, which makes them small and non-negative).
 *
 * Decoding: a text that is not this format (cut mid-entry, extended, a wrong separator, a
 * non-digit, a number beyond the safe range, a string length past the end) reads as
 * `undefined`, which the item decoders turn into an empty list, as a malformed list always
 * did. Never a throw, never a NaN. A text cut exactly between two entries is still a valid,
 * shorter list (as a list attribute cut between two elements would be).
 *
 * Encoding returns `undefined` for a list the format cannot hold exactly (a number that is not
 * a safe integer, a bucket start that is not a multiple of its width): no state built from
 * valid events has one, and the item encoders then keep that list in the list form.
 */
import type { Bucket, LabelledBucket, MerchantUse, Recency } from './features-state';

const COMMA = 44; // ','
const SEMICOLON = 59; // ';'
const COLON = 58; // ':'
const MINUS = 45; // '-'
/** Enough base-36 digits for every safe integer (36^11 > 2^53). */
const MAX_DIGITS = 11;

/** A number's text, or undefined when it is not a safe integer (the format holds only those). */
export function numberToText(value: number): string | undefined {
  return Number.isSafeInteger(value) ? value.toString(36) : undefined;
}

/**
 * Reads text as the compact format, left to right. Every method returns undefined (and the
 * caller gives up on the whole text) at the first character that does not fit.
 */
export class CompactReader {
  at = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.at >= this.text.length;
  }

  /** A base-36 number ending before a separator or the end of the text. */
  number(): number | undefined {
    const text = this.text;
    let at = this.at;
    const negative = text.charCodeAt(at) === MINUS;
    if (negative) at += 1;
    const start = at;
    let value = 0;
    for (; at < text.length; at += 1) {
      const c = text.charCodeAt(at);
      let digit: number;
      if (c >= 48 && c <= 57) digit = c - 48;
      else if (c >= 97 && c <= 122) digit = c - 87;
      else break;
      value = value * 36 + digit;
    }
    const digits = at - start;
    if (digits === 0 || digits > MAX_DIGITS || !Number.isSafeInteger(value)) return undefined;
    this.at = at;
    return negative ? -value : value;
  }

  /** A length-prefixed string (`<length>:<chars>`). */
  string(): string | undefined {
    const length = this.number();
    if (length === undefined || length < 0 || this.text.charCodeAt(this.at) !== COLON) return undefined;
    const start = this.at + 1;
    const end = start + length;
    if (end > this.text.length) return undefined;
    this.at = end;
    return this.text.slice(start, end);
  }

  /** Consumes `separator` if it is next; false (consuming nothing) otherwise. */
  skip(separator: number): boolean {
    if (this.text.charCodeAt(this.at) !== separator) return false;
    this.at += 1;
    return true;
  }

  /** True at the end of an entry: the text ended, or a `;` was consumed and another entry follows. */
  entryEnd(): boolean | undefined {
    if (this.done) return true;
    if (!this.skip(SEMICOLON) || this.done) return undefined; // a trailing ';' is not an entry
    return false;
  }
}

/** A length-prefixed string as {@link CompactReader.string} reads it. */
const stringText = (value: string) => `${value.length.toString(36)}:${value}`;

/** `values` (safe integers) separated by `,`: `hours`, `total`. */
export function intsToText(values: readonly number[]): string | undefined {
  let text = '';
  for (let i = 0; i < values.length; i += 1) {
    const digits = numberToText(values[i] as number);
    if (digits === undefined) return undefined;
    text += i === 0 ? digits : `,${digits}`;
  }
  return text;
}

/** {@link intsToText}'s list; undefined if malformed. */
export function intsFromText(text: string): number[] | undefined {
  if (text === '') return [];
  const reader = new CompactReader(text);
  const values: number[] = [];
  for (;;) {
    const value = reader.number();
    if (value === undefined) return undefined;
    values.push(value);
    if (reader.done) return values;
    if (!reader.skip(COMMA) || reader.done) return undefined;
  }
}

/** Ascending times: the first as it is, then differences (`recent`). */
export function timesToText(times: readonly number[]): string | undefined {
  const values = new Array<number>(times.length);
  for (let i = 0; i < times.length; i += 1) {
    values[i] = i === 0 ? (times[0] as number) : (times[i] as number) - (times[i - 1] as number);
  }
  return intsToText(values);
}

/** {@link timesToText}'s list; undefined if malformed. */
export function timesFromText(text: string): number[] | undefined {
  const values = intsFromText(text);
  if (values === undefined) return undefined;
  for (let i = 1; i < values.length; i += 1) {
    const time = (values[i - 1] as number) + (values[i] as number);
    if (!Number.isSafeInteger(time)) return undefined;
    values[i] = time;
  }
  return values;
}

/**
 * Buckets `[start, count, amount, …]` of one width: start in widths, after the first as the
 * difference to the previous start; the other fields as they are.
 */
export function bucketsToText(
  buckets: readonly (Bucket | LabelledBucket)[],
  width: number,
): string | undefined {
  let text = '';
  let previous = 0;
  for (let i = 0; i < buckets.length; i += 1) {
    const bucket = buckets[i] as number[];
    const start = (bucket[0] as number) / width;
    if (!Number.isSafeInteger(start)) return undefined;
    const first = numberToText(i === 0 ? start : start - previous);
    if (first === undefined) return undefined;
    previous = start;
    text += i === 0 ? first : `;${first}`;
    for (let k = 1; k < bucket.length; k += 1) {
      const digits = numberToText(bucket[k] as number);
      if (digits === undefined) return undefined;
      text += `,${digits}`;
    }
  }
  return text;
}

/** {@link bucketsToText}'s buckets with `fields` numbers each (start included); undefined if malformed. */
export function bucketsFromText(text: string, width: number, fields: 3): Bucket[] | undefined;
export function bucketsFromText(text: string, width: number, fields: 4): LabelledBucket[] | undefined;
export function bucketsFromText(text: string, width: number, fields: 3 | 4): number[][] | undefined {
  if (text === '') return [];
  const reader = new CompactReader(text);
  const buckets: number[][] = [];
  let previous = 0;
  for (;;) {
    const step = reader.number();
    if (step === undefined) return undefined;
    const units = buckets.length === 0 ? step : previous + step;
    const start = units * width;
    if (!Number.isSafeInteger(start)) return undefined;
    previous = units;
    const bucket = [start];
    for (let k = 1; k < fields; k += 1) {
      const value = reader.skip(COMMA) ? reader.number() : undefined;
      if (value === undefined) return undefined;
      bucket.push(value);
    }
    buckets.push(bucket);
    const end = reader.entryEnd();
    if (end === undefined) return undefined;
    if (end) return buckets;
  }
}

/** `[value, lastUseMs]` entries: `<value>,<time>`, times after the first as differences. */
export function recencyToText(list: readonly Recency[]): string | undefined {
  let text = '';
  let previous = 0;
  for (let i = 0; i < list.length; i += 1) {
    const [value, time] = list[i] as Recency;
    const digits = numberToText(i === 0 ? time : time - previous);
    if (digits === undefined || typeof value !== 'string') return undefined;
    previous = time;
    text += `${i === 0 ? '' : ';'}${stringText(value)},${digits}`;
  }
  return text;
}

/** {@link recencyToText}'s entries; undefined if malformed. */
export function recencyFromText(text: string): Recency[] | undefined {
  const entries = usesFromText(text, false);
  return entries as Recency[] | undefined;
}

/**
 * `[merchantId, lastUseMs, previousUseMs?]` entries: `<id>,<last>[,<last − previous>]`, last
 * uses after the first as differences.
 */
export function merchantUsesToText(list: readonly MerchantUse[]): string | undefined {
  let text = '';
  let previous = 0;
  for (let i = 0; i < list.length; i += 1) {
    const use = list[i] as MerchantUse;
    const last = use[1];
    const digits = numberToText(i === 0 ? last : last - previous);
    if (digits === undefined || typeof use[0] !== 'string') return undefined;
    previous = last;
    text += `${i === 0 ? '' : ';'}${stringText(use[0])},${digits}`;
    if (use.length > 2) {
      const before = numberToText(last - (use[2] as number));
      if (before === undefined) return undefined;
      text += `,${before}`;
    }
  }
  return text;
}

/** {@link merchantUsesToText}'s entries; undefined if malformed. */
export function merchantUsesFromText(text: string): MerchantUse[] | undefined {
  return usesFromText(text, true) as MerchantUse[] | undefined;
}

function usesFromText(text: string, withPrevious: boolean): (string | number)[][] | undefined {
  if (text === '') return [];
  const reader = new CompactReader(text);
  const entries: (string | number)[][] = [];
  let previous = 0;
  for (;;) {
    const value = reader.string();
    const step = value !== undefined && reader.skip(COMMA) ? reader.number() : undefined;
    if (step === undefined) return undefined;
    const last = entries.length === 0 ? step : previous + step;
    if (!Number.isSafeInteger(last)) return undefined;
    previous = last;
    const entry: (string | number)[] = [value as string, last];
    if (withPrevious && reader.skip(COMMA)) {
      const gap = reader.number();
      if (gap === undefined || !Number.isSafeInteger(last - gap)) return undefined;
      entry.push(last - gap);
    }
    entries.push(entry);
    const end = reader.entryEnd();
    if (end === undefined) return undefined;
    if (end) return entries;
  }
}
