/**
 * Sequence features for the neural model (`fraud-seq`): a compact ring of a card's last
 * {@link RING_SIZE} authorizations, kept on the card item, and the model input built from it.
 *
 * Trees over aggregates see counts and sums; this sees order and shape (a run of small
 * "test" charges then a large one, a new device followed by a burst abroad). Training
 * replays the simulated stream through {@link applyToRing} and asks {@link sequenceTensor}
 * for each authorization *before* applying it; serving reads the ring from the card item and
 * calls the same {@link sequenceTensor}. Nothing here touches AWS, the clock or onnxruntime.
 *
 * Ring rules (the same exactly-once and event-time rules as the aggregates):
 * - a step is identified by its `eventId`; a redelivered event changes nothing;
 * - steps are kept in event-time order (ties broken by `eventId`), whatever the arrival
 *   order, and only the newest {@link RING_SIZE} are kept. The ring is therefore a function
 *   of the *set* of distinct events applied: any delivery order, with any duplicates, gives
 *   the same ring. An event older than a full ring's oldest step is dropped (it could only
 *   have been evicted again);
 * - strings are stored as 32-bit FNV-1a keys, so a step is seven small numbers and the
 *   event id: about 70 bytes with a 24-character id, stored as one string for the whole ring
 *   ({@link ringToStored}); {@link ringItemBytes} gives the DynamoDB size.
 */
import { CompactReader } from './compact-lists';
import type { AuthorizationEvent, Channel, ScoreRequest, TransactionEvent } from './types';
import { CHANNELS } from './types';

/** How many past authorizations the ring keeps. */
export const RING_SIZE = 32;
/** Steps in the model input: the ring plus the current request, last. */
export const SEQUENCE_STEPS = RING_SIZE + 1;
/** Bump when the step layout, the features or their semantics change. */
export const SEQUENCE_SPEC_VERSION = 'seq-2026-11-30.1';

/**
 * One stored authorization: `[eventTimeMs, amountMinor, mcc, channelCode, countryKey,
 * deviceKey, merchantKey, eventId]`. Keys are 32-bit FNV-1a hashes (`deviceKey` 0 = no
 * device); `mcc` is the four-digit code as a number (-1 if not numeric).
 */
export type RingStep = [number, number, number, number, number, number, number, string];

/** The ring as stored on the card item: steps oldest first, at most {@link RING_SIZE}. */
export type SequenceRing = readonly RingStep[];

const T = 0;
const AMOUNT = 1;
const MCC = 2;
const CHANNEL = 3;
const COUNTRY = 4;
const DEVICE = 5;
const MERCHANT = 6;
const EVENT_ID = 7;
const COMMA = 44; // ','

/**
 * Coarse merchant category groups (ISO 18245). One-hot in the input: the model should learn
 * "quasi-cash after a run of digital goods", not the arithmetic of category numbers.
 */
export const MCC_GROUPS = [
  'other',
  'grocery_dining',
  'fuel_auto',
  'travel',
  'retail',
  'electronics',
  'digital_goods',
  'gambling',
  'money_transfer',
] as const;
export type MccGroup = (typeof MCC_GROUPS)[number];

const MCC_GROUP_BY_CODE: ReadonlyMap<number, MccGroup> = new Map<number, MccGroup>([
  ...[5411, 5412, 5422, 5441, 5451, 5462, 5499, 5811, 5812, 5813, 5814].map(
    (c) => [c, 'grocery_dining'] as [number, MccGroup],
  ),
  ...[5511, 5521, 5531, 5532, 5533, 5541, 5542, 5571, 7523, 7531, 7538].map(
    (c) => [c, 'fuel_auto'] as [number, MccGroup],
  ),
  ...[4111, 4112, 4121, 4131, 4411, 4511, 4722, 7011, 7012, 7512].map(
    (c) => [c, 'travel'] as [number, MccGroup],
  ),
  ...[5045, 5722, 5732, 5734, 5946].map((c) => [c, 'electronics'] as [number, MccGroup]),
  ...[5815, 5816, 5817, 5818, 5967].map((c) => [c, 'digital_goods'] as [number, MccGroup]),
  ...[7800, 7801, 7802, 7995].map((c) => [c, 'gambling'] as [number, MccGroup]),
  ...[4829, 6010, 6011, 6012, 6050, 6051, 6211, 6540].map((c) => [c, 'money_transfer'] as [number, MccGroup]),
]);

