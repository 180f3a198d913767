/**
 * How card and merchant state is laid out in DynamoDB items. Each state field is its own
 * top-level attribute, so the read path projects only what the feature vector needs (not
 * the writers' bookkeeping: version, pending event ids). Non-finite times (state with no
 * authorization yet) are not stored.
 *
 * The table also holds one small marker item per applied event, so a redelivered event is
 * recognised however many events came after it (see `docs/features.md`).
 */
import type { CardState, MerchantState, MerchantUse, Recency } from '#domain/features';
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
const num = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
const arr = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
/** Items written before recency lists carried times hold bare values: read them as oldest. */
const recency = (value: unknown): Recency[] =>
  arr<Recency | string>(value).map((entry) => (typeof entry === 'string' ? [entry, 0] : entry));

export function cardToAttributes(state: CardState): Item {
  return {
    firstSeen: finite(state.firstSeen),
    lastSeen: finite(state.lastSeen),
    total: state.total,
    countries: state.countries,
    devices: state.devices,
    merchants: state.merchants,
    hours: state.hours,
    recent: state.recent,
    m5: state.m5,
    h1: state.h1,
    d1: state.d1,
    seq: state.seq === undefined ? undefined : ringToStored(state.seq),
  };
}

export function cardFromItem(item: Item): CardState {
  const hours = arr<number>(item.hours);
  return {
    firstSeen: num(item.firstSeen, Number.POSITIVE_INFINITY),
    lastSeen: num(item.lastSeen, Number.NEGATIVE_INFINITY),
    total: (arr<number>(item.total).length === 2 ? item.total : [0, 0]) as [number, number],
    countries: recency(item.countries),
    devices: recency(item.devices),
    merchants: arr<MerchantUse>(item.merchants),
    hours: hours.length === 24 ? hours : new Array(24).fill(0),
    recent: arr<number>(item.recent),
    m5: arr(item.m5),
    h1: arr(item.h1),
    d1: arr(item.d1),
    seq: ringFromStored(item.seq),
  };
}

export function merchantToAttributes(state: MerchantState): Item {
  return {
    firstSeen: finite(state.firstSeen),
    lastSeen: finite(state.lastSeen),
    h1: state.h1,
    d1: state.d1,
  };
}

export function merchantFromItem(item: Item): MerchantState {
  return {
    firstSeen: num(item.firstSeen, Number.POSITIVE_INFINITY),
    lastSeen: num(item.lastSeen, Number.NEGATIVE_INFINITY),
    h1: arr(item.h1),
    d1: arr(item.d1),
  };
}

/** Marker of one event applied atomically to its card and merchant (the transactional writer). */
export const eventMarkerKey = (eventId: string) => `event#${eventId}`;
/** Marker of one event applied to one item (the non-transactional writer, one per item). */
export const appliedMarkerKey = (itemPk: string, eventId: string) => `applied#${itemPk}#${eventId}`;
