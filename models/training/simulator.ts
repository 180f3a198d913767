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
import type { Channel, Label, LabelEvent } from '#domain/types';
import {
  type CardProfile,
  createRng,
  DAY,
  DECLINE_RATE_CARD_TESTING,
  DECLINE_RATE_FRAUD,
  DECLINE_RATE_LEGIT,
  FOREIGN_COUNTRIES,
  type FraudPattern,
  HOME_COUNTRIES,
  HOUR,
  hex,
  MCC_BY_CODE,
  type MccProfile,
  MEAN_EPISODE_SIZE,
  type MerchantProfile,
  MINUTE,
  normal,
  PATTERN_MIX,
  pad,
  pick,
  poisson,
  type ResolvedSimulationOptions,
  type Rng,
  randInt,
  SECOND,
  type SimulatedAuthorization,
  type SimulatedEvent,
  type SimulationOptions,
  uniform,
  WEEKEND_FACTOR,
  WeightedTable,
} from './simulation-model';
import {
  buildPopulationResolved,
  type MerchantIndex,
  RNG_STREAM_ACTIVITY,
  resolveOptions,
} from './simulation-population';

// The public API of the simulator, wherever it is defined.
export {
  type CardProfile,
  createRng,
  DEFAULT_FRAUD_RATE,
  DEFAULT_START,
  FRAUD_PATTERNS,
  type FraudPattern,
  type MerchantKind,
  type MerchantProfile,
  MIN_MERCHANTS,
  type Population,
  type ResolvedSimulationOptions,
  type Rng,
  type SimulatedAuthorization,
  type SimulatedEvent,
  type SimulationOptions,
  type SimulationTruth,
} from './simulation-model';
export {
  buildPopulation,
  parseStartDate,
  resolveOptions,
} from './simulation-population';

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