/** The group of a merchant category code: explicit codes first, then ISO 18245 ranges. */
export function mccGroup(mcc: number): MccGroup {
  const known = MCC_GROUP_BY_CODE.get(mcc);
  if (known) return known;
  if (mcc >= 3000 && mcc <= 3999) return 'travel'; // airlines, car rental, lodging
  if (mcc >= 5000 && mcc <= 5999) return 'retail';
  return 'other';
}

/** The per-step model inputs, in order; `[SEQUENCE_STEPS, SEQUENCE_FEATURES.length]` per row. */
export const SEQUENCE_FEATURES: readonly { name: string; description: string }[] = Object.freeze([
  { name: 'amount_log', description: 'ln(1 + amount in minor units) / 10' },
  {
    name: 'amount_vs_usual',
    description:
      'ln(1 + amount) − mean ln(1 + amount) of the earlier steps in the window, clipped to ±5; 0 for the first',
  },
  { name: 'hour_sin', description: 'sin(2π · UTC hour of day / 24), fractional hour' },
  { name: 'hour_cos', description: 'cos(2π · UTC hour of day / 24), fractional hour' },
  {
    name: 'gap_log',
    description: 'ln(1 + seconds since the previous step) / 10; 0 for the first step in the window',
  },
  { name: 'first', description: '1 for the first step in the window (no previous step to compare with)' },
  { name: 'new_country', description: '1 if no earlier step in the window had this country' },
  { name: 'has_device', description: '1 if the step carries a deviceId' },
  { name: 'new_device', description: '1 if the step has a device no earlier step in the window had' },
  { name: 'new_merchant', description: '1 if no earlier step in the window was at this merchant' },
  ...CHANNELS.map((c) => ({ name: `channel_${c}`, description: `1 if the channel is ${c}` })),
  ...MCC_GROUPS.map((g) => ({ name: `mcc_${g}`, description: `1 if the merchant category group is ${g}` })),
  { name: 'is_current', description: '1 for the request being scored (always the last step)' },
  { name: 'valid', description: '1 for a real step, 0 for left padding' },
]);
/** Values per step. */
export const SEQUENCE_WIDTH = SEQUENCE_FEATURES.length;

/** 32-bit FNV-1a of a string's UTF-16 code units: stable, fast, and small to store. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function deviceKey(deviceId: string | undefined): number {
  if (deviceId === undefined || deviceId === '') return 0;
  return fnv1a(deviceId) || 1; // 0 means "no device"
}

function mccNumber(mcc: string): number {
  return /^\d{1,4}$/.test(mcc) ? Number(mcc) : -1;
}

function channelIndex(channel: Channel): number {
  return Math.max(CHANNELS.indexOf(channel), 0);
}

/** Milliseconds since the epoch; throws on an unparseable timestamp rather than guessing. */
function epochMs(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`invalid timestamp: ${iso}`);
  return ms;
}

/** The compact step stored for an authorization event. */
export function toRingStep(event: AuthorizationEvent): RingStep {
  return [
    epochMs(event.timestamp),
    event.amount,
    mccNumber(event.mcc),
    channelIndex(event.channel),
    fnv1a(event.country),
    deviceKey(event.deviceId),
    fnv1a(event.merchantId),
    event.eventId,
  ];
}

/**
 * The ring as the card item stores it: one string, each step its seven numbers in base 36 and
 * its event id with the id's length, `t,amount,mcc,channel,country,device,merchant,<length>:<eventId>`,
 * the next step starting right after the id (so an id may hold any character). One attribute
 * value instead of a list of 32 lists of 8, which DynamoDB, dynalite and both SDK codecs
 * handled value by value: 288 of a busy card item's ~800 attribute values; about the size of
 * the list form (DynamoDB stores a number in about a byte per two digits, base 36 packs more
 * per character). A ring with a number that is not a safe integer (never built from a valid
 * event) keeps the list form, which {@link ringFromStored} reads too.
 */
