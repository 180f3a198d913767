/**
 * Seeded, deterministic card-transaction simulator for training and demo data.
 *
 * It builds a population of cards and merchants, then walks the simulated window day by
 * day: every card makes its legitimate purchases, a controller injects fraud episodes
 * (card testing, account takeover, bust-out) so that roughly {@link SimulationOptions.fraudRate}
 * of all authorizations are fraudulent, and labels (chargebacks, confirmations) are queued
 * in a min-heap to come out days later. Output is a lazy generator in non-decreasing
 * timestamp order, so memory stays bounded by one day of authorizations plus the pending
 * labels, whatever the run length.
 *
 * The module is pure: no I/O, no clock, no `Math.random`. The same options always give the
 * same events, byte for byte once serialized.
 */
import type { AuthorizationEvent, Channel, Label, LabelEvent } from '#domain/types';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

/** The fraud patterns the simulator injects. */
export const FRAUD_PATTERNS = ['card_testing', 'account_takeover', 'bust_out'] as const;
/** One fraud pattern. */
export type FraudPattern = (typeof FRAUD_PATTERNS)[number];

/** Ground truth attached to every simulated authorization; for analysis only, never a model input. */
export interface SimulationTruth {
  fraud: boolean;
  pattern: FraudPattern | 'legit';
}

/** A simulated authorization with its ground truth. */
export type SimulatedAuthorization = AuthorizationEvent & { sim: SimulationTruth };

/** What {@link simulate} yields: authorizations (with ground truth) and labels, interleaved in time order. */
export type SimulatedEvent = SimulatedAuthorization | LabelEvent;

/** Options for {@link simulate} and {@link buildPopulation}. */
export interface SimulationOptions {
  /** Number of cards, 1–1,000,000. */
  cards: number;
  /** Length of the simulated window in days, 1–366. */
  days: number;
  /** Seed of the PRNG; an integer in [0, 2^32). */
  seed: number;
  /** First day of the window as an ISO date (`YYYY-MM-DD`, UTC midnight). Default {@link DEFAULT_START}. */
  start?: string;
  /** Number of merchants, at least {@link MIN_MERCHANTS}. Default `max(50, floor(cards / 20))`. */
  merchants?: number;
  /** Target share of authorizations that are fraudulent, in (0, 0.2]. Default 0.01. */
  fraudRate?: number;
  /** Settlement currency of every amount (minor units). Default `EUR`. */
  currency?: string;
}

/** {@link SimulationOptions} with defaults applied and the start parsed. */
export interface ResolvedSimulationOptions {
  cards: number;
  days: number;
  seed: number;
  start: string;
  startMs: number;
  merchants: number;
  fraudRate: number;
  currency: string;
}

/** A simulated card holder's card. */
export interface CardProfile {
  index: number;
  /** Card token, `card_000123`. */
  cardId: string;
  /** Customer owning the card; a few customers hold two cards. */
  customerId: string;
  homeCountry: string;
  /** Median purchase in minor units; individual amounts scatter around it. */
  typicalAmount: number;
  /** Mean number of purchases per day. */
  dailyRate: number;
  /** First UTC hour of the card's preferred window. */
  activeStartHour: number;
  /** Length of the preferred window in hours. */
  activeHours: number;
  /** The card's own devices, primary first. */
  devices: string[];
  /** A device the holder starts using mid-window (a new phone), or undefined. */
  laterDevice?: { deviceId: string; fromDay: number };
  /** Indices into the merchant list, most used first. */
  favouriteMerchants: number[];
  /** Daily probability of starting a trip abroad. */
  travelPropensity: number;
}

/** How a merchant takes payments. */
export type MerchantKind = 'physical' | 'online' | 'omni';

/** A simulated merchant. */
export interface MerchantProfile {
  index: number;
  /** `m_00042` */
  merchantId: string;
  mcc: string;
  country: string;
  kind: MerchantKind;
  /** 0–1; how attractive the merchant is to fraudsters (weak controls, resellable goods). */
  risk: number;
}

/** The simulated population. */
export interface Population {
  cards: CardProfile[];
  merchants: MerchantProfile[];
}

/** A uniform PRNG returning floats in [0, 1). */
export type Rng = () => number;

// ---------------------------------------------------------------------------------------
// Defaults and static tables
// ---------------------------------------------------------------------------------------

/** Fixed default start so that a run without `start` is still reproducible. */
export const DEFAULT_START = '2026-09-01';
/** Below this the forced merchant mix (physical shops per country, one of each risky MCC) does not fit. */
export const MIN_MERCHANTS = 30;
/** Default target fraud share of authorizations. */
export const DEFAULT_FRAUD_RATE = 0.01;

/** Home countries of the card population, DE-heavy so most cards are domestic to one market. */
const HOME_COUNTRIES: readonly { code: string; weight: number; utcOffset: number }[] = [
  { code: 'DE', weight: 0.55, utcOffset: 1 },
  { code: 'FR', weight: 0.1, utcOffset: 1 },
  { code: 'NL', weight: 0.1, utcOffset: 1 },
  { code: 'GB', weight: 0.08, utcOffset: 0 },
  { code: 'US', weight: 0.05, utcOffset: -5 },
  { code: 'ES', weight: 0.06, utcOffset: 1 },
  { code: 'IT', weight: 0.06, utcOffset: 1 },
];
/** Countries outside the population that host a few merchants, trips and fraudsters. */
const FOREIGN_COUNTRIES: readonly string[] = ['TR', 'TH', 'BR', 'AE', 'CN'];

