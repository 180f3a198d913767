/**
 * Raw card numbers (PANs): what counts as one, and how to keep one out of every answer and
 * log line. The API never accepts a PAN; this module decides what a PAN *candidate* is, so a
 * body holding one is refused and no error message, `field` path or log line repeats it.
 *
 * A candidate is, in a string (a JSON value or a JSON key):
 *
 * 1. **a run of 13–19 ASCII digits** that touches no letter or digit on either side
 *    (`tx-4111111111111111` is one; `a4111111111111111` and hex ids are not), or
 * 2. **digit groups joined by one separator used throughout** — space, `-`, `.`, `_`, `:` or `/` —
 *    13–19 digits in total, that touch no letter or digit on either side. For `-`, `.`, `_`,
 *    `:` and `/` the separator binds: the candidate is the whole chain of groups it joins, and a
 *    chain that goes on through the same separator into a letter or digit (`tx-1795426770881-10`,
 *    a UUID `6031deed-6167-5578-5976-8546f60fa75c`) is one identifier, not a card number. A space
 *    separates words, so any consecutive space-separated groups are tried
 *    (`card 4111 1111 1111 1111 exp 12 27`);
 *
 * and its digits start with an issuer range of a card network for exactly its length
 * ({@link IIN_RANGES}) and pass the Luhn check.
 *
 * With this rule random UUIDv4, 32-hex, ULID and `tx-<epoch>-<n>` ids are never candidates
 * (measured by `test/unit/contract-pan.test.ts` and `scripts/pan-measure.ts`). Purely numeric ids of 13–19
 * digits collide with real card numbers by construction; the README tells callers to send
 * ids with a letter in them.
 */

/** One card network's issuer identification (IIN) range and the PAN lengths it issues. */
export interface IinRange {
  readonly network: string;
  /** Lowest prefix of the range, e.g. `2221`. */
  readonly from: string;
  /** Highest prefix of the range, same number of digits as `from`, e.g. `2720`. */
  readonly to: string;
  readonly lengths: readonly number[];
}

/**
 * Issuer ranges as `[network, ranges, lengths]`: ranges `a` or `a-b`, comma-separated; lengths
 * `n` or `n-m`. Sources: the IIN table of Wikipedia's "Payment card number" article (revision of
 * 2025, which cites the networks' own publications), Discover's "IIN ranges" in its Network
 * Operating Regulations summary (Discover, Diners Club International and the UnionPay /
 * JCB / RuPay ranges Discover acquires), Mastercard's 2-series announcement (2221–2720, 2016),
 * NPCI's RuPay BIN ranges and Interswitch's Verve ranges.
 *
 * Left out on purpose: UATP (prefix `1`, 15 digits) and GPN's `1946`: epoch timestamps start
 * with `1` until 2033 and sit in most ids, so every tenth 15-digit timestamp-based id would be
 * refused, while both are closed networks (airline accounts, Indonesian domestic debit) whose
 * numbers do not reach a merchant's fraud API. Lengths below 13 (old Maestro) are out of scope.
 */
const IIN_TABLE: ReadonlyArray<readonly [network: string, ranges: string, lengths: string]> = [
  ['Visa', '4', '13,16,19'],
  ['Mastercard', '51-55,2221-2720', '16'],
  ['American Express', '34,37', '15'],
  ['Diners Club International', '300-305,3095,36,38-39', '14-19'],
  ['Discover', '6011,644-649,65', '16-19'],
  ['Discover / UnionPay co-brand', '622126-622925', '16-19'],
  ['JCB', '3528-3589', '16-19'],
  ['UnionPay', '62', '14-19'],
  ['UnionPay', '81', '16-19'],
  ['Maestro', '50,56-69', '13-19'],
  ['Mir', '2200-2204', '16-19'],
  ['RuPay', '60,65,81,82,508,353,356', '16'],
  ['Verve', '506099-506198,507865-507964,650002-650027', '16,18,19'],
  ['Troy', '9792,65', '16'],
  ['InterPayment', '636', '16-19'],
  ['InstaPayment', '637-639', '16'],
  ['Dankort', '5019', '16'],
  ['BORICA', '2205', '16'],
  ['LankaPay', '357111', '16'],
  ['UzCard', '8600,5614', '16'],
  ['Humo', '9860', '16'],
];

