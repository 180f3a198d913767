/**
 * How card and merchant state is laid out in DynamoDB items. Each state field is its own
 * top-level attribute, so the read path projects only what the feature vector needs (not
 * the writers' bookkeeping: version, pending event ids). Scalars are numbers; every bounded
 * list is one string in the compact form of `compact-lists.ts` (one attribute value instead
 * of hundreds; format table in `docs/features.md`). Items written before in the list form
 * read the same. Non-finite times (state with no authorization yet) are not stored.
 *
 * The table also holds one small marker item per applied event, so a redelivered event is
 * recognised however many events came after it (see `docs/features.md`).
 */
import {
  bucketsFromText,
  bucketsToText,
  intsFromText,
  intsToText,
  merchantUsesFromText,
  merchantUsesToText,
  recencyFromText,
  recencyToText,
  timesFromText,
  timesToText,
} from '#domain/compact-lists';
import {
  type Bucket,
  type CardState,
  type LabelledBucket,
  type MerchantState,
  type MerchantUse,
  type Recency,
  WINDOWS,
} from '#domain/features';
import { ringFromStored, ringToStored } from '#domain/sequence';

type Item = Record<string, unknown>;

export const CARD_READ_ATTRIBUTES = [
  'firstSeen',
  'lastSeen',
  'total',
  'countries',
  'devices',
  'merchants',
  'hours',
  'recent',
  'm5',
  'h1',
  'd1',
  'seq',
  'updatedAt',
] as const;

export const MERCHANT_READ_ATTRIBUTES = ['firstSeen', 'lastSeen', 'h1', 'd1', 'updatedAt'] as const;

/** Attributes the read path projects (union of both item kinds) and their name placeholders. */
export const READ_PROJECTION = (() => {
  const names = [...new Set(['pk', ...CARD_READ_ATTRIBUTES, ...MERCHANT_READ_ATTRIBUTES])];
  return {
    expression: names.map((n) => `#${n}`).join(', '),
    names: Object.fromEntries(names.map((n) => [`#${n}`, n])),
  };
})();

const finite = (value: number) => (Number.isFinite(value) ? value : undefined);
const num = (value: unknown, fallback: number) =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;

/**
 * One list attribute: its compact text (`compact-lists.ts`), or, for a list that text cannot
 * hold exactly (no state built from valid events has one), the list itself.
 */
const compact = <T>(text: string | undefined, list: T[]): string | T[] => text ?? list;

/**
 * One list attribute read back: the compact text, or the list form items were written in
 * before (checked entry by entry). Anything else, or either form malformed, reads as empty.
 */
