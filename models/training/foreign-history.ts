/**
 * A labelled history that is *not* the simulator's, for tests and the acceptance of
 * "training on any labelled history": one country (US), one currency (USD), no device ids,
 * hexadecimal transaction ids, its own merchant count and its own fraud patterns, written in
 * the `/v1/events` format the way a team would export it from two tables — all
 * authorizations in time order, then all labels (so the input is *not* in time order and the
 * reader must sort it).
 *
 * Fraud patterns (none of them the simulator's):
 * - `burst`: a stolen card is run through 4–9 online purchases at different merchants within
 *   about 40 minutes (velocity and distinct merchants);
 * - `skimmer`: cards that shopped at one of a few compromised merchants are cashed out days
 *   later with one large purchase (merchant fraud history, amount against the card's usual);
 * - `spike`: one purchase 8–25 × the card's usual amount at a night hour.
 *
 *   npx tsx models/training/foreign-history.ts --out FILE[.gz] [--cards N] [--days D] [--seed S]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { mulberry32 } from '#domain/random';
import type { AuthorizationEvent, Channel, LabelEvent, TransactionEvent } from '#domain/types';

/** Options of {@link foreignHistory}. */
export interface ForeignHistoryOptions {
  /** @default 1500 */
  readonly cards?: number;
  /** @default 30 */
  readonly days?: number;
  /** @default 7 */
  readonly seed?: number;
  /** First day, UTC. @default '2025-03-03' */
  readonly start?: string;
}

const DAY = 86_400_000;
const MINUTE = 60_000;
const MCCS = ['5411', '5812', '5541', '5311', '5732', '5999', '5912', '4121', '5651', '7011', '5942', '5814'];

/**
 * Generates the history: `{ authorizations, labels }` each in its own order (authorizations
 * by time, labels by time), deterministic for the options.
 */
export function foreignHistory(options: ForeignHistoryOptions = {}): {
  authorizations: AuthorizationEvent[];
  labels: LabelEvent[];
} {
  const cards = options.cards ?? 1500;
  const days = options.days ?? 30;
  const random = mulberry32(options.seed ?? 7);
  const start = Date.parse(`${options.start ?? '2025-03-03'}T00:00:00Z`);
  const end = start + days * DAY;
  const merchants = Math.max(40, Math.round(cards / 11));
  const skimmers = new Set(Array.from({ length: 3 }, () => Math.floor(random() * merchants)));
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const merchantMcc = Array.from(
    { length: merchants },
    () => MCCS[Math.floor(random() * MCCS.length)] as string,
  );

  const authorizations: AuthorizationEvent[] = [];
  const fraud: AuthorizationEvent[] = [];
  const authorize = (
    card: string,
    merchant: number,
    ms: number,
    amount: number,
    channel: Channel,
    isFraud: boolean,
  ): void => {
    if (ms >= end) return;
    const id = hex(16);
    const event: AuthorizationEvent = {
      type: 'authorization',
      eventId: hex(24),
      transactionId: id,
      cardId: card,
      merchantId: `mer${merchant}`,
      mcc: merchantMcc[merchant] as string,
      amount: Math.max(50, Math.round(amount)),
      currency: 'USD',
      country: 'US',
      channel,
      timestamp: new Date(ms).toISOString(),
      outcome: 'approved',
    };
    authorizations.push(event);
    if (isFraud) fraud.push(event);
  };

  for (let c = 0; c < cards; c += 1) {
    const card = `tok${hex(12)}`;
    const usual = Math.exp(7 + 0.9 * normal()); // ~ $11 median, in cents
    const perDay = 0.4 + 2 * random();
    const favourites = Array.from({ length: 3 + Math.floor(random() * 6) }, () =>
      Math.floor(random() * merchants),
    );
    const online = random() * 0.5;
    let visitedSkimmer = -1;
    for (let t = start + random() * DAY; t < end; t += (-Math.log(1 - random()) / perDay) * DAY) {
      const hour = new Date(t).getUTCHours();
      if (hour < 6 && random() < 0.8) continue; // people sleep
      const merchant =
        random() < 0.8
          ? (favourites[Math.floor(random() * favourites.length)] as number)
          : Math.floor(random() * merchants);
      if (skimmers.has(merchant) && visitedSkimmer < 0) visitedSkimmer = t;
      const channel: Channel =
        random() < online ? 'ecommerce' : random() < 0.5 ? 'contactless' : 'card_present';
      authorize(card, merchant, t, usual * Math.exp(0.5 * normal()), channel, false);
    }
    const roll = random();
    if (roll < 0.006) {
      // burst
      let t = start + (0.3 + 0.7 * random()) * (end - start);
      for (let k = 0, n = 4 + Math.floor(random() * 6); k < n; k += 1) {
        authorize(card, Math.floor(random() * merchants), t, usual * (1 + 3 * random()), 'ecommerce', true);
        t += (1 + 8 * random()) * MINUTE;
      }
    } else if (roll < 0.012) {
      // spike at night
      const day = Math.floor((0.3 + 0.7 * random()) * days);
      const t = start + day * DAY + (1 + 3 * random()) * 3_600_000;
      authorize(card, Math.floor(random() * merchants), t, usual * (8 + 17 * random()), 'ecommerce', true);
    }
    if (visitedSkimmer >= 0 && random() < 0.35) {
      const t = visitedSkimmer + (2 + 6 * random()) * DAY;
      authorize(card, Math.floor(random() * merchants), t, usual * (4 + 8 * random()), 'card_present', true);
    }
  }
  authorizations.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));

  const labels: LabelEvent[] = [];
  const label = (tx: AuthorizationEvent, kind: LabelEvent['label'], delayDays: number): void => {
    labels.push({
      type: 'label',
      eventId: hex(24),
      transactionId: tx.transactionId,
      cardId: tx.cardId,
      merchantId: tx.merchantId,
      label: kind,
      timestamp: new Date(Date.parse(tx.timestamp) + delayDays * DAY).toISOString(),
      transactionTimestamp: tx.timestamp,
    });
  };
  for (const tx of fraud)
    if (random() < 0.93) label(tx, random() < 0.85 ? 'chargeback' : 'confirmed_fraud', 3 + 25 * random());
  for (const tx of authorizations) if (random() < 0.002) label(tx, 'confirmed_legitimate', 1 + 10 * random());
  labels.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  return { authorizations, labels };
}

/** The history as JSON lines: authorizations, then labels (two exported tables, concatenated). */
export function foreignHistoryLines(options: ForeignHistoryOptions = {}): string {
  const { authorizations, labels } = foreignHistory(options);
  const events: TransactionEvent[] = [...authorizations, ...labels];
  return `${events.map((event) => JSON.stringify(event)).join('\n')}\n`;
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      cards: { type: 'string' },
      days: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  if (!values.out) {
    process.stderr.write('usage: foreign-history --out FILE[.gz] [--cards N] [--days D] [--seed S]\n');
    process.exit(2);
  }
  const text = foreignHistoryLines({
    cards: values.cards === undefined ? undefined : Number(values.cards),
    days: values.days === undefined ? undefined : Number(values.days),
    seed: values.seed === undefined ? undefined : Number(values.seed),
  });
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, values.out.endsWith('.gz') ? gzipSync(text) : text);
  const lines = text.split('\n').length - 1;
  process.stderr.write(`wrote ${lines} events to ${values.out}\n`);
}

if (require.main === module) main(process.argv.slice(2));