function parseLengths(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [lo, hi = lo] = part.split('-').map(Number) as [number, number?];
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  });
}

/** The issuer ranges the detector knows, one entry per contiguous range. */
export const IIN_RANGES: readonly IinRange[] = IIN_TABLE.flatMap(([network, ranges, lengths]) =>
  ranges.split(',').map((range) => {
    const [from, to = from] = range.split('-') as [string, string?];
    if (from.length !== to.length) throw new Error(`IIN range ${range} mixes prefix lengths`);
    return { network, from, to, lengths: parseLengths(lengths) };
  }),
);

/** Ranges pre-split for the hot path: numeric bounds and a length lookup. */
const COMPILED = IIN_RANGES.map((r) => ({
  prefixLength: r.from.length,
  from: Number(r.from),
  to: Number(r.to),
  lengths: new Set(r.lengths),
}));

/** The network whose issuer range and length match these digits, or undefined. */
export function cardNetwork(digits: string): string | undefined {
  for (const [i, range] of COMPILED.entries()) {
    if (!range.lengths.has(digits.length)) continue;
    const prefix = Number(digits.slice(0, range.prefixLength));
    if (prefix >= range.from && prefix <= range.to) return IIN_RANGES[i]?.network;
  }
  return undefined;
}

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

/** True for digit strings that are a card number: a network's range and length, and Luhn. */
export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && cardNetwork(digits) !== undefined && luhnValid(digits);
}

const SEPARATORS = new Set([' ', '-', '.', '_', ':', '/']);
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Whether the character at `index` is a letter or digit (any script); false outside the string. */
function letterOrDigitAt(text: string, index: number): boolean {
  if (index < 0 || index >= text.length) return false;
  const code = text.charCodeAt(index);
  if (code < 128) return isDigitCode(code) || ((code | 32) >= 97 && (code | 32) <= 122);
  return LETTER_OR_DIGIT.test(String.fromCodePoint(text.codePointAt(index) ?? code));
}

interface Run {
  readonly start: number;
  readonly end: number;
}

/** Maximal runs of ASCII digits, in order. */
function digitRuns(text: string): Run[] {
  const runs: Run[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i += 1) {
    const digit = i < text.length && isDigitCode(text.charCodeAt(i));
    if (digit && start < 0) start = i;
    else if (!digit && start >= 0) {
      runs.push({ start, end: i });
      start = -1;
    }
  }
  return runs;
}

/** Span `[start, end)` of a candidate card number inside a string. */
export interface PanSpan {
  readonly start: number;
  readonly end: number;
}

function digitsOf(text: string, runs: readonly Run[], first: number, last: number): string {
  let digits = '';
  for (let k = first; k <= last; k += 1) {
    const run = runs[k] as Run;
    digits += text.slice(run.start, run.end);
  }
  return digits;
}

/**
 * Every candidate card number in `text` (see the module comment for the rule), in order; spans
 * may overlap. Linear in the text for ids; at most 19 digits' worth of windows per space chain.
 */
export function panSpans(text: string): PanSpan[] {
  const spans: PanSpan[] = [];
  const runs = digitRuns(text);
  for (const [i, run] of runs.entries()) {
    const length = run.end - run.start;
    if (
      length >= 13 &&
      length <= 19 &&
      !letterOrDigitAt(text, run.start - 1) &&
      !letterOrDigitAt(text, run.end) &&
      isCardNumber(text.slice(run.start, run.end))
    ) {
      spans.push(run);
    }
    // Chains that start at this run: one per separator that joins it to the next run, and only
    // from the chain's first run (the previous run is not joined to this one by the same separator).
    const next = runs[i + 1];
    if (!next || next.start !== run.end + 1) continue;
    const separator = text[run.end] as string;
    if (!SEPARATORS.has(separator)) continue;
    const previous = runs[i - 1];
    if (previous && previous.end + 1 === run.start && text[previous.end] === separator) continue;
    let last = i + 1;
    while (
      last + 1 < runs.length &&
      (runs[last + 1] as Run).start === (runs[last] as Run).end + 1 &&
      text[(runs[last] as Run).end] === separator
    ) {
      last += 1;
    }
    const chainStart = run.start;
    const chainEnd = (runs[last] as Run).end;
    if (separator === ' ') {
      for (let first = i; first < last; first += 1) {
        for (let end = first + 1; end <= last; end += 1) {
          const startAt = (runs[first] as Run).start;
          const endAt = (runs[end] as Run).end;
          if (letterOrDigitAt(text, startAt - 1) || letterOrDigitAt(text, endAt)) continue;
          const digits = digitsOf(text, runs, first, end);
          if (digits.length > 19) break;
          if (isCardNumber(digits)) spans.push({ start: startAt, end: endAt });
        }
      }
      continue;
    }
    const touches =
      letterOrDigitAt(text, chainStart - 1) ||
      letterOrDigitAt(text, chainEnd) ||
      (text[chainStart - 1] === separator && letterOrDigitAt(text, chainStart - 2)) ||
      (text[chainEnd] === separator && letterOrDigitAt(text, chainEnd + 1));
    if (touches) continue;
    const digits = digitsOf(text, runs, i, last);
    if (isCardNumber(digits)) spans.push({ start: chainStart, end: chainEnd });
  }
  return spans;
}