function listOf<T>(
  value: unknown,
  fromText: (text: string) => T[] | undefined,
  isEntry: (entry: unknown) => entry is T,
): T[] {
  if (typeof value === 'string') return fromText(value) ?? [];
  if (!Array.isArray(value)) return [];
  for (const entry of value) if (!isEntry(entry)) return [];
  return value as T[];
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isTuple = (value: unknown, length: number): value is number[] => {
  if (!Array.isArray(value) || value.length !== length) return false;
  for (const v of value) if (!isNumber(v)) return false;
  return true;
};
const isBucket = (value: unknown): value is Bucket => isTuple(value, 3);
const isLabelledBucket = (value: unknown): value is LabelledBucket => isTuple(value, 4);
const isRecency = (value: unknown): value is Recency =>
  Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && isNumber(value[1]);
const isMerchantUse = (value: unknown): value is MerchantUse =>
  Array.isArray(value) &&
  (value.length === 2 || value.length === 3) &&
  typeof value[0] === 'string' &&
  isNumber(value[1]) &&
  (value.length === 2 || isNumber(value[2]));

/** Items written before recency lists carried times hold bare values: read them as oldest. */
function recency(value: unknown): Recency[] {
  if (Array.isArray(value) && value.some((entry) => typeof entry === 'string')) {
    return listOf<Recency>(
      value.map((entry) => (typeof entry === 'string' ? [entry, 0] : entry)),
      recencyFromText,
      isRecency,
    );
  }
  return listOf(value, recencyFromText, isRecency);
}

/** A fixed-length list of numbers (`hours`, `total`), or undefined when it is not one. */
function fixedInts(value: unknown, length: number): number[] | undefined {
  const list = typeof value === 'string' ? intsFromText(value) : Array.isArray(value) ? value : undefined;
  return list !== undefined && isTuple(list, length) ? list : undefined;
}

/**
 * The attributes of a card item, every list in its compact form (`compact-lists.ts`); times
 * with no authorization yet are left out.
 */
export function cardToAttributes(state: CardState): Item {
  return {
    firstSeen: finite(state.firstSeen),
    lastSeen: finite(state.lastSeen),
    total: compact(intsToText(state.total), state.total),
    countries: compact(recencyToText(state.countries), state.countries),
    devices: compact(recencyToText(state.devices), state.devices),
    merchants: compact(merchantUsesToText(state.merchants), state.merchants),
    hours: compact(intsToText(state.hours), state.hours),
    recent: compact(timesToText(state.recent), state.recent),
    m5: compact(bucketsToText(state.m5, WINDOWS.m5.width), state.m5),
    h1: compact(bucketsToText(state.h1, WINDOWS.h1.width), state.h1),
    d1: compact(bucketsToText(state.d1, WINDOWS.d1.width), state.d1),
    seq: state.seq === undefined ? undefined : ringToStored(state.seq),
  };
}

/** A card's state from its item, compact or list form; a malformed list reads as empty (see {@link listOf}). */
export function cardFromItem(item: Item): CardState {
  return {
    firstSeen: num(item.firstSeen, Number.POSITIVE_INFINITY),
    lastSeen: num(item.lastSeen, Number.NEGATIVE_INFINITY),
    total: (fixedInts(item.total, 2) ?? [0, 0]) as [number, number],
    countries: recency(item.countries),
    devices: recency(item.devices),
    merchants: listOf(item.merchants, merchantUsesFromText, isMerchantUse),
    hours: fixedInts(item.hours, 24) ?? new Array(24).fill(0),
    recent: listOf(item.recent, timesFromText, isNumber),
    m5: listOf(item.m5, (t) => bucketsFromText(t, WINDOWS.m5.width, 3), isBucket),
    h1: listOf(item.h1, (t) => bucketsFromText(t, WINDOWS.h1.width, 3), isBucket),
    d1: listOf(item.d1, (t) => bucketsFromText(t, WINDOWS.d1.width, 3), isBucket),
    seq: ringFromStored(item.seq),
  };
}

/** The attributes of a merchant item, its bucket lists in compact form. */
export function merchantToAttributes(state: MerchantState): Item {
  return {
    firstSeen: finite(state.firstSeen),
    lastSeen: finite(state.lastSeen),
    h1: compact(bucketsToText(state.h1, WINDOWS.h1.width), state.h1),
    d1: compact(bucketsToText(state.d1, WINDOWS.merchantD1.width), state.d1),
  };
}

/** A merchant's state from its item, compact or list form. */
export function merchantFromItem(item: Item): MerchantState {
  return {
    firstSeen: num(item.firstSeen, Number.POSITIVE_INFINITY),
    lastSeen: num(item.lastSeen, Number.NEGATIVE_INFINITY),
    h1: listOf(item.h1, (t) => bucketsFromText(t, WINDOWS.h1.width, 3), isBucket),
    d1: listOf(item.d1, (t) => bucketsFromText(t, WINDOWS.merchantD1.width, 4), isLabelledBucket),
  };
}

/** Marker of one event applied atomically to its card and merchant (the transactional writer). */
export const eventMarkerKey = (eventId: string) => `event#${eventId}`;
/** Marker of one event applied to one item (the non-transactional writer, one per item). */
export const appliedMarkerKey = (itemPk: string, eventId: string) => `applied#${itemPk}#${eventId}`;
