/**
 * CloudWatch's extraction and statistics over EMF lines (`#adapters/emf-metric-store`): the
 * statistics against hand-computed values, the EMF rules on well-formed and broken documents,
 * and hostile lines mixed into real ones.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { EmfMetricStore, statistic } from '#adapters/emf-metric-store';

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const MINUTE = 60_000;
const DIMS = { service: 'score', stage: 'local', functionVersion: '1', modelVersion: '1.0.0' };
const ALL_TIME = { start: new Date(0), end: new Date(T0 + 86_400_000) };

/** A Powertools-shaped document: one directive, the given dimension sets, metrics and values. */
function emf(
  timestamp: number,
  members: Record<string, unknown>,
  metrics: readonly string[],
  sets: readonly (readonly string[])[] = [Object.keys(DIMS)],
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: 'FraudScoring',
          Dimensions: sets,
          Metrics: metrics.map((Name) => ({ Name, Unit: 'None' })),
        },
      ],
    },
    ...DIMS,
    ...members,
  });
}

function storeOf(lines: readonly string[], window?: { start: Date; end: Date }): EmfMetricStore {
  const store = new EmfMetricStore(window);
  for (const line of lines) store.addLine(line);
  return store;
}

const query = (store: EmfMetricStore, name: string, stat: string, extra = {}, periodSeconds = 60) =>
  store.query({
    namespace: 'FraudScoring',
    name,
    dimensions: { ...DIMS, ...extra },
    stat,
    periodSeconds,
    ...ALL_TIME,
  });

describe('statistic', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);

  it.each([
    ['SampleCount', 100],
    ['Sum', 5050],
    ['Average', 50.5],
    ['Minimum', 1],
    ['Maximum', 100],
    ['p99', 99],
    ['p50', 50],
    ['p99.9', 100],
    ['p100', 100],
    ['TC(:10)', 10],
    ['TC(10:20)', 10],
    ['TC(90:)', 10],
    ['TC(0.5:1.5)', 1],
  ])('%s of 1…100 is %d', (stat, expected) => {
    // act
    const result = statistic(stat)(values);

    // assert
    expect(result).toBe(expected);
  });

  it('counts lo < v ≤ hi in a trimmed count, as CloudWatch does', () => {
    // prepare
    const onEdges = [1, 2, 2, 3];

    // act
    const counts = [
      statistic('TC(1:2)')(onEdges),
      statistic('TC(2:3)')(onEdges),
      statistic('TC(-0.5:0.5)')([0]),
    ];

    // assert
    expect(counts).toEqual([2, 1, 1]);
  });

  it('takes the nearest rank for a percentile of a small sample', () => {
    // act
    const p99 = statistic('p99')([5, 1, 3]);
    const p1 = statistic('p1')([5, 1, 3]);

    // assert
    expect([p99, p1]).toEqual([5, 1]);
  });

  it.each(['TM(10:20)', 'TC(2:1)', 'TC(a:1)', 'p', 'sum', 'TC(10%:90%)', 'p101'])('refuses %s', (stat) => {
    // act
    const make = () => statistic(stat);

    // assert
    expect(make).toThrow(RangeError);
  });
});

