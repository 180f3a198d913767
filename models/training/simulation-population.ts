/**
 * The simulated population: options with their defaults and validation, and the cards and
 * merchants built from the population's own PRNG stream, so that changing how daily activity
 * consumes random numbers never changes who the cards and merchants are.
 */

import {
  ATO_MCCS,
  BUST_OUT_MCCS,
  CARD_TESTING_MCCS,
  CASH_OUT_MCCS,
  type CardProfile,
  createRng,
  DEFAULT_FRAUD_RATE,
  DEFAULT_START,
  EVERYDAY_MCCS,
  FOREIGN_COUNTRIES,
  HOME_COUNTRIES,
  hex,
  MCC_BY_CODE,
  MCCS,
  type MccProfile,
  type MerchantKind,
  type MerchantProfile,
  MIN_MERCHANTS,
  normal,
  type Population,
  pad,
  pick,
  type ResolvedSimulationOptions,
  RISKY_ONLINE_MCCS,
  type Rng,
  randInt,
  type SimulationOptions,
  uniform,
  WeightedTable,
} from './simulation-model';

// Options
// ---------------------------------------------------------------------------------------

export function assertInteger(name: string, value: unknown, min: number, max: number): number {
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

export const RNG_STREAM_POPULATION = 1;
export const RNG_STREAM_ACTIVITY = 2;

export function buildMerchants(rng: Rng, count: number): MerchantProfile[] {
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
export interface MerchantIndex {
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

export function indexMerchants(merchants: MerchantProfile[]): MerchantIndex {
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

export function buildCards(rng: Rng, count: number, days: number, index: MerchantIndex): CardProfile[] {
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

export function buildPopulationResolved(options: ResolvedSimulationOptions): {
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