export function ringToStored(ring: SequenceRing): string | RingStep[] {
  // An empty ring stays an empty list: it reads back as one, where an empty string would not.
  if (ring.length === 0) return [];
  let text = '';
  for (const step of ring) {
    for (let i = 0; i < EVENT_ID; i++) {
      const value = step[i] as number;
      if (!Number.isSafeInteger(value)) return ring.map((s) => s.slice() as RingStep);
      text += `${value.toString(36)},`;
    }
    text += `${step[EVENT_ID].length.toString(36)}:${step[EVENT_ID]}`;
  }
  return text;
}

/** The steps of {@link ringToStored}'s text, unchecked for order; undefined if the text is not that format. */
function stepsFromText(text: string): unknown[][] | undefined {
  const steps: unknown[][] = [];
  const reader = new CompactReader(text);
  while (!reader.done) {
    if (steps.length === RING_SIZE) return undefined;
    const step: unknown[] = [];
    for (let i = 0; i < EVENT_ID; i++) {
      const value = reader.number();
      if (value === undefined || !reader.skip(COMMA)) return undefined;
      step.push(value);
    }
    const eventId = reader.string();
    if (eventId === undefined) return undefined;
    step.push(eventId);
    steps.push(step);
  }
  return steps;
}

/**
 * Decodes a ring read back from storage: {@link ringToStored}'s text, or the list of steps
 * that items written before it hold. Anything that is not a well-formed ring (wrong step
 * shape, non-finite numbers, steps out of order, too many steps) reads as no ring at all:
 * the request is then scored alone, which the model was trained to handle (a new card),
 * rather than on a sequence nobody can vouch for.
 */
export function ringFromStored(stored: unknown): RingStep[] | undefined {
  const value = typeof stored === 'string' ? stepsFromText(stored) : stored;
  if (!Array.isArray(value) || value.length > RING_SIZE) return undefined;
  const ring: RingStep[] = [];
  for (const step of value) {
    if (!Array.isArray(step) || step.length !== EVENT_ID + 1 || typeof step[EVENT_ID] !== 'string') {
      return undefined;
    }
    for (let i = 0; i < EVENT_ID; i++) if (!Number.isFinite(step[i])) return undefined;
    const copy = step.slice() as RingStep;
    const previous = ring.at(-1);
    if (previous && compareSteps(previous, copy) >= 0) return undefined;
    ring.push(copy);
  }
  return ring;
}

/** Event-time order, ties by event id, so the order never depends on arrival. */
function compareSteps(a: RingStep, b: RingStep): number {
  if (a[T] !== b[T]) return a[T] - b[T];
  return a[EVENT_ID] < b[EVENT_ID] ? -1 : a[EVENT_ID] > b[EVENT_ID] ? 1 : 0;
}

/** Result of applying one event to a ring. */
export interface RingApplied {
  ring: RingStep[];
  /** False for a non-authorization event, a duplicate, or an event older than a full ring. */
  applied: boolean;
}

/**
 * Applies an event to a card's ring. Pure: returns a new array. Only authorizations are
 * stored; labels never change the ring (the model must not see the future).
 */
export function applyToRing(ring: SequenceRing | undefined, event: TransactionEvent): RingApplied {
  const current = ring ?? [];
  if (event.type !== 'authorization' || current.some((s) => s[EVENT_ID] === event.eventId)) {
    return { ring: current.slice(), applied: false };
  }
  const step = toRingStep(event);
  let at = current.length;
  while (at > 0 && compareSteps(current[at - 1] as RingStep, step) > 0) at -= 1;
  if (at === 0 && current.length >= RING_SIZE) return { ring: current.slice(), applied: false };
  const next = [...current.slice(0, at), step, ...current.slice(at)];
  return { ring: next.length > RING_SIZE ? next.slice(next.length - RING_SIZE) : next, applied: true };
}

/** The request fields the sequence input reads. */
export type SequenceRequest = Pick<ScoreRequest, 'merchantId' | 'mcc' | 'amount' | 'country' | 'channel'> & {
  deviceId?: string;
};