/** True when the string holds a candidate card number. */
export function containsPan(text: string): boolean {
  return panSpans(text).length > 0;
}

/** What replaces a redacted value or path element. */
export const REDACTED = '[redacted]';

/** The text with every candidate card number replaced by {@link REDACTED}. */
export function redactPans(text: string): string {
  const spans = panSpans(text);
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const span of spans.sort((a, b) => a.start - b.start)) {
    if (span.end <= at) continue;
    out += text.slice(at, Math.max(at, span.start)) + REDACTED;
    at = span.end;
  }
  return out + text.slice(at);
}

/**
 * A field path for an error or a log line, safe to show: elements holding a candidate are
 * replaced by {@link REDACTED}. Joining can create a number no element holds (keys `4111.1111`
 * and `1111.1111` nested read `4111.1111.1111.1111`); then every element with a digit is
 * redacted. Undefined for the empty path.
 */
export function safeFieldPath(path: readonly PropertyKey[]): string | undefined {
  if (path.length === 0) return undefined;
  const elements = path.map((element) => {
    const text = String(element);
    return containsPan(text) ? REDACTED : text;
  });
  const joined = elements.join('.');
  if (!containsPan(joined)) return joined;
  return elements.map((element) => (/\d/.test(element) ? REDACTED : element)).join('.');
}

/** Integers too large to hold their digits exactly: a 13–19 digit one may be a rounded PAN. */
function unsafeLongInteger(value: number): boolean {
  return Number.isInteger(value) && !Number.isSafeInteger(value) && Math.abs(value) < 1e19;
}

function holdsPan(value: unknown): boolean {
  if (typeof value === 'string') return containsPan(value);
  if (typeof value === 'number' && Number.isInteger(value)) {
    return Number.isSafeInteger(value) ? containsPan(String(value)) : unsafeLongInteger(value);
  }
  return false;
}

/** A path as a linked list from the leaf up, so deep bodies cost O(1) per step, not O(depth). */
interface PathNode {
  readonly key: PropertyKey;
  readonly parent: PathNode | undefined;
}

function pathOf(node: PathNode | undefined): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at = node; at; at = at.parent) path.push(at.key);
  return path.reverse();
}

/**
 * The safe path (see {@link safeFieldPath}) of a key or value, at any depth, that holds a
 * candidate card number; `(body)` when the body itself is one; undefined when there is none.
 * Document order, except that an object's keys are checked before its values. Runs on the
 * parsed body before schema validation, so unknown fields are covered. Iterative: no input
 * depth can exhaust the stack.
 */
export function findPan(root: unknown): string | undefined {
  const stack: Array<{ value: unknown; node: PathNode | undefined }> = [{ value: root, node: undefined }];
  while (stack.length > 0) {
    const { value, node } = stack.pop() as { value: unknown; node: PathNode | undefined };
    if (holdsPan(value)) return safeFieldPath(pathOf(node)) ?? '(body)';
    if (value === null || typeof value !== 'object') continue;
    const entries: Array<[PropertyKey, unknown]> = Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : Object.entries(value);
    for (const [key] of entries) {
      if (typeof key === 'string' && containsPan(key)) return safeFieldPath(pathOf({ key, parent: node }));
    }
    for (let k = entries.length - 1; k >= 0; k -= 1) {
      const [key, item] = entries[k] as [PropertyKey, unknown];
      stack.push({ value: item, node: { key, parent: node } });
    }
  }
  return undefined;
}