interface MccProfile {
  mcc: string;
  /** Share of merchants in this category (beyond the forced ones). */
  weight: number;
  /** Amount relative to the card's typical purchase. */
  amountFactor: number;
  /** Probability a merchant of this MCC is online / omni-channel; the rest are physical. */
  online: number;
  omni: number;
  /** Base fraud risk 0–1. */
  risk: number;
  /** How often cardholders pick this category for an ad-hoc purchase. */
  popularity: number;
}

/** Realistic category mix; risk mirrors the feature module's MCC tiers. */
const MCCS: readonly MccProfile[] = [
  { mcc: '5411', weight: 0.2, amountFactor: 1.0, online: 0.0, omni: 0.1, risk: 0.05, popularity: 0.3 },
  { mcc: '5812', weight: 0.18, amountFactor: 0.8, online: 0.0, omni: 0.05, risk: 0.05, popularity: 0.22 },
  { mcc: '5541', weight: 0.1, amountFactor: 1.5, online: 0.0, omni: 0.0, risk: 0.08, popularity: 0.12 },
  { mcc: '5942', weight: 0.05, amountFactor: 0.9, online: 0.7, omni: 0.3, risk: 0.2, popularity: 0.05 },
  { mcc: '5999', weight: 0.1, amountFactor: 1.2, online: 0.5, omni: 0.4, risk: 0.3, popularity: 0.1 },
  { mcc: '4511', weight: 0.04, amountFactor: 7.0, online: 0.9, omni: 0.1, risk: 0.35, popularity: 0.02 },
  { mcc: '5816', weight: 0.08, amountFactor: 0.35, online: 1.0, omni: 0.0, risk: 0.6, popularity: 0.08 },
  { mcc: '7995', weight: 0.05, amountFactor: 1.5, online: 0.8, omni: 0.2, risk: 0.75, popularity: 0.01 },
  { mcc: '4829', weight: 0.05, amountFactor: 4.0, online: 0.9, omni: 0.1, risk: 0.7, popularity: 0.01 },
  { mcc: '6051', weight: 0.04, amountFactor: 3.0, online: 0.6, omni: 0.4, risk: 0.8, popularity: 0.005 },
  { mcc: '5732', weight: 0.06, amountFactor: 5.0, online: 0.3, omni: 0.7, risk: 0.55, popularity: 0.04 },
];
const MCC_BY_CODE = new Map(MCCS.map((m) => [m.mcc, m]));
/** Everyday physical categories every home country must have for daily shopping and trips. */
const EVERYDAY_MCCS = ['5411', '5812', '5541'] as const;
/** Categories that must exist at least once so every fraud pattern has targets. */
const RISKY_ONLINE_MCCS = ['5942', '5999', '4511', '5816', '7995', '4829', '6051', '5732'] as const;
/** Bust-out cashes out through categories that turn credit into money or resellable goods. */
const BUST_OUT_MCCS = new Set(['7995', '6051', '4829', '5732']);
/** Account takeover buys goods that resell well or are delivered instantly. */
const ATO_MCCS = new Set(['5732', '5942', '5999', '4511', '5816', '6051']);
/** Card testers prefer digital goods and small-ticket online shops. */
const CARD_TESTING_MCCS = new Set(['5816', '5999', '5942', '4829', '7995']);
/** Cash-out after a successful test. */
const CASH_OUT_MCCS = new Set(['5732', '6051', '4829', '5816']);

/** Relative share of fraud episodes by pattern. */
const PATTERN_MIX: readonly { pattern: FraudPattern; weight: number }[] = [
  { pattern: 'card_testing', weight: 0.3 },
  { pattern: 'account_takeover', weight: 0.4 },
  { pattern: 'bust_out', weight: 0.3 },
];
/**
 * Expected authorizations per episode under {@link PATTERN_MIX} (≈ 0.3·12.9 + 0.4·5 + 0.3·8);
 * only a starting estimate — the controller in {@link simulate} corrects for the real sizes.
 */
const MEAN_EPISODE_SIZE = 8.3;

const DECLINE_RATE_LEGIT = 0.003;
const DECLINE_RATE_FRAUD = 0.04;
const DECLINE_RATE_CARD_TESTING = 0.08;
/** Weekend days have a little less everyday spending. */
const WEEKEND_FACTOR = 0.85;

// ---------------------------------------------------------------------------------------
// PRNG and sampling helpers
// ---------------------------------------------------------------------------------------

/** splitmix32 step: spreads a small or sequential seed over all 32 bits. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/**
 * sfc32 seeded through splitmix32. `stream` separates independent sequences from one seed
 * (population vs. daily activity) so changing how one is consumed does not shift the other.
 *
 * @param seed - any integer; only its low 32 bits matter
 * @param stream - an optional sub-stream number
 * @returns a function returning uniform floats in [0, 1)
 */
export function createRng(seed: number, stream = 0): Rng {
  let s = (seed ^ Math.imul(stream + 1, 0x27d4eb2d)) | 0;
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [next, out] = splitmix32(s);
    s = next;
    words.push(out);
  }
  let [a, b, c, d] = words as [number, number, number, number];
  const rng = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // sfc32 needs a few rounds before its output is well mixed.
  for (let i = 0; i < 12; i++) rng();
  return rng;
}

function randInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function uniform(rng: Rng, min: number, max: number): number {
  return min + rng() * (max - min);
}

function normal(rng: Rng): number {
  // Box–Muller; 1 - rng() keeps the log argument in (0, 1].
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 60) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rng)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rng();
  while (p > limit) {
    k++;
    p *= rng();
  }
  return k;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Weighted sampling over a prebuilt cumulative table (binary search, O(log n)). */
class WeightedTable<T> {
  private readonly cumulative: number[] = [];
  private readonly items: T[] = [];
  private total = 0;

  constructor(entries: Iterable<[T, number]>) {
    for (const [item, weight] of entries) {
      if (weight <= 0) continue;
      this.total += weight;
      this.cumulative.push(this.total);
      this.items.push(item);
    }
  }

  get size(): number {
    return this.items.length;
  }

  sample(rng: Rng): T {
    const target = rng() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    const item = this.items[lo];
    if (item === undefined) throw new Error('sample from an empty table');
    return item;
  }
}

function hex(rng: Rng, digits: number): string {
  let out = '';
  while (out.length < digits)
    out += Math.floor(rng() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  return out.slice(0, digits);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

function assertInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/**
 * Parses an ISO date (`YYYY-MM-DD`) to UTC-midnight epoch milliseconds.
 *
 * @throws RangeError when the string is not a real calendar date
 */
export function parseStartDate(start: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(start) ? Date.parse(`${start}T00:00:00.000Z`) : Number.NaN;
  // The round trip rejects dates like 2026-02-30 that Date.parse would roll over.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== start) {
    throw new RangeError(`start must be an ISO date YYYY-MM-DD, got ${JSON.stringify(start)}`);
  }
  return ms;
}

/**
 * Applies defaults and validates options.
 *
 * @throws RangeError with a message naming the offending option
 */
export function resolveOptions(options: SimulationOptions): ResolvedSimulationOptions {
  const cards = assertInteger('cards', options.cards, 1, 1_000_000);
  const days = assertInteger('days', options.days, 1, 366);
  const seed = assertInteger('seed', options.seed, 0, 0xffffffff);
  const merchants = assertInteger(
    'merchants',
    options.merchants ?? Math.max(50, Math.floor(cards / 20)),
    MIN_MERCHANTS,
    1_000_000,
  );
  const fraudRate = options.fraudRate ?? DEFAULT_FRAUD_RATE;
  if (typeof fraudRate !== 'number' || !(fraudRate > 0 && fraudRate <= 0.2)) {
    throw new RangeError(`fraudRate must be in (0, 0.2], got ${String(fraudRate)}`);
  }
  const currency = options.currency ?? 'EUR';
  if (!/^[A-Z]{3}$/.test(currency))
    throw new RangeError(`currency must be an ISO 4217 code, got ${currency}`);
  const start = options.start ?? DEFAULT_START;
  return { cards, days, seed, start, startMs: parseStartDate(start), merchants, fraudRate, currency };
}

// ---------------------------------------------------------------------------------------
// Population
// ---------------------------------------------------------------------------------------

const RNG_STREAM_POPULATION = 1;
const RNG_STREAM_ACTIVITY = 2;

function buildMerchants(rng: Rng, count: number): MerchantProfile[] {
  const homeTable = new WeightedTable(HOME_COUNTRIES.map((c) => [c.code, c.weight] as [string, number]));
  const mccTable = new WeightedTable(MCCS.map((m) => [m, m.weight] as [MccProfile, number]));
  // Forced part of the mix: every home country gets its everyday shops (daily spending and
  // trips need them) and every risky online category exists once (fraud needs targets).
  const forced: { mcc: string; country?: string; kind?: MerchantKind }[] = [];
  for (const country of HOME_COUNTRIES) {
    for (const mcc of EVERYDAY_MCCS) forced.push({ mcc, country: country.code, kind: 'physical' });
  }
  for (const mcc of RISKY_ONLINE_MCCS) forced.push({ mcc, kind: 'online' });
  // Trip destinations outside the population need somewhere to buy food.
  for (const country of FOREIGN_COUNTRIES.slice(0, 2))
    forced.push({ mcc: '5812', country, kind: 'physical' });

  const merchants: MerchantProfile[] = [];
  for (let i = 0; i < count; i++) {
    const f = forced[i];
    const profile = f ? (MCC_BY_CODE.get(f.mcc) as MccProfile) : mccTable.sample(rng);
    const country = f?.country ?? (rng() < 0.9 ? homeTable.sample(rng) : pick(rng, FOREIGN_COUNTRIES));
    const r = rng();
    const kind: MerchantKind =
      f?.kind ?? (r < profile.online ? 'online' : r < profile.online + profile.omni ? 'omni' : 'physical');
    // Noise: a few low-risk merchants are "leaky" (weak controls), so MCC alone is not the answer.
    const leaky = rng() < 0.05 ? 0.3 : 0;
    const risk = Math.min(0.95, Math.max(0.01, profile.risk * uniform(rng, 0.6, 1.4) + leaky));
    merchants.push({ index: i, merchantId: `m_${pad(i, 5)}`, mcc: profile.mcc, country, kind, risk });
  }
  return merchants;
}

/** Merchants indexed the ways the simulator needs to pick them. */
interface MerchantIndex {
  merchants: MerchantProfile[];
  /** In-person merchants by country, weighted by how often people shop there. */
  inPersonByCountry: Map<string, WeightedTable<number>>;
  /** Online and omni merchants by popularity (everyday online shopping). */
  online: WeightedTable<number>;
  /** Countries with in-person merchants, other than the key (trip destinations). */
  destinations: Map<string, string[]>;
  cardTesting: WeightedTable<number>;
  ato: WeightedTable<number>;
  bustOut: WeightedTable<number>;
  cashOut: WeightedTable<number>;
}

function indexMerchants(merchants: MerchantProfile[]): MerchantIndex {
  const popularity = (m: MerchantProfile) => (MCC_BY_CODE.get(m.mcc) as MccProfile).popularity;
  const inPerson = new Map<string, [number, number][]>();
  for (const m of merchants) {
    if (m.kind === 'online') continue;
    const list = inPerson.get(m.country) ?? [];
    list.push([m.index, popularity(m)]);
    inPerson.set(m.country, list);
  }
  const inPersonByCountry = new Map([...inPerson].map(([c, entries]) => [c, new WeightedTable(entries)]));
  const countries = [...inPersonByCountry.keys()].sort();
  const destinations = new Map(HOME_COUNTRIES.map((h) => [h.code, countries.filter((c) => c !== h.code)]));
  const isOnline = (m: MerchantProfile) => m.kind !== 'physical';
  const table = (filter: (m: MerchantProfile) => boolean, weight: (m: MerchantProfile) => number) =>
    new WeightedTable(merchants.filter(filter).map((m) => [m.index, weight(m)] as [number, number]));
  return {
    merchants,
    inPersonByCountry,
    online: table(isOnline, popularity),
    destinations,
    // Testers prefer weakly controlled shops but spread over any online merchant.
    cardTesting: table(isOnline, (m) => m.risk + (CARD_TESTING_MCCS.has(m.mcc) ? 0.5 : 0)),
    ato: table(
      (m) => isOnline(m) && ATO_MCCS.has(m.mcc),
      (m) => m.risk,
    ),
    bustOut: table(
      (m) => BUST_OUT_MCCS.has(m.mcc),
      (m) => m.risk,
    ),
    cashOut: table(
      (m) => isOnline(m) && CASH_OUT_MCCS.has(m.mcc),
      (m) => m.risk,
    ),
  };
}

function buildCards(rng: Rng, count: number, days: number, index: MerchantIndex): CardProfile[] {
  const homeTable = new WeightedTable(
    HOME_COUNTRIES.map((c) => [c, c.weight] as [(typeof HOME_COUNTRIES)[number], number]),
  );
  const gamblers = index.merchants.filter((m) => m.mcc === '7995' || m.mcc === '4829').map((m) => m.index);
  const cards: CardProfile[] = [];
  let customer = 0;
  for (let i = 0; i < count; i++) {
    // About 8 % of customers hold a second card, so customerId is not a card alias.
    if (i === 0 || rng() >= 0.08) customer++;
    const home = homeTable.sample(rng);
    const typicalAmount = Math.round(Math.exp(Math.log(3500) + 0.6 * normal(rng)));
    const dailyRate = 0.5 + 2.5 * rng() ** 1.6;
    const activeHours = randInt(rng, 9, 15);
    // Local 06:00–11:00 start, converted to UTC with the home country's offset.
    const activeStartHour = (((randInt(rng, 6, 11) - home.utcOffset) % 24) + 24) % 24;
    const devices = [`dev_${hex(rng, 12)}`];
    if (rng() < 0.45) devices.push(`dev_${hex(rng, 12)}`);
    const laterDevice =
      rng() < 0.08 && days > 2
        ? { deviceId: `dev_${hex(rng, 12)}`, fromDay: randInt(rng, 1, days - 1) }
        : undefined;
    const favourites = new Set<number>();
    const local = index.inPersonByCountry.get(home.code);
    const wanted = randInt(rng, 3, 6);
    for (let tries = 0; local && favourites.size < wanted && tries < 20; tries++)
      favourites.add(local.sample(rng));
    const onlineFavourites = randInt(rng, 1, 2);
    for (let k = 0; k < onlineFavourites; k++) favourites.add(index.online.sample(rng));
    // Legitimate users of risky categories, so a gambling MCC alone does not mean fraud.
    if (gamblers.length > 0 && rng() < 0.05) favourites.add(pick(rng, gamblers));
    cards.push({
      index: i,
      cardId: `card_${pad(i, 6)}`,
      customerId: `cust_${pad(customer, 6)}`,
      homeCountry: home.code,
      typicalAmount: Math.max(300, typicalAmount),
      dailyRate,
      activeStartHour,
      activeHours,
      devices,
      ...(laterDevice ? { laterDevice } : {}),
      favouriteMerchants: [...favourites],
      travelPropensity: rng() < 0.3 ? uniform(rng, 0.005, 0.03) : 0.002,
    });
  }
  return cards;
}

/**
 * Builds the card and merchant population for the options. Deterministic and independent of
 * the daily activity stream, so tests and analysis can inspect the profiles behind a run.
 */
export function buildPopulation(options: SimulationOptions): Population {
  const resolved = resolveOptions(options);
  return buildPopulationResolved(resolved).population;
}

function buildPopulationResolved(options: ResolvedSimulationOptions): {
  population: Population;
  index: MerchantIndex;
} {
  const rng = createRng(options.seed, RNG_STREAM_POPULATION);
  const merchants = buildMerchants(rng, options.merchants);
  const index = indexMerchants(merchants);
  const cards = buildCards(rng, options.cards, options.days, index);
  return { population: { cards, merchants }, index };
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

/** An authorization before it gets its ids (ids follow the sorted order of the day). */
interface DraftAuthorization {
  ms: number;
  card: CardProfile;
  merchant: MerchantProfile;
  amount: number;
  country: string;
  channel: Channel;
  deviceId: string | undefined;
  outcome: 'approved' | 'declined';
  pattern: FraudPattern | 'legit';
  /** Legit but unusual (travel, big amount, new device, odd hour): more likely to be confirmed by the holder. */
  odd: boolean;
}

interface PendingLabel {
  ms: number;
  seq: number;
  event: LabelEvent;
}

/** Binary min-heap on (ms, seq); seq keeps equal-time labels in creation order, deterministically. */
class LabelHeap {
  private readonly items: PendingLabel[] = [];

  get size(): number {
    return this.items.length;
  }

  peekMs(): number {
    return this.items[0]?.ms ?? Number.POSITIVE_INFINITY;
  }

  push(item: PendingLabel): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(items[i] as PendingLabel, items[parent] as PendingLabel)) break;
      [items[i], items[parent]] = [items[parent] as PendingLabel, items[i] as PendingLabel];
      i = parent;
    }
  }

  pop(): PendingLabel | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < items.length && less(items[l] as PendingLabel, items[smallest] as PendingLabel)) smallest = l;
      if (r < items.length && less(items[r] as PendingLabel, items[smallest] as PendingLabel)) smallest = r;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest] as PendingLabel, items[i] as PendingLabel];
      i = smallest;
    }
    return top;
  }
}

