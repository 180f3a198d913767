/**
 * Plain values ⇄ DynamoDB attribute values, by hand, for the types the feature items hold:
 * numbers, strings, booleans, null, lists and maps. The same results as `@aws-sdk/util-dynamodb`'s
 * `marshall` (with `removeUndefinedValues`) and `unmarshall` for those types (a property test
 * compares them on generated items), without the generic converter's per-value work: it
 * probes every value's constructor name against a list of binary and set types, and
 * `toString`s every number three times to rule out NaN and ±Infinity. On the updater's card
 * items (about a thousand attribute values each) that was a fifth of the SDK's CPU per event
 * (`scripts/bench-feature-updater.ts`, see docs/performance.md).
 *
 * Deliberate differences, all on values the writers never store:
 * - sets, binary, `Map`s, bigints and class instances are refused (`TypeError`) instead of
 *   converted: reading a feature item must not guess at a type it was never written with;
 * - a number attribute outside the safe-integer range reads as a `RangeError` where
 *   `unmarshall` returns a BigInt (state arithmetic on a BigInt would throw later, further
 *   from the cause);
 * - a map key `__proto__` stays an own property (both `marshall` and `unmarshall` drop it
 *   or turn it into the object's prototype).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** An item as DynamoDB's wire format has it: attribute name → typed value. */
export type AttributeMap = Record<string, AttributeValue>;

/**
 * One plain value as an attribute value. Throws on what DynamoDB cannot store as it is (NaN,
 * ±Infinity, numbers beyond `Number.MAX_SAFE_INTEGER`, `undefined` on its own) and on the
 * types listed in the module comment. `undefined` and functions inside lists and maps are left
 * out, as `marshall` does with `removeUndefinedValues`.
 */
export function toAttribute(value: unknown): AttributeValue {
  switch (typeof value) {
    case 'number':
      return { N: numberText(value) };
    case 'string':
      return { S: value };
    case 'boolean':
      return { BOOL: value };
    case 'object': {
      if (value === null) return { NULL: true };
      if (Array.isArray(value)) return { L: toList(value) };
      const prototype = Object.getPrototypeOf(value);
      if (prototype === Object.prototype || prototype === null) return { M: toItem(value as object) };
      break;
    }
  }
  throw new TypeError(`cannot store a ${describe(value)} in a feature item`);
}

/** A plain object as an item (or a map's value): `undefined` and function values are left out. */
export function toItem(record: object): AttributeMap {
  const item: AttributeMap = {};
  for (const name in record) {
    const value = (record as Record<string, unknown>)[name];
    if (value === undefined || typeof value === 'function') continue;
    setOwn(item, name, toAttribute(value));
  }
  return item;
}

function toList(values: readonly unknown[]): AttributeValue[] {
  const list: AttributeValue[] = [];
  for (const value of values) {
    if (value === undefined || typeof value === 'function') continue;
    list.push(toAttribute(value));
  }
  return list;
}

/** `marshall`'s number text (`String(n)`: `-0` is "0", 1e21 is "1e+21"), refusing what it refuses. */
function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot store the number ${value}`);
  if (value > Number.MAX_SAFE_INTEGER || value < Number.MIN_SAFE_INTEGER) {
    throw new RangeError(`cannot store ${value} exactly: beyond Number.MAX_SAFE_INTEGER`);
  }
  return String(value);
}

/**
 * One attribute value as a plain value (the inverse of {@link toAttribute}). Strict by default:
 * a type the writers never store, or a number beyond the safe range, throws (the updater must
 * not fold a state it cannot vouch for). `lenient` is the read path's mode: such a value reads
 * as `undefined`, and so does a number attribute that is not a finite number, so a corrupted
 * attribute decodes as missing (an empty list, a default time) instead of failing the answer.
 */
export function fromAttribute(value: AttributeValue, lenient = false): unknown {
  if (value.N !== undefined) return numberValue(value.N, lenient);
  if (value.S !== undefined) return value.S;
  if (value.L !== undefined) {
    const list = value.L;
    const plain = new Array<unknown>(list.length);
    for (let i = 0; i < list.length; i += 1) plain[i] = fromAttribute(list[i] as AttributeValue, lenient);
    return plain;
  }
  if (value.M !== undefined) return fromItem(value.M, lenient);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (lenient) return undefined;
  throw new TypeError(`unsupported attribute value type ${Object.keys(value)[0] ?? '(none)'}`);
}

/** An item (or a map attribute) as a plain object (see {@link fromAttribute} for `lenient`). */
export function fromItem(item: AttributeMap, lenient = false): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const name in item) setOwn(plain, name, fromAttribute(item[name] as AttributeValue, lenient));
  return plain;
}

function numberValue(text: string, lenient: boolean): number | undefined {
  const value = Number(text);
  if (lenient) return Number.isFinite(value) && Number.isSafeInteger(Math.trunc(value)) ? value : undefined;
  // `unmarshall`'s rule: beyond the safe range (finite) is not a plain number any more.
  if ((value > Number.MAX_SAFE_INTEGER || value < Number.MIN_SAFE_INTEGER) && Number.isFinite(value)) {
    throw new RangeError(`number attribute ${text} is beyond Number.MAX_SAFE_INTEGER`);
  }
  return value;
}

/** `target[name] = value`, as an own property even for `__proto__`. */
function setOwn<V>(target: Record<string, V>, name: string, value: V): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[name] = value;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined value';
  if (typeof value === 'object') return `${Object.getPrototypeOf(value)?.constructor?.name ?? 'object'}`;
  return typeof value;
}
