/**
 * The simulator's legitimate behaviour: each card's daily purchases (favourite merchants, trips
 * abroad, devices, preferred hours, occasional big tickets and harmless bursts that resemble card
 * testing), and the building blocks the fraud patterns reuse (channel, amount, time, device,
 * outcome). Pure: every draw comes from the walk's seeded generator.
 */
import type { Channel } from '#domain/types';
import {
  type CardProfile,
  DECLINE_RATE_LEGIT,
  FOREIGN_COUNTRIES,
  type FraudPattern,
  HOUR,
  hex,
  MCC_BY_CODE,
  type MccProfile,
  type MerchantProfile,
  normal,
  pick,
  poisson,
  type Rng,
  randInt,
  SECOND,
  uniform,
  WEEKEND_FACTOR,
} from './simulation-model';
import type { MerchantIndex } from './simulation-population';

/** An authorization before it gets its ids (ids follow the sorted order of the day). */
export interface DraftAuthorization {
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

/**
 * Channel for a purchase. `atLocation` says whether the holder could be standing in the shop
 * (an omni-channel merchant in the holder's current country); physical merchants are only
 * ever passed when that is true.
 */
export function channelFor(rng: Rng, merchant: MerchantProfile, atLocation: boolean): Channel {
  if (merchant.kind === 'physical' || (merchant.kind === 'omni' && atLocation && rng() < 0.6)) {
    return rng() < 0.6 ? 'contactless' : 'card_present';
  }
  // Mail/telephone orders are rare and mostly travel and misc retail.
  const motoShare = merchant.mcc === '4511' || merchant.mcc === '5999' ? 0.06 : 0.01;
  return rng() < motoShare ? 'moto' : 'ecommerce';
}

export function amountFor(rng: Rng, card: CardProfile, mcc: string, sigma = 0.5): number {
  const factor = (MCC_BY_CODE.get(mcc) as MccProfile).amountFactor;
  return Math.max(50, Math.round(card.typicalAmount * factor * Math.exp(sigma * normal(rng))));
}

/** A time within the card's preferred hours (or, sometimes, any hour) on the given day. */
export function legitTime(rng: Rng, card: CardProfile, dayMs: number): { ms: number; odd: boolean } {
  const inWindow = rng() < 0.88;
  const hour = inWindow
    ? (card.activeStartHour + Math.floor(rng() * card.activeHours)) % 24
    : Math.floor(rng() * 24);
  return { ms: dayMs + hour * HOUR + Math.floor(rng() * HOUR), odd: !inWindow };
}

export function cardDeviceOn(rng: Rng, card: CardProfile, day: number): string {
  if (card.laterDevice && day >= card.laterDevice.fromDay && rng() < 0.7) return card.laterDevice.deviceId;
  return rng() < 0.8 || card.devices.length === 1 ? (card.devices[0] as string) : (card.devices[1] as string);
}

export function outcomeFor(rng: Rng, declineRate: number): 'approved' | 'declined' {
  return rng() < declineRate ? 'declined' : 'approved';
}

/** Per-card mutable state during the walk. */
export interface CardActivity {
  /** Country the holder is travelling in, or undefined at home. */
  tripCountry?: string;
  tripUntilDay: number;
  compromised: boolean;
}

/** Everything {@link simulate} threads through its helpers. */
export interface Context {
  rng: Rng;
  index: MerchantIndex;
  activity: CardActivity[];
}

export function legitDay(
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