function less(a: PendingLabel, b: PendingLabel): boolean {
  return a.ms < b.ms || (a.ms === b.ms && a.seq < b.seq);
}

/**
 * Channel for a purchase. `atLocation` says whether the holder could be standing in the shop
 * (an omni-channel merchant in the holder's current country); physical merchants are only
 * ever passed when that is true.
 */
function channelFor(rng: Rng, merchant: MerchantProfile, atLocation: boolean): Channel {
  if (merchant.kind === 'physical' || (merchant.kind === 'omni' && atLocation && rng() < 0.6)) {
    return rng() < 0.6 ? 'contactless' : 'card_present';
  }
  // Mail/telephone orders are rare and mostly travel and misc retail.
  const motoShare = merchant.mcc === '4511' || merchant.mcc === '5999' ? 0.06 : 0.01;
  return rng() < motoShare ? 'moto' : 'ecommerce';
}

function amountFor(rng: Rng, card: CardProfile, mcc: string, sigma = 0.5): number {
  const factor = (MCC_BY_CODE.get(mcc) as MccProfile).amountFactor;
  return Math.max(50, Math.round(card.typicalAmount * factor * Math.exp(sigma * normal(rng))));
}

/** A time within the card's preferred hours (or, sometimes, any hour) on the given day. */
function legitTime(rng: Rng, card: CardProfile, dayMs: number): { ms: number; odd: boolean } {
  const inWindow = rng() < 0.88;
  const hour = inWindow
    ? (card.activeStartHour + Math.floor(rng() * card.activeHours)) % 24
    : Math.floor(rng() * 24);
  return { ms: dayMs + hour * HOUR + Math.floor(rng() * HOUR), odd: !inWindow };
}

