/**
 * The simulator's fraud patterns: card testing (a burst of small charges at many merchants, then
 * sometimes a cash-out), account takeover (a new device, often abroad, in the holder's quiet
 * hours) and bust-out (the holder's own device and country, escalating amounts over 1–3 days).
 */

import {
  type Context,
  cardDeviceOn,
  channelFor,
  type DraftAuthorization,
  legitTime,
  outcomeFor,
} from './simulation-legit';
import {
  type CardProfile,
  DAY,
  DECLINE_RATE_CARD_TESTING,
  DECLINE_RATE_FRAUD,
  FOREIGN_COUNTRIES,
  type FraudPattern,
  HOME_COUNTRIES,
  HOUR,
  hex,
  type MerchantProfile,
  MINUTE,
  normal,
  pick,
  type Rng,
  randInt,
  SECOND,
  uniform,
} from './simulation-model';

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

export function fraudEpisode(
  ctx: Context,
  pattern: FraudPattern,
  card: CardProfile,
  day: number,
  dayMs: number,
) {
  switch (pattern) {
    case 'card_testing':
      return cardTesting(ctx, card, dayMs);
    case 'account_takeover':
      return accountTakeover(ctx, card, dayMs);
    case 'bust_out':
      return bustOut(ctx, card, day, dayMs);
  }
}