/** The model input for one request. */
export interface SequenceInput {
  /** Row-major `[SEQUENCE_STEPS, SEQUENCE_WIDTH]`, left-padded with zeros, the request last. */
  data: Float32Array;
  /** Real steps, the request included (1 … SEQUENCE_STEPS). */
  length: number;
}

/**
 * The sequence input for a request: the ring's steps at or before `now` (the request's own
 * time; later steps are ignored, so a clock-skewed event never leaks into an earlier
 * request), newest {@link RING_SIZE} of them, then the request as the last step. Each
 * step's "new" flags and usual amount compare it with the earlier steps in this window only,
 * so serving and training agree without any other state.
 */
export function sequenceTensor(
  ring: SequenceRing | undefined,
  request: SequenceRequest,
  now: number,
): SequenceInput {
  const past = (ring ?? []).filter((s) => s[T] <= now);
  const window = past.length > RING_SIZE ? past.slice(past.length - RING_SIZE) : past;
  const current: RingStep = [
    now,
    request.amount,
    mccNumber(request.mcc),
    channelIndex(request.channel),
    fnv1a(request.country),
    deviceKey(request.deviceId),
    fnv1a(request.merchantId),
    '',
  ];
  const steps = [...window, current];
  const data = new Float32Array(SEQUENCE_STEPS * SEQUENCE_WIDTH);
  const offset = SEQUENCE_STEPS - steps.length;
  const countries = new Set<number>();
  const devices = new Set<number>();
  const merchants = new Set<number>();
  let logSum = 0;
  steps.forEach((step, j) => {
    const row = (offset + j) * SEQUENCE_WIDTH;
    const amountLog = Math.log1p(Math.max(0, step[AMOUNT]));
    const hour = (((step[T] % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
    const angle = (2 * Math.PI * hour) / 24;
    const previous = j > 0 ? (steps[j - 1] as RingStep) : undefined;
    const values = [
      amountLog / 10,
      j > 0 ? clip(amountLog - logSum / j, -5, 5) : 0,
      Math.sin(angle),
      Math.cos(angle),
      previous ? Math.log1p(Math.max(0, step[T] - previous[T]) / 1000) / 10 : 0,
      j === 0 ? 1 : 0,
      j > 0 && !countries.has(step[COUNTRY]) ? 1 : 0,
      step[DEVICE] !== 0 ? 1 : 0,
      j > 0 && step[DEVICE] !== 0 && !devices.has(step[DEVICE]) ? 1 : 0,
      j > 0 && !merchants.has(step[MERCHANT]) ? 1 : 0,
    ];
    data.set(values, row);
    data[row + values.length + step[CHANNEL]] = 1;
    data[row + values.length + CHANNELS.length + MCC_GROUPS.indexOf(mccGroup(step[MCC]))] = 1;
    data[row + SEQUENCE_WIDTH - 2] = step === current ? 1 : 0;
    data[row + SEQUENCE_WIDTH - 1] = 1;
    countries.add(step[COUNTRY]);
    if (step[DEVICE] !== 0) devices.add(step[DEVICE]);
    merchants.add(step[MERCHANT]);
    logSum += amountLog;
  });
  return { data, length: steps.length };
}

const UTF8 = new TextEncoder();

function clip(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/**
 * DynamoDB's size of the ring attribute (name included) as {@link ringToStored} stores it: a
 * string counts its UTF-8 bytes. Stays far below the 400 KB item limit: a full ring of 32 steps
 * with 40-character event ids is about 3 KB.
 */
export function ringItemBytes(ring: SequenceRing, attributeName = 'seq'): number {
  const stored = ringToStored(ring);
  const name = UTF8.encode(attributeName).length;
  if (typeof stored === 'string') return name + UTF8.encode(stored).length;
  // The list form (a ring that is not all safe integers): 3 bytes plus 1 per element per list.
  let bytes = name + 3 + stored.length;
  for (const step of stored) {
    bytes += 3 + step.length;
    for (let i = 0; i < EVENT_ID; i++) bytes += numberBytes(step[i] as number);
    bytes += UTF8.encode(step[EVENT_ID]).length;
  }
  return bytes;
}

/** DynamoDB's size of a number: about one byte per two significant digits, plus one. */
function numberBytes(value: number): number {
  const digits = Math.abs(value).toString().replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}