function cardDeviceOn(rng: Rng, card: CardProfile, day: number): string {
  if (card.laterDevice && day >= card.laterDevice.fromDay && rng() < 0.7) return card.laterDevice.deviceId;
  return rng() < 0.8 || card.devices.length === 1 ? (card.devices[0] as string) : (card.devices[1] as string);
}

function outcomeFor(rng: Rng, declineRate: number): 'approved' | 'declined' {
  return rng() < declineRate ? 'declined' : 'approved';
}

/** Per-card mutable state during the walk. */
interface CardActivity {
  /** Country the holder is travelling in, or undefined at home. */
  tripCountry?: string;
  tripUntilDay: number;
  compromised: boolean;
}

/** Everything {@link simulate} threads through its helpers. */
interface Context {
  rng: Rng;
  index: MerchantIndex;
  activity: CardActivity[];
}

function legitDay(
  ctx: Context,
  card: CardProfile,
  day: number,
  dayMs: number,
  out: DraftAuthorization[],
): void {
  const { rng, index } = ctx;
  const state = ctx.activity[card.index] as CardActivity;
  if (state.tripCountry !== undefined && day > state.tripUntilDay) state.tripCountry = undefined;
  if (state.tripCountry === undefined && rng() < card.travelPropensity) {
    const destinations = index.destinations.get(card.homeCountry) ?? [];
    if (destinations.length > 0) {
      state.tripCountry = pick(rng, destinations);
      state.tripUntilDay = day + randInt(rng, 1, 6);
    }
  }
  const weekday = new Date(dayMs).getUTCDay();
  const rate = card.dailyRate * (weekday === 0 || weekday === 6 ? WEEKEND_FACTOR : 1);
  const n = poisson(rng, rate);
  for (let k = 0; k < n; k++) out.push(legitAuthorization(ctx, card, state, day, dayMs));

  // Noise that resembles card testing: a few quick small in-app purchases at one merchant.
  if (rng() < 0.01) {
    const merchant = index.merchants[index.online.sample(rng)] as MerchantProfile;
    const burst = randInt(rng, 2, 4);
    let ms = legitTime(rng, card, dayMs).ms;
    const deviceId = cardDeviceOn(rng, card, day);
    for (let k = 0; k < burst; k++) {
      out.push({
        ms,
        card,
        merchant,
        amount: randInt(rng, 99, 999),
        country: state.tripCountry ?? card.homeCountry,
        channel: 'ecommerce',
        deviceId,
        outcome: outcomeFor(rng, DECLINE_RATE_LEGIT),
        pattern: 'legit',
        odd: false,
      });
      ms += randInt(rng, 20, 600) * SECOND;
    }
  }
}

