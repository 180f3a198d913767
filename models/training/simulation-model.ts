/**
 * The simulator's model of the world: public types, the static tables (countries, merchant
 * categories, pattern mix, rates) and the seeded PRNG with its sampling helpers. Pure data and
 * pure functions: no I/O, no clock, no `Math.random`.
 */
import type { AuthorizationEvent, LabelEvent } from '#domain/types';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

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
export const HOME_COUNTRIES: readonly { code: string; weight: number; utcOffset: number }[] = [
  { code: 'DE', weight: 0.55, utcOffset: 1 },
  { code: 'FR', weight: 0.1, utcOffset: 1 },
  { code: 'NL', weight: 0.1, utcOffset: 1 },
  { code: 'GB', weight: 0.08, utcOffset: 0 },
  { code: 'US', weight: 0.05, utcOffset: -5 },
  { code: 'ES', weight: 0.06, utcOffset: 1 },
  { code: 'IT', weight: 0.06, utcOffset: 1 },
];
/** Countries outside the population that host a few merchants, trips and fraudsters. */
export const FOREIGN_COUNTRIES: readonly string[] = ['TR', 'TH', 'BR', 'AE', 'CN'];

export interface MccProfile {
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
export const MCCS: readonly MccProfile[] = [
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
export const MCC_BY_CODE = new Map(MCCS.map((m) => [m.mcc, m]));
/** Everyday physical categories every home country must have for daily shopping and trips. */
export const EVERYDAY_MCCS = ['5411', '5812', '5541'] as const;
/** Categories that must exist at least once so every fraud pattern has targets. */
export const RISKY_ONLINE_MCCS = ['5942', '5999', '4511', '5816', '7995', '4829', '6051', '5732'] as const;
/** Bust-out cashes out through categories that turn credit into money or resellable goods. */
export const BUST_OUT_MCCS = new Set(['7995', '6051', '4829', '5732']);
/** Account takeover buys goods that resell well or are delivered instantly. */
export const ATO_MCCS = new Set(['5732', '5942', '5999', '4511', '5816', '6051']);
/** Card testers prefer digital goods and small-ticket online shops. */
export const CARD_TESTING_MCCS = new Set(['5816', '5999', '5942', '4829', '7995']);
/** Cash-out after a successful test. */
export const CASH_OUT_MCCS = new Set(['5732', '6051', '4829', '5816']);

/** Relative share of fraud episodes by pattern. */
export const PATTERN_MIX: readonly { pattern: FraudPattern; weight: number }[] = [
  { pattern: 'card_testing', weight: 0.3 },
  { pattern: 'account_takeover', weight: 0.4 },
  { pattern: 'bust_out', weight: 0.3 },
];
/**
 * Expected authorizations per episode under {@link PATTERN_MIX} (≈ 0.3·12.9 + 0.4·5 + 0.3·8);
 * only a starting estimate — the controller in {@link simulate} corrects for the real sizes.
 */
export const MEAN_EPISODE_SIZE = 8.3;

export const DECLINE_RATE_LEGIT = 0.003;
export const DECLINE_RATE_FRAUD = 0.04;
export const DECLINE_RATE_CARD_TESTING = 0.08;
/** Weekend days have a little less everyday spending. */
export const WEEKEND_FACTOR = 0.85;

// ---------------------------------------------------------------------------------------
// PRNG and sampling helpers
// ---------------------------------------------------------------------------------------

/** splitmix32 step: spreads a small or sequential seed over all 32 bits. */
export function splitmix32(state: number): [number, number] {
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

export function randInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function uniform(rng: Rng, min: number, max: number): number {
  return min + rng() * (max - min);
}

export function normal(rng: Rng): number {
  // Box–Muller; 1 - rng() keeps the log argument in (0, 1].
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function poisson(rng: Rng, lambda: number): number {
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

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Weighted sampling over a prebuilt cumulative table (binary search, O(log n)). */
export class WeightedTable<T> {
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

export function hex(rng: Rng, digits: number): string {
  let out = '';
  while (out.length < digits)
    out += Math.floor(rng() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  return out.slice(0, digits);
}

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------
