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

import { fraudEpisode } from './simulation-fraud';
import { LabelHeap, labelFor, type PendingLabel } from './simulation-labels';
import { type CardActivity, type Context, type DraftAuthorization, legitDay } from './simulation-legit';
import {
  type CardProfile,
  createRng,
  DAY,
  type FraudPattern,
  MEAN_EPISODE_SIZE,
  PATTERN_MIX,
  pad,
  poisson,
  type ResolvedSimulationOptions,
  type SimulatedAuthorization,
  type SimulatedEvent,
  type SimulationOptions,
  WEEKEND_FACTOR,
  WeightedTable,
} from './simulation-model';
import { buildPopulationResolved, RNG_STREAM_ACTIVITY, resolveOptions } from './simulation-population';

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
