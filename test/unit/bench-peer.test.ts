import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CellResult, percentile, runCell, summarize } from '../../scripts/bench-peer/load';
import { expectedFeatures, requestMix, seededState } from '../../scripts/bench-peer/population';
import { comparisonTable } from '../../scripts/bench-peer/report';

const DAY = 86_400_000;

function cell(target: string, concurrency: number, good: number, latencies: number[]): CellResult {
  return { target, concurrency, seconds: 1, good, non200: 0, degraded: 0, failed: 0, latencies };
}

describe('percentile', () => {
  it('takes the nearest rank and is NaN on no data', () => {
    // prepare
    const values = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    // act
    const result = [
      percentile(values, 0.5),
      percentile(values, 0.99),
      percentile(values, 0),
      percentile([], 0.5),
    ];
    // assert
    expect(result.slice(0, 3)).toEqual([5, 10, 1]);
    expect(result[3]).toBeNaN();
  });
});

describe('comparisonTable', () => {
  it('prints one row per concurrency with ranges over rounds and the throughput ratio', () => {
    // prepare
    const cells = [
      cell('ours', 1, 200, [1, 2, 3]),
      cell('peer', 1, 100, [4, 5, 6]),
      cell('ours', 1, 300, [1, 2, 3]),
      cell('peer', 1, 100, [4, 5, 6]),
      cell('ours', 4, 50, [10]),
      cell('peer', 4, 100, [20]),
    ];
    // act
    const table = comparisonTable(cells, 'ours', 'peer', 'the peer').split('\n');
    // assert
    expect(table[0]).toContain('| the peer (rps · p50/p99 ms) |');
    expect(table[2]).toBe('| 1 | 200–300 · 2.0 / 3.0 | 100 · 5.0 / 6.0 | 2.00–3.00 |');
    expect(table[3]).toBe('| 4 | 50 · 10.0 / 10.0 | 100 · 20.0 / 20.0 | 0.50 |');
  });

  it('names the degraded, non-200 and unanswered requests a target had, which the throughput leaves out', () => {
    // prepare
    const cells = [
      { ...cell('ours', 16, 10, [1]), degraded: 7, non200: 2 },
      { ...cell('peer', 16, 20, [2]), failed: 1 },
    ];
    // act
    const table = comparisonTable(cells, 'ours', 'peer', 'peer').split('\n');
    // assert
    expect(table[2]).toBe(
      '| 16 | 10 · 1.0 / 1.0 (7 degraded, 2 non-200) | 20 · 2.0 / 2.0 (1 unanswered) | 0.50 |',
    );
  });
});

describe('runCell', () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];

  beforeAll(async () => {
    // Answers: every 5th request 500, every 7th degraded, the rest good.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const { transactionId } = JSON.parse(body) as { transactionId: string };
        seen.push(transactionId);
        const n = Number(transactionId.split('-')[1]);
        if (n % 5 === 0) res.writeHead(500).end('{}');
        else res.end(JSON.stringify({ degraded: n % 7 === 0 ? ['features_unavailable'] : [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('counts good, non-200 and degraded answers separately, with one distinct id per request', async () => {
    // prepare
    seen.length = 0;
    // act
    const result = await runCell({
      target: 'fake',
      url,
      concurrency: 4,
      durationMs: 300,
      body: (i) => JSON.stringify({ transactionId: `tx-${i}` }),
    });
    // assert
    const ids = seen.map((id) => Number(id.split('-')[1]));
    expect(result.latencies.length).toBe(seen.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(result.non200).toBe(ids.filter((n) => n % 5 === 0).length);
    expect(result.degraded).toBe(ids.filter((n) => n % 5 !== 0 && n % 7 === 0).length);
    expect(result.good + result.non200 + result.degraded).toBe(seen.length);
    expect(result.failed).toBe(0);
    expect(summarize(result).rps).toBeCloseTo(result.good / result.seconds, 6);
  });

  it('counts requests a dead target never answers', async () => {
    // prepare
    const dead = 'http://127.0.0.1:1';
    // act
    const result = await runCell({
      target: 'dead',
      url: dead,
      concurrency: 2,
      durationMs: 100,
      body: () => '{}',
    });
    // assert
    expect(result.failed).toBeGreaterThan(0);
    expect(result.good + result.latencies.length).toBe(0);
  });
});

describe('seededState', () => {
  const population = { cards: 30, days: 3, seed: 7 };
  const noon = Math.floor(Date.parse('2026-11-30T12:00:00Z') / DAY) * DAY + DAY / 2;

  it('leaves out the cards and merchants with events while the stack may have been seeding', () => {
    // prepare
    const before = noon;
    const after = noon + 3 * 3_600_000;
    // act
    const state = seededState(population, before, after);
    const mix = requestMix(population, state, after, 50);
    // assert
    expect(state.ambiguousCards.size).toBeGreaterThan(0);
    expect(mix).toHaveLength(50);
    for (const request of mix) {
      expect(Date.parse(request.timestamp)).toBeGreaterThan(after);
      expect(state.ambiguousCards.has(request.cardId)).toBe(false);
      expect(state.ambiguousMerchants.has(request.merchantId)).toBe(false);
      expect(expectedFeatures(state, request)).toHaveLength(21);
    }
  });

  it('refuses a start that crossed midnight UTC, where the seeded window is unknown', () => {
    // prepare
    const before = noon + DAY / 2 - 1000;
    // act
    const act = () => seededState(population, before, before + 2000);
    // assert
    expect(act).toThrow(/midnight/);
  });
});
