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
  const drawsOf = (rng: () => number) => Array.from({ length: 10_000 }, () => rng());

  it('is deterministic per seed and stream', () => {
    // prepare
    const a = createRng(1);
    const b = createRng(1);
    // act
    const [first, second] = [a, b].map(drawsOf);
    // assert
    expect(second).toEqual(first);
  });

  it('draws differently for another seed or another stream', () => {
    // prepare
    const rngs = [createRng(1), createRng(2), createRng(1, 0), createRng(1, 1)];
    // act
    const [seed1, seed2, stream0, stream1] = rngs.map((rng) => rng());
    // assert
    expect(seed2).not.toBe(seed1);
    expect(stream1).not.toBe(stream0);
  });

  it('is uniform-ish in [0, 1)', () => {
    // prepare
    const rng = createRng(1);
    // act
    const draws = drawsOf(rng);
    // assert
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});

describe('simulate: determinism', () => {
  const small: SimulationOptions = { cards: 150, days: 6, seed: 7 };
  const serialized = (events: SimulatedEvent[]) => events.map((e) => JSON.stringify(e));

  it('gives byte-identical output for the same options', () => {
    // act
    const [first, second] = [collect(small), collect(small)];
    // assert
    expect(first.length).toBeGreaterThan(500);
    expect(serialized(second)).toEqual(serialized(first));
  });

  it('gives different output for a different seed', () => {
    // prepare
    const base = serialized(collect(small));
    // act
    const reseeded = serialized(collect({ ...small, seed: 8 }));
    // assert
    expect(reseeded).not.toEqual(base);
  });

  it('starts at the given start date', () => {
    // act
    const shifted = collect({ ...small, start: '2026-10-01' });
    // assert
    expect(shifted[0]?.timestamp.startsWith('2026-10-01')).toBe(true);
  });

  it('validates options eagerly with a clear message', () => {
    // prepare
    const base = { cards: 10, days: 1, seed: 1 };
    const invalid: SimulationOptions[] = [
      { ...base, cards: 0 },
      { ...base, days: 1.5 },
      { ...base, seed: -1 },
      { ...base, start: '2026-02-30' },
      { ...base, merchants: 5 },
      { ...base, fraudRate: 0.5 },
    ];
    // act
    const [noCards, partialDay, negativeSeed, impossibleStart, fewMerchants, highFraudRate] = invalid.map(
      (options) => () => simulate(options),
    );
    // assert
    expect(noCards).toThrow(/cards must be an integer/);
    expect(partialDay).toThrow(/days/);
    expect(negativeSeed).toThrow(/seed/);
    expect(impossibleStart).toThrow(/start/);
    expect(fewMerchants).toThrow(/merchants/);
    expect(highFraudRate).toThrow(/fraudRate/);
  });

  it('is lazy: the first events of a large run arrive without simulating the whole window', () => {
    // prepare
    const heapBefore = process.memoryUsage().heapUsed;
    const iterator = simulate({ cards: 10_000, days: 366, seed: 1 });
    // act
    const first = iterator.next();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    // assert
    expect(first.done).toBe(false);
    // Memory, not time, so the check does not depend on the machine's load: the whole year is
    // millions of events (gigabytes if held at once); the population and the first day take
    // about 13 MB.
    expect(heapGrowth).toBeLessThan(128 * 2 ** 20);
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
    // act: one simulated run shared by the tests below, split by event kind
    events = collect(options);
    auths = events.filter(isAuth);
    labels = events.filter(isLabel);
    fraud = auths.filter((a) => a.sim.fraud);
  });

  // Violations are collected and asserted once: an expect() per event would dominate the runtime.
  it('emits millisecond ISO timestamps', () => {
    // act
    const badFormat = events.filter(
      (e) => !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(e.timestamp),
    );
    // assert
    expect(badFormat).toEqual([]);
  });

  it('emits events in non-decreasing time order', () => {
    // act
    const outOfOrder = events.filter(
      (e, i) => i > 0 && Date.parse(e.timestamp) < Date.parse(events[i - 1]?.timestamp ?? ''),
    );
    // assert
    expect(outOfOrder).toEqual([]);
  });

  it('keeps authorizations inside the window; only labels may come after it', () => {
    // act
    const lastAuthorization = Math.max(...auths.map((a) => Date.parse(a.timestamp)));
    // assert
    expect(lastAuthorization).toBeLessThan(windowEnd);
    expect(labels.some((l) => Date.parse(l.timestamp) >= windowEnd)).toBe(true);
  });

  it('uses unique event and transaction ids', () => {
    // act
    const distinct = {
      eventIds: new Set(events.map((e) => e.eventId)).size,
      authorizationTxIds: new Set(auths.map((a) => a.transactionId)).size,
      labelTxIds: new Set(labels.map((l) => l.transactionId)).size,
    };
    // assert
    expect(distinct.eventIds).toBe(events.length);
    expect(distinct.authorizationTxIds).toBe(auths.length);
    expect(distinct.labelTxIds).toBe(labels.length);
  });

  it('has a realistic volume: 0.8–2.5 transactions per card-day', () => {
    // act
    const perCardDay = auths.length / (options.cards * options.days);
    // assert
    expect(perCardDay).toBeGreaterThan(0.8);
    expect(perCardDay).toBeLessThan(2.5);
  });

  it('has a fraud rate between 0.5 % and 2 %', () => {
    // act
    const rate = fraud.length / auths.length;
    // assert
    expect(rate).toBeGreaterThanOrEqual(0.005);
    expect(rate).toBeLessThanOrEqual(0.02);
  });

  it('marks exactly the non-legit patterns as fraud', () => {
    // act
    const mismarked = auths.filter((a) => a.sim.fraud !== (a.sim.pattern !== 'legit'));
    // assert
    expect(mismarked).toEqual([]);
  });

  it('contains every fraud pattern', () => {
    // act
    const patterns = new Set(fraud.map((a) => a.sim.pattern));
    // assert
    for (const p of FRAUD_PATTERNS) expect(patterns).toContain(p);
  });

  it('declines a few fraud and very few legit authorizations', () => {
    // prepare
    const declinedShare = (list: SimulatedAuthorization[]) =>
      list.filter((a) => a.outcome === 'declined').length / list.length;
    const legit = auths.filter((a) => !a.sim.fraud);
    // act
    const [legitDeclined, fraudDeclined] = [legit, fraud].map(declinedShare);
    // assert
    expect(legitDeclined).toBeLessThan(0.01);
    expect(fraudDeclined).toBeGreaterThan(legitDeclined as number);
    expect(fraudDeclined).toBeLessThan(0.15);
  });

  it('labels reference an earlier authorization with matching card, merchant and time', () => {
    // prepare
    const byTx = new Map<string, { auth: SimulatedAuthorization; position: number }>();
    events.forEach((e, position) => {
      if (isAuth(e)) byTx.set(e.transactionId, { auth: e, position });
    });
    // act
    const problems = events.flatMap((e, position) => {
      if (!isLabel(e)) return [];
      const found = byTx.get(e.transactionId);
      if (!found) return [`${e.eventId}: no authorization`];
      const { auth } = found;
      const issues: string[] = [];
      if (found.position >= position) issues.push(`${e.eventId}: not after its authorization`);
      if (e.cardId !== auth.cardId || e.merchantId !== auth.merchantId)
        issues.push(`${e.eventId}: card/merchant`);
      if (e.transactionTimestamp !== auth.timestamp) issues.push(`${e.eventId}: transactionTimestamp`);
      if (Date.parse(e.timestamp) <= Date.parse(auth.timestamp))
        issues.push(`${e.eventId}: reported too early`);
      // Ground truth agrees with the label: fraud labels only on fraud, confirmations only on legit.
      if (auth.sim.fraud !== isFraudLabel(e.label))
        issues.push(`${e.eventId}: ${e.label} on ${auth.sim.pattern}`);
      return issues;
    });
    // assert
    expect(labels.length).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it('labels about 90–95 % of fraud', () => {
    // prepare
    const labelled = new Set(labels.filter((l) => isFraudLabel(l.label)).map((l) => l.transactionId));
    // act
    const share = fraud.filter((a) => labelled.has(a.transactionId)).length / fraud.length;
    // assert
    expect(share).toBeGreaterThan(0.85);
    expect(share).toBeLessThan(0.98);
  });

  it('reports fraud mostly as chargebacks, 2–45 days after the transaction', () => {
    // act
    const chargebacks = labels.filter((l) => l.label === 'chargeback');
    // assert
    expect(chargebacks.length).toBeGreaterThan(labels.filter((l) => l.label === 'confirmed_fraud').length);
    const delays = chargebacks.map((l) => Date.parse(l.timestamp) - Date.parse(l.transactionTimestamp));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2 * DAY);
    expect(Math.max(...delays)).toBeLessThanOrEqual(45 * DAY);
  });

  it('labels only a few legit transactions', () => {
    // act
    const legitLabels = labels.filter((l) => l.label === 'confirmed_legitimate').length;
    // assert
    expect(legitLabels).toBeGreaterThan(0);
    expect(legitLabels / (auths.length - fraud.length)).toBeLessThan(0.02);
  });

  it('card testing: bursts of 5–20 small amounts across distinct merchants within minutes', () => {
    // act
    const bursts = groupBy(
      fraud.filter((a) => a.sim.pattern === 'card_testing'),
      (a) => a.cardId,
    );
    // assert
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
    // prepare
    const population = buildPopulation(options);
    const cards = new Map(population.cards.map((c) => [c.cardId, c]));
    const legitDevices = new Map<string, Set<string>>();
    for (const a of auths) {
      if (a.sim.fraud || a.deviceId === undefined) continue;
      const set = legitDevices.get(a.cardId) ?? new Set<string>();
      set.add(a.deviceId);
      legitDevices.set(a.cardId, set);
    }
    // act
    const ato = fraud.filter((a) => a.sim.pattern === 'account_takeover');
    // assert
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
    // prepare
    const population = buildPopulation(options);
    const cards = new Map(population.cards.map((c) => [c.cardId, c]));
    // act
    const episodes = groupBy(
      fraud.filter((a) => a.sim.pattern === 'bust_out'),
      (a) => a.cardId,
    );
    // assert
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
    // prepare
    const population = buildPopulation(options);
    const home = new Map(population.cards.map((c) => [c.cardId, c.homeCountry]));
    // act
    const legit = auths.filter((a) => !a.sim.fraud);
    // assert
    expect(legit.filter((a) => a.country !== home.get(a.cardId)).length).toBeGreaterThan(50);
    expect(legit.filter((a) => ['7995', '6051', '4829'].includes(a.mcc)).length).toBeGreaterThan(20);
    const channels = new Set(legit.map((a) => a.channel));
    for (const c of ['card_present', 'contactless', 'ecommerce', 'moto']) expect(channels).toContain(c);
    expect(legit.filter((a) => a.channel === 'ecommerce' && a.deviceId === undefined)).toEqual([]);
  });
});

describe('parseSimulateArgs', () => {
  it('applies the documented defaults', () => {
    // act
    const result = parseSimulateArgs(['--out', '/tmp/x.jsonl']);
    // assert
    expect(result).toEqual({
      options: { cards: 2000, days: 28, seed: 42, start: '2026-09-01', merchants: 100, fraudRate: 0.01 },
      out: '/tmp/x.jsonl',
      help: false,
    });
  });

  it('scales the default merchant count with the cards', () => {
    // act
    const result = parseSimulateArgs(['--cards', '500', '--out', 'f']);
    // assert
    expect(result.options.merchants).toBe(50);
  });

  it.each([
    [['--cards', '12abc', '--out', 'f'], /--cards must be a whole number/],
    [['--days', '0', '--out', 'f'], /--days must be between 1 and 366/],
    [['--start', '2026-13-01', '--out', 'f'], /--start must be an ISO date/],
    [['--cards', '10'], /--out FILE is required/],
    [['--nope', '--out', 'f'], /Unknown option/],
  ])('rejects %j', (argv, message) => {
    // act
    const parse = () => parseSimulateArgs(argv);
    // assert
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });
});
