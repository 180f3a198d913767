import type { LabelEvent } from '#domain/types';
import { isFraudLabel } from '#domain/types';
import { parseSimulateArgs, UsageError } from '../../models/training/simulate-cli';
import {
  buildPopulation,
  createRng,
  FRAUD_PATTERNS,
  type SimulatedAuthorization,
  type SimulatedEvent,
  type SimulationOptions,
  simulate,
} from '../../models/training/simulator';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

function collect(options: SimulationOptions): SimulatedEvent[] {
  return [...simulate(options)];
}

const isAuth = (e: SimulatedEvent): e is SimulatedAuthorization => e.type === 'authorization';
const isLabel = (e: SimulatedEvent): e is LabelEvent => e.type === 'label';

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

describe('createRng', () => {
  it('is deterministic per seed and stream, and uniform-ish in [0, 1)', () => {
    const a = createRng(1);
    const b = createRng(1);
    const draws = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(draws);
    expect(createRng(2)()).not.toBe(createRng(1)());
    expect(createRng(1, 1)()).not.toBe(createRng(1, 0)());
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});

describe('simulate: determinism', () => {
  const small: SimulationOptions = { cards: 150, days: 6, seed: 7 };

  it('gives byte-identical output for the same options', () => {
    const first = collect(small);
    const second = collect(small);
    expect(first.length).toBeGreaterThan(500);
    expect(second.map((e) => JSON.stringify(e))).toEqual(first.map((e) => JSON.stringify(e)));
  });

  it('gives different output for a different seed or start', () => {
    const base = collect(small).map((e) => JSON.stringify(e));
    expect(collect({ ...small, seed: 8 }).map((e) => JSON.stringify(e))).not.toEqual(base);
    const shifted = collect({ ...small, start: '2026-10-01' });
    expect(shifted[0]?.timestamp.startsWith('2026-10-01')).toBe(true);
  });

  it('validates options eagerly with a clear message', () => {
    expect(() => simulate({ cards: 0, days: 1, seed: 1 })).toThrow(/cards must be an integer/);
    expect(() => simulate({ cards: 10, days: 1.5, seed: 1 })).toThrow(/days/);
    expect(() => simulate({ cards: 10, days: 1, seed: -1 })).toThrow(/seed/);
    expect(() => simulate({ cards: 10, days: 1, seed: 1, start: '2026-02-30' })).toThrow(/start/);
    expect(() => simulate({ cards: 10, days: 1, seed: 1, merchants: 5 })).toThrow(/merchants/);
    expect(() => simulate({ cards: 10, days: 1, seed: 1, fraudRate: 0.5 })).toThrow(/fraudRate/);
  });

  it('is lazy: the first events of a large run arrive without simulating the whole window', () => {
    const started = Date.now();
    const iterator = simulate({ cards: 10_000, days: 366, seed: 1 });
    const first = iterator.next();
    expect(first.done).toBe(false);
    // The whole year would take tens of seconds; the first day takes a fraction of one.
    expect(Date.now() - started).toBeLessThan(3000);
    iterator.return(undefined);
  });
});

describe('simulate: a mid-size run (1500 cards × 14 days)', () => {
  const options = { cards: 1500, days: 14, seed: 42, start: '2026-09-01' } satisfies SimulationOptions;
  const windowEnd = Date.parse('2026-09-01T00:00:00.000Z') + options.days * DAY;
  let events: SimulatedEvent[];
  let auths: SimulatedAuthorization[];
  let labels: LabelEvent[];
  let fraud: SimulatedAuthorization[];

  beforeAll(() => {
    events = collect(options);
    auths = events.filter(isAuth);
    labels = events.filter(isLabel);
    fraud = auths.filter((a) => a.sim.fraud);
  });

  it('emits events in non-decreasing time order with millisecond ISO timestamps', () => {
    // Violations are collected and asserted once: an expect() per event would dominate the runtime.
    const badFormat = events.filter(
      (e) => !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(e.timestamp),
    );
    expect(badFormat).toEqual([]);
    const outOfOrder = events.filter(
      (e, i) => i > 0 && Date.parse(e.timestamp) < Date.parse(events[i - 1]?.timestamp ?? ''),
    );
    expect(outOfOrder).toEqual([]);
    // Authorizations stay inside the window; only labels may come after it.
    expect(Math.max(...auths.map((a) => Date.parse(a.timestamp)))).toBeLessThan(windowEnd);
    expect(labels.some((l) => Date.parse(l.timestamp) >= windowEnd)).toBe(true);
  });

  it('uses unique event and transaction ids', () => {
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(new Set(auths.map((a) => a.transactionId)).size).toBe(auths.length);
    expect(new Set(labels.map((l) => l.transactionId)).size).toBe(labels.length);
  });

  it('has a realistic volume and fraud rate between 0.5 % and 2 %', () => {
    // 0.5–3 transactions per card-day.
    expect(auths.length / (options.cards * options.days)).toBeGreaterThan(0.8);
    expect(auths.length / (options.cards * options.days)).toBeLessThan(2.5);
    const rate = fraud.length / auths.length;
    expect(rate).toBeGreaterThanOrEqual(0.005);
    expect(rate).toBeLessThanOrEqual(0.02);
    expect(auths.filter((a) => a.sim.fraud !== (a.sim.pattern !== 'legit'))).toEqual([]);
  });

  it('contains every fraud pattern', () => {
    const patterns = new Set(fraud.map((a) => a.sim.pattern));
    for (const p of FRAUD_PATTERNS) expect(patterns).toContain(p);
  });

  it('declines a few fraud and very few legit authorizations', () => {
    const declinedShare = (list: SimulatedAuthorization[]) =>
      list.filter((a) => a.outcome === 'declined').length / list.length;
    const legit = auths.filter((a) => !a.sim.fraud);
    expect(declinedShare(legit)).toBeLessThan(0.01);
    expect(declinedShare(fraud)).toBeGreaterThan(declinedShare(legit));
    expect(declinedShare(fraud)).toBeLessThan(0.15);
  });

  it('labels reference an earlier authorization with matching card, merchant and time', () => {
    const byTx = new Map<string, { auth: SimulatedAuthorization; position: number }>();
    events.forEach((e, position) => {
      if (isAuth(e)) byTx.set(e.transactionId, { auth: e, position });
    });
    const problems: string[] = [];
    events.forEach((e, position) => {
      if (!isLabel(e)) return;
      const found = byTx.get(e.transactionId);
      if (!found) {
        problems.push(`${e.eventId}: no authorization`);
        return;
      }
      const { auth } = found;
      if (found.position >= position) problems.push(`${e.eventId}: not after its authorization`);
      if (e.cardId !== auth.cardId || e.merchantId !== auth.merchantId)
        problems.push(`${e.eventId}: card/merchant`);
      if (e.transactionTimestamp !== auth.timestamp) problems.push(`${e.eventId}: transactionTimestamp`);
      if (Date.parse(e.timestamp) <= Date.parse(auth.timestamp))
        problems.push(`${e.eventId}: reported too early`);
      // Ground truth agrees with the label: fraud labels only on fraud, confirmations only on legit.
      if (auth.sim.fraud !== isFraudLabel(e.label))
        problems.push(`${e.eventId}: ${e.label} on ${auth.sim.pattern}`);
    });
    expect(labels.length).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it('labels about 90–95 % of fraud, with chargebacks 2–45 days later, and only a few legit', () => {
    const labelled = new Set(labels.filter((l) => isFraudLabel(l.label)).map((l) => l.transactionId));
    const share = fraud.filter((a) => labelled.has(a.transactionId)).length / fraud.length;
    expect(share).toBeGreaterThan(0.85);
    expect(share).toBeLessThan(0.98);
    const chargebacks = labels.filter((l) => l.label === 'chargeback');
    expect(chargebacks.length).toBeGreaterThan(labels.filter((l) => l.label === 'confirmed_fraud').length);
    const delays = chargebacks.map((l) => Date.parse(l.timestamp) - Date.parse(l.transactionTimestamp));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2 * DAY);
    expect(Math.max(...delays)).toBeLessThanOrEqual(45 * DAY);
    const legitLabels = labels.filter((l) => l.label === 'confirmed_legitimate').length;
    expect(legitLabels).toBeGreaterThan(0);
    expect(legitLabels / (auths.length - fraud.length)).toBeLessThan(0.02);
  });

  it('card testing: bursts of 5–20 small amounts across distinct merchants within minutes', () => {
    const bursts = groupBy(
      fraud.filter((a) => a.sim.pattern === 'card_testing'),
      (a) => a.cardId,
    );
    expect(bursts.size).toBeGreaterThanOrEqual(3);
    for (const txs of bursts.values()) {
      const small = txs.filter((a) => a.amount <= 500);
      // At most one larger cash-out follows the tests.
      expect(txs.length - small.length).toBeLessThanOrEqual(1);
      expect(small.length).toBeGreaterThanOrEqual(5);
      expect(small.length).toBeLessThanOrEqual(20);
      for (const a of small) {
        expect(a.amount).toBeGreaterThanOrEqual(100);
        expect(a.channel).toBe('ecommerce');
      }
      expect(new Set(small.map((a) => a.merchantId)).size).toBeGreaterThanOrEqual(
        Math.ceil(0.8 * small.length),
      );
      const times = small.map((a) => Date.parse(a.timestamp));
      expect(Math.max(...times) - Math.min(...times)).toBeLessThanOrEqual(30 * MIN);
    }
  });

  it('account takeover: a device the card never used legitimately, larger amounts, ecommerce', () => {
    const population = buildPopulation(options);
    const cards = new Map(population.cards.map((c) => [c.cardId, c]));
    const legitDevices = new Map<string, Set<string>>();
    for (const a of auths) {
      if (a.sim.fraud || a.deviceId === undefined) continue;
      const set = legitDevices.get(a.cardId) ?? new Set<string>();
      set.add(a.deviceId);
      legitDevices.set(a.cardId, set);
    }
    const ato = fraud.filter((a) => a.sim.pattern === 'account_takeover');
    expect(ato.length).toBeGreaterThan(0);
    let ratioSum = 0;
    for (const a of ato) {
      const card = cards.get(a.cardId);
      expect(card).toBeDefined();
      expect(a.channel).toBe('ecommerce');
      expect(a.deviceId).toBeDefined();
      expect(card?.devices).not.toContain(a.deviceId);
      expect(card?.laterDevice?.deviceId).not.toBe(a.deviceId);
      expect(legitDevices.get(a.cardId)?.has(a.deviceId as string) ?? false).toBe(false);
      ratioSum += a.amount / (card?.typicalAmount ?? 1);
    }
    expect(ratioSum / ato.length).toBeGreaterThan(3);
  });

  it('bust-out: escalating amounts at high-risk categories on the card’s own devices', () => {
    const population = buildPopulation(options);
    const cards = new Map(population.cards.map((c) => [c.cardId, c]));
    const episodes = groupBy(
      fraud.filter((a) => a.sim.pattern === 'bust_out'),
      (a) => a.cardId,
    );
    expect(episodes.size).toBeGreaterThan(0);
    let escalating = 0;
    for (const [cardId, txs] of episodes) {
      for (const a of txs) {
        expect(['7995', '6051', '4829', '5732']).toContain(a.mcc);
        if (a.deviceId !== undefined) {
          const card = cards.get(cardId);
          expect([...(card?.devices ?? []), card?.laterDevice?.deviceId]).toContain(a.deviceId);
        }
      }
      if ((txs.at(-1)?.amount ?? 0) > (txs[0]?.amount ?? 0)) escalating++;
    }
    expect(escalating / episodes.size).toBeGreaterThan(0.7);
  });

  it('keeps legit behaviour noisy: some legit travel, night-time and high-risk purchases', () => {
    const population = buildPopulation(options);
    const home = new Map(population.cards.map((c) => [c.cardId, c.homeCountry]));
    const legit = auths.filter((a) => !a.sim.fraud);
    expect(legit.filter((a) => a.country !== home.get(a.cardId)).length).toBeGreaterThan(50);
    expect(legit.filter((a) => ['7995', '6051', '4829'].includes(a.mcc)).length).toBeGreaterThan(20);
    const channels = new Set(legit.map((a) => a.channel));
    for (const c of ['card_present', 'contactless', 'ecommerce', 'moto']) expect(channels).toContain(c);
    expect(legit.filter((a) => a.channel === 'ecommerce' && a.deviceId === undefined)).toEqual([]);
  });
});

describe('parseSimulateArgs', () => {
  it('applies the documented defaults', () => {
    expect(parseSimulateArgs(['--out', '/tmp/x.jsonl'])).toEqual({
      options: { cards: 2000, days: 28, seed: 42, start: '2026-09-01', merchants: 100, fraudRate: 0.01 },
      out: '/tmp/x.jsonl',
      help: false,
    });
    expect(parseSimulateArgs(['--cards', '500', '--out', 'f']).options.merchants).toBe(50);
  });

  it.each([
    [['--cards', '12abc', '--out', 'f'], /--cards must be a whole number/],
    [['--days', '0', '--out', 'f'], /--days must be between 1 and 366/],
    [['--start', '2026-13-01', '--out', 'f'], /--start must be an ISO date/],
    [['--cards', '10'], /--out FILE is required/],
    [['--nope', '--out', 'f'], /Unknown option/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseSimulateArgs(argv)).toThrow(UsageError);
    expect(() => parseSimulateArgs(argv)).toThrow(message);
  });
});