describe('EmfMetricStore', () => {
  it('keeps each value in its minute and aggregates by period', () => {
    // prepare
    const store = storeOf([
      emf(T0 + 1_000, { LatencyTotal: 10 }, ['LatencyTotal']),
      emf(T0 + 59_999, { LatencyTotal: [20, 30] }, ['LatencyTotal']),
      emf(T0 + MINUTE, { LatencyTotal: 40 }, ['LatencyTotal']),
      emf(T0 + 5 * MINUTE, { LatencyTotal: 50 }, ['LatencyTotal']),
    ]);

    // act
    const perMinute = query(store, 'LatencyTotal', 'Sum');
    const perFive = query(store, 'LatencyTotal', 'SampleCount', {}, 300);

    // assert
    expect(perMinute.timestamps.map((t) => t.getTime())).toEqual([T0, T0 + MINUTE, T0 + 5 * MINUTE]);
    expect(perMinute.values).toEqual([60, 40, 50]);
    expect(perFive.values).toEqual([4, 1]);
  });

  it('gives every dimension set its own series, and a set listed twice one series', () => {
    // prepare
    const full = Object.keys(DIMS);
    const line = emf(T0, { Requests: [1, 1] }, ['Requests'], [full, full, ['service', 'stage']]);

    // act
    const store = storeOf([line]);

    // assert
    expect(query(store, 'Requests', 'Sum').values).toEqual([2]);
    const short = store.query({
      namespace: 'FraudScoring',
      name: 'Requests',
      dimensions: { service: 'score', stage: 'local' },
      stat: 'Sum',
      ...ALL_TIME,
    });
    expect(short.values).toEqual([2]);
    expect(store.list('FraudScoring', 'Requests', { service: 'score' })).toHaveLength(2);
  });

  it('does not extract what the EMF specification rejects, and counts those lines', () => {
    // prepare
    const lines = [
      emf(T0, { Score: 'high' }, ['Score']),
      emf(T0, { Score: [0.1, Number.NaN] }, ['Score']),
      emf(T0, { Score: [] }, ['Score']),
      emf(T0, { Score: 0.2 }, ['Score'], [['service', 'missing']]),
      JSON.stringify({ _aws: { CloudWatchMetrics: [] }, Score: 1 }),
      JSON.stringify({ _aws: { Timestamp: 'now', CloudWatchMetrics: [] } }),
      '{"level":"WARN","message":"degraded"}',
      '{"_aws":{"Timestamp":1796',
      'plain text',
      emf(T0, { Score: 0.3 }, ['Score']),
    ];

    // act
    const store = storeOf(lines);

    // assert
    expect(query(store, 'Score', 'SampleCount').values).toEqual([1]);
    expect(store.counts).toEqual({ lines: 10, documents: 1, values: 1, skipped: 9 });
  });

  it('keeps only values inside its window, and a query only the minutes overlapping its own', () => {
    // prepare
    const lines = [0, 1, 2, 3].map((m) => emf(T0 + m * MINUTE + 30_000, { Requests: 1 }, ['Requests']));
    const store = storeOf(lines, { start: new Date(T0 + MINUTE), end: new Date(T0 + 3 * MINUTE) });

    // act
    const all = query(store, 'Requests', 'Sum');
    const last = store.query({
      namespace: 'FraudScoring',
      name: 'Requests',
      dimensions: DIMS,
      stat: 'Sum',
      start: new Date(T0 + 2 * MINUTE + 10_000),
      end: new Date(T0 + 10 * MINUTE),
    });

    // assert
    expect(all.timestamps.map((t) => (t.getTime() - T0) / MINUTE)).toEqual([1, 2]);
    expect(last.values).toEqual([1]);
  });

  it('answers no datapoint for a series it never saw, and refuses a period under a minute', () => {
    // prepare
    const store = storeOf([emf(T0, { Requests: 1 }, ['Requests'])]);

    // act
    const missing = query(store, 'Errors', 'Sum');
    const short = () => query(store, 'Requests', 'Sum', {}, 30);

    // assert
    expect(missing).toEqual({ timestamps: [], values: [] });
    expect(short).toThrow(RangeError);
  });

  it('reads every .jsonl file of a folder, skips files last written before the window, and an absent folder is empty', async () => {
    // prepare
    const dir = mkdtempSync(join(tmpdir(), 'emf-store-'));
    try {
      const now = Date.now();
      writeFileSync(join(dir, 'a.jsonl'), `${emf(now, { Requests: 1 }, ['Requests'])}\n`);
      writeFileSync(join(dir, 'b.jsonl'), `${emf(now, { Requests: 2 }, ['Requests'])}\nnot json\n`);
      writeFileSync(join(dir, 'c.txt'), `${emf(now, { Requests: 4 }, ['Requests'])}\n`);
      writeFileSync(join(dir, 'old.jsonl'), `${emf(now, { Requests: 8 }, ['Requests'])}\n`);
      const hourAgo = (now - 3_600_000) / 1000;
      utimesSync(join(dir, 'old.jsonl'), hourAgo, hourAgo);
      const window = { start: new Date(now - 60_000), end: new Date(now + 60_000) };

      // act
      const store = await EmfMetricStore.load(dir, window);
      const absent = await EmfMetricStore.load(join(dir, 'nothing-here'), window);

      // assert
      const sum = store.query({
        namespace: 'FraudScoring',
        name: 'Requests',
        dimensions: DIMS,
        stat: 'Sum',
        ...window,
      });
      expect(sum.values.reduce((a, b) => a + b, 0)).toBe(3);
      expect(store.counts).toMatchObject({ lines: 3, skipped: 1 });
      expect(absent.counts.lines).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts exactly the valid documents among hostile lines, never throwing', () => {
    // prepare
    const valid = fc.record({
      offset: fc.integer({ min: 0, max: 10 * MINUTE - 1 }),
      values: fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 5 }),
    });
    const hostile = fc.oneof(
      fc.string(),
      fc.json(),
      fc.constant('{"_aws":'),
      fc.record({ _aws: fc.anything(), Requests: fc.anything() }).map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(valid, hostile), { maxLength: 40 }), (items) => {
        const lines = items.map((item) =>
          typeof item === 'string'
            ? item.replace(/\n/g, ' ')
            : emf(T0 + item.offset, { Requests: item.values }, ['Requests']),
        );
        const expected = items.flatMap((item) => (typeof item === 'string' ? [] : item.values));

        // act
        const store = storeOf(lines);
        const count = query(store, 'Requests', 'SampleCount', {}, 600).values;
        const sum = query(store, 'Requests', 'Sum', {}, 600).values;

        // assert
        expect(store.counts.lines).toBe(lines.length);
        expect(count.reduce((a, b) => a + b, 0)).toBe(expected.length);
        expect(sum.reduce((a, b) => a + b, 0)).toBeCloseTo(
          expected.reduce((a, b) => a + b, 0),
          3,
        );
      }),
      { numRuns: 200 },
    );
  });
});