function legitAuthorization(
  ctx: Context,
  card: CardProfile,
  state: CardActivity,
  day: number,
  dayMs: number,
): DraftAuthorization {
  const { rng, index } = ctx;
  const travelling = state.tripCountry !== undefined;
  const location = state.tripCountry ?? card.homeCountry;
  let merchantIndex: number;
  if (travelling) {
    // Abroad: mostly shops at the destination, otherwise online (home favourites are out of reach).
    const table = index.inPersonByCountry.get(location);
    merchantIndex = table && rng() < 0.8 ? table.sample(rng) : index.online.sample(rng);
  } else if (rng() < 0.7 && card.favouriteMerchants.length > 0) {
    // Skewed towards the first favourites: a "usual" supermarket dominates.
    const f = card.favouriteMerchants;
    merchantIndex = f[Math.floor(f.length * rng() ** 1.7)] as number;
  } else {
    const local = index.inPersonByCountry.get(location);
    merchantIndex = !local || rng() < 0.35 ? index.online.sample(rng) : local.sample(rng);
  }
  const merchant = index.merchants[merchantIndex] as MerchantProfile;
  const channel = channelFor(rng, merchant, merchant.kind !== 'online' && merchant.country === location);
  const { ms, odd: oddHour } = legitTime(rng, card, dayMs);
  // Occasional big-ticket purchase (a sofa, a flight upgrade).
  const big = rng() < 0.02;
  let amount = amountFor(rng, card, merchant.mcc);
  if (big) amount = Math.round(amount * uniform(rng, 3, 8));
  let deviceId: string | undefined;
  let unusualDevice = false;
  if (channel === 'ecommerce') {
    // A holder sometimes shops on a borrowed or work machine.
    unusualDevice = rng() < 0.005;
    deviceId = unusualDevice ? `dev_${hex(rng, 12)}` : cardDeviceOn(rng, card, day);
  }
  // In-person purchases happen where the holder is; online ones where their connection is,
  // which is also home unless travelling (plus a little VPN noise).
  const vpn = channel === 'ecommerce' && rng() < 0.01;
  const country = vpn ? pick(rng, FOREIGN_COUNTRIES) : location;
  return {
    ms,
    card,
    merchant,
    amount,
    country,
    channel,
    deviceId,
    outcome: outcomeFor(rng, DECLINE_RATE_LEGIT * (big ? 5 : 1)),
    pattern: 'legit',
    odd: travelling || big || oddHour || unusualDevice || vpn || merchant.risk > 0.5,
  };
}

function fraudsterCountry(rng: Rng, card: CardProfile): string {
  if (rng() < 0.6) return pick(rng, FOREIGN_COUNTRIES);
  const others = HOME_COUNTRIES.filter((c) => c.code !== card.homeCountry);
  return pick(rng, others).code;
}

function cardTesting(ctx: Context, card: CardProfile, dayMs: number): DraftAuthorization[] {
  const { rng, index } = ctx;
  const out: DraftAuthorization[] = [];
  const count = randInt(rng, 5, 20);
  // Bots run at any hour; finishing before 23:00 keeps the burst inside the window.
  let ms = dayMs + Math.floor(rng() * 22 * HOUR);
  const deviceId = rng() < 0.6 ? `dev_${hex(rng, 12)}` : undefined;
  const country = rng() < 0.7 ? fraudsterCountry(rng, card) : card.homeCountry;
  const used = new Set<number>();
  for (let k = 0; k < count; k++) {
    // Distinct merchants while the pool lasts: spreading avoids per-merchant velocity rules.
    let m = index.cardTesting.sample(rng);
    for (let tries = 0; used.has(m) && tries < 30; tries++) m = index.cardTesting.sample(rng);
    used.add(m);
    const amount = rng() < 0.2 ? pick(rng, [100, 100, 200, 500]) : randInt(rng, 100, 500);
    out.push({
      ms,
      card,
      merchant: index.merchants[m] as MerchantProfile,
      amount,
      country,
      channel: 'ecommerce',
      deviceId,
      outcome: outcomeFor(rng, DECLINE_RATE_CARD_TESTING),
      pattern: 'card_testing',
      odd: false,
    });
    ms += randInt(rng, 3, 60) * SECOND + Math.floor(rng() * SECOND);
  }
  if (rng() < 0.4) {
    const m = index.cashOut.sample(rng);
    out.push({
      ms: ms + randInt(rng, 2, 60) * MINUTE,
      card,
      merchant: index.merchants[m] as MerchantProfile,
      amount: Math.round(card.typicalAmount * uniform(rng, 5, 20)),
      country,
      channel: 'ecommerce',
      deviceId,
      outcome: outcomeFor(rng, DECLINE_RATE_FRAUD),
      pattern: 'card_testing',
      odd: false,
    });
  }
  return out;
}

