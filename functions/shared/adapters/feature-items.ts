/**
 * How card and merchant state is laid out in DynamoDB items. Each state field is its own
 * top-level attribute, so the read path can project away the event-id list that only the
 * writer needs. Non-finite times (state with no authorization yet) are not stored.
 */
import type { CardState, MerchantState } from '#domain/features';

type Item = Record<string, unknown>;

export const CARD_READ_ATTRIBUTES = [
  'firstSeen',
  'lastSeen',
  'total',
  'countries',
  'devices',
  'merchants',
  'hours',
  'm5',
  'h1',
  'd1',
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

export function cardToAttributes(state: CardState): Item {
  return {
    firstSeen: finite(state.firstSeen),
    lastSeen: finite(state.lastSeen),
    total: state.total,
    countries: state.countries,
    devices: state.devices,
    merchants: state.merchants,
    hours: state.hours,
    m5: state.m5,
    h1: state.h1,
    d1: state.d1,
    seen: state.seen,
  };
}

export function cardFromItem(item: Item): CardState {
  const hours = arr<number>(item.hours);
  return {
    firstSeen: num(item.firstSeen, Number.POSITIVE_INFINITY),
    lastSeen: num(item.lastSeen, Number.NEGATIVE_INFINITY),
    total: (arr<number>(item.total).length === 2 ? item.total : [0, 0]) as [number, number],
    countries: arr(item.countries),
    devices: arr(item.devices),
    merchants: arr(item.merchants),
    hours: hours.length === 24 ? hours : new Array(24).fill(0),
    m5: arr(item.m5),
    h1: arr(item.h1),
    d1: arr(item.d1),
    seen: arr(item.seen),
  };
}

export function merchantToAttributes(state: MerchantState): Item {
  return {
    firstSeen: finite(state.firstSeen),
    lastSeen: finite(state.lastSeen),
    h1: state.h1,
    d1: state.d1,
    seen: state.seen,
  };
}

export function merchantFromItem(item: Item): MerchantState {
  return {
    firstSeen: num(item.firstSeen, Number.POSITIVE_INFINITY),
    lastSeen: num(item.lastSeen, Number.NEGATIVE_INFINITY),
    h1: arr(item.h1),
    d1: arr(item.d1),
    seen: arr(item.seen),
  };
}