function accountTakeover(ctx: Context, card: CardProfile, dayMs: number): DraftAuthorization[] {
  const { rng, index } = ctx;
  const out: DraftAuthorization[] = [];
  const deviceId = `dev_${hex(rng, 12)}`;
  const country = rng() < 0.65 ? fraudsterCountry(rng, card) : card.homeCountry;
  // Outside the holder's usual hours, when they are unlikely to notice alerts.
  const quietHours = 24 - card.activeHours;
  const hour = (card.activeStartHour + card.activeHours + Math.floor(rng() * quietHours)) % 24;
  let ms = dayMs + hour * HOUR + Math.floor(rng() * HOUR);
  const count = randInt(rng, 2, 8);
  for (let k = 0; k < count; k++) {
    const merchant = index.merchants[index.ato.sample(rng)] as MerchantProfile;
    out.push({
      ms,
      card,
      merchant,
      amount: Math.round(card.typicalAmount * uniform(rng, 3, 10) * Math.exp(0.2 * normal(rng))),
      country,
      channel: 'ecommerce',
      deviceId,
      outcome: outcomeFor(rng, DECLINE_RATE_FRAUD),
      pattern: 'account_takeover',
      odd: false,
    });
    ms += randInt(rng, 5, 90) * MINUTE + Math.floor(rng() * MINUTE);
  }
  return out;
}

function bustOut(ctx: Context, card: CardProfile, day: number, dayMs: number): DraftAuthorization[] {
  const { rng, index } = ctx;
  const out: DraftAuthorization[] = [];
  const spanDays = randInt(rng, 1, 3);
  const count = randInt(rng, 4, 12);
  // First-party fraud: the holder's own device, country and hours, but escalating amounts.
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    times.push(legitTime(rng, card, dayMs + Math.floor(rng() * spanDays) * DAY).ms);
  }
  times.sort((a, b) => a - b);
  for (let k = 0; k < count; k++) {
    const merchant = index.merchants[index.bustOut.sample(rng)] as MerchantProfile;
    const channel = channelFor(rng, merchant, merchant.country === card.homeCountry);
    const escalation = 2 * (15 / 2) ** (k / Math.max(1, count - 1));
    out.push({
      ms: times[k] as number,
      card,
      merchant,
      amount: Math.min(800_000, Math.round(card.typicalAmount * escalation * Math.exp(0.3 * normal(rng)))),
      country: card.homeCountry,
      channel,
      deviceId: channel === 'ecommerce' ? cardDeviceOn(rng, card, day) : undefined,
      outcome: outcomeFor(rng, DECLINE_RATE_FRAUD),
      pattern: 'bust_out',
      odd: false,
    });
  }
  return out;
}

function fraudEpisode(ctx: Context, pattern: FraudPattern, card: CardProfile, day: number, dayMs: number) {
  switch (pattern) {
    case 'card_testing':
      return cardTesting(ctx, card, dayMs);
    case 'account_takeover':
      return accountTakeover(ctx, card, dayMs);
    case 'bust_out':
      return bustOut(ctx, card, day, dayMs);
  }
}

/** Decides whether and when an authorization gets a label; undefined for most legit ones. */
function labelFor(rng: Rng, draft: DraftAuthorization): { label: Label; delayMs: number } | undefined {
  if (draft.pattern !== 'legit') {
    // Declined fraud cannot be charged back; the issuer confirms some of it with the holder.
    if (draft.outcome === 'declined') {
      return rng() < 0.8
        ? { label: 'confirmed_fraud', delayMs: uniform(rng, 0.5 * HOUR, 5 * DAY) }
        : undefined;
    }
    if (rng() >= 0.93) return undefined;
    if (rng() < 0.12) return { label: 'confirmed_fraud', delayMs: uniform(rng, 2 * HOUR, 10 * DAY) };
    // Chargebacks: a long right tail, median around two weeks, clipped to 2–45 days.
    const days = Math.min(45, Math.max(2, Math.exp(Math.log(13) + 0.6 * normal(rng))));
    return { label: 'chargeback', delayMs: days * DAY };
  }
  const p = draft.odd ? 0.015 : 0.0003;
  return rng() < p
    ? { label: 'confirmed_legitimate', delayMs: uniform(rng, 10 * MINUTE, 7 * DAY) }
    : undefined;
}

/**
 * Generates the simulated event stream: authorizations with ground truth and labels,
 * in non-decreasing timestamp order. Lazy — consume it with `for…of` and write as you go.
 *
 * Ids are deterministic: authorizations get `transactionId` `tx_<day>_<counter>` and
 * `eventId` `evt_<transactionId>`; labels get `eventId` `lbl_<transactionId>`.
 *
 * @param options - population size, window, seed (see {@link SimulationOptions})
 * @throws RangeError on invalid options (before the first event is yielded — validation is eager)
 */
export function simulate(options: SimulationOptions): Generator<SimulatedEvent, void, undefined> {
  const resolved = resolveOptions(options);
  return run(resolved);
}

function* run(options: ResolvedSimulationOptions): Generator<SimulatedEvent, void, undefined> {
  const { population, index } = buildPopulationResolved(options);
  const { cards } = population;
  const ctx: Context = {
    rng: createRng(options.seed, RNG_STREAM_ACTIVITY),
    index,
    activity: cards.map(() => ({ tripUntilDay: -1, compromised: false })),
  };
  const { rng } = ctx;
  const patternTable = new WeightedTable(
    PATTERN_MIX.map((p) => [p.pattern, p.weight] as [FraudPattern, number]),
  );
  const windowEndMs = options.startMs + options.days * DAY;
  const labels = new LabelHeap();
  let labelSeq = 0;
  /** Fraud authorizations of episodes that spill into later days, by day index. */
  const spill = new Map<number, DraftAuthorization[]>();

  // Cards need a little history before fraud so "new device/country" features mean something.
  const fraudStartDay = Math.min(2, Math.floor(options.days / 4));
  const fraudDays = options.days - fraudStartDay;
  const ratio = options.fraudRate / (1 - options.fraudRate);
  const expectedLegitPerDay = cards.reduce((sum, c) => sum + c.dailyRate, 0) * ((5 + 2 * WEEKEND_FACTOR) / 7);
  let legitSoFar = 0;
  let fraudScheduled = 0;

  for (let day = 0; day < options.days; day++) {
    const dayMs = options.startMs + day * DAY;
    const nextDayMs = dayMs + DAY;
    const drafts: DraftAuthorization[] = [];
    /** Routes a draft to today's batch or, if it falls on a later day, to that day's spill list. */
    const schedule = (draft: DraftAuthorization): void => {
      if (draft.ms < nextDayMs) {
        drafts.push(draft);
        return;
      }
      const d = Math.floor((draft.ms - options.startMs) / DAY);
      const list = spill.get(d) ?? [];
      list.push(draft);
      spill.set(d, list);
    };
    const legit: DraftAuthorization[] = [];
    for (const card of cards) legitDay(ctx, card, day, dayMs, legit);
    for (const draft of legit) {
      // Late-evening bursts may run past midnight; past the window they are dropped.
      if (draft.ms >= windowEndMs) continue;
      legitSoFar++;
      schedule(draft);
    }

    if (day >= fraudStartDay) {
      // Feedback controller: aim the cumulative fraud count at the target share of the
      // (projected) legit volume, spread evenly over the fraud days; episode sizes vary a
      // lot, so correcting each day keeps small runs near the target too.
      const projectedLegit = legitSoFar + expectedLegitPerDay * (options.days - day - 1);
      const target = (ratio * projectedLegit * (day - fraudStartDay + 1)) / fraudDays;
      const episodes = poisson(rng, Math.max(0, target - fraudScheduled) / MEAN_EPISODE_SIZE);
      for (let e = 0; e < episodes; e++) {
        const pattern = patternTable.sample(rng);
        let card: CardProfile | undefined;
        for (let tries = 0; tries < 20 && card === undefined; tries++) {
          const candidate = cards[Math.floor(rng() * cards.length)] as CardProfile;
          if (!(ctx.activity[candidate.index] as CardActivity).compromised) card = candidate;
        }
        if (card === undefined) continue;
        (ctx.activity[card.index] as CardActivity).compromised = true;
        for (const draft of fraudEpisode(ctx, pattern, card, day, dayMs)) {
          // Episodes running past the window are cut there: the file covers the window only.
          if (draft.ms >= windowEndMs) continue;
          fraudScheduled++;
          schedule(draft);
        }
      }
    }
    const carried = spill.get(day);
    if (carried) {
      for (const draft of carried) drafts.push(draft);
      spill.delete(day);
    }

    // Stable sort: equal timestamps keep generation order, which is itself deterministic.
    drafts.sort((a, b) => a.ms - b.ms);
    const dayTag = pad(day, 3);
    let counter = 0;
    for (const draft of drafts) {
      while (labels.peekMs() <= draft.ms) yield (labels.pop() as PendingLabel).event;
      const transactionId = `tx_${dayTag}_${pad(counter++, 6)}`;
      const event = toEvent(options, draft, transactionId);
      const label = labelFor(rng, draft);
      if (label) {
        // At least 1 ms later, so a label never precedes or ties its own authorization.
        const ms = draft.ms + Math.max(1, Math.round(label.delayMs));
        labels.push({
          ms,
          seq: labelSeq++,
          event: {
            type: 'label',
            eventId: `lbl_${transactionId}`,
            transactionId,
            cardId: event.cardId,
            merchantId: event.merchantId,
            label: label.label,
            timestamp: new Date(ms).toISOString(),
            transactionTimestamp: event.timestamp,
          },
        });
      }
      yield event;
    }
    while (labels.peekMs() < nextDayMs) yield (labels.pop() as PendingLabel).event;
  }
  // Labels reported after the window still come out, so every labelled transaction is labelled.
  while (labels.size > 0) yield (labels.pop() as PendingLabel).event;
}

function toEvent(options: ResolvedSimulationOptions, draft: DraftAuthorization, transactionId: string) {
  // Fixed key order keeps serialized output byte-identical between runs.
  const event: SimulatedAuthorization = {
    type: 'authorization',
    eventId: `evt_${transactionId}`,
    transactionId,
    cardId: draft.card.cardId,
    merchantId: draft.merchant.merchantId,
    mcc: draft.merchant.mcc,
    amount: draft.amount,
    currency: options.currency,
    country: draft.country,
    channel: draft.channel,
    timestamp: new Date(draft.ms).toISOString(),
    ...(draft.deviceId === undefined ? {} : { deviceId: draft.deviceId }),
    outcome: draft.outcome,
    sim: { fraud: draft.pattern !== 'legit', pattern: draft.pattern },
  };
  return event;
}
