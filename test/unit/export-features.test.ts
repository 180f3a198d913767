/**
 * The training export against the serving fold: every row must be what `featureVector` gives
 * on the pure, copy-per-event state the online writers keep, whichever way the export runs
 * (inline, with the card stage in a worker thread, sorted input or not).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureReplay, featureVector } from '#domain/features';
import { isFraudLabel, type TransactionEvent } from '#domain/types';
import { exportFeatures, requestOf } from '../../models/training/export-features';
import { simulate } from '../../models/training/simulator';

let dir: string;
let history: TransactionEvent[];
let historyFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'export-features-'));
  history = [...simulate({ cards: 150, days: 9, seed: 11 })];
  historyFile = join(dir, 'history.jsonl');
  writeFileSync(historyFile, `${history.map((event) => JSON.stringify(event)).join('\n')}\n`);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The rows as the serving code computes them: pure `applyEvent` per event, vector before the event. */
function servingRows(events: readonly TransactionEvent[]): { csv: string[]; requests: string[] } {
  const fraud = new Set(
    events.flatMap((e) => (e.type === 'label' && isFraudLabel(e.label) ? [e.transactionId] : [])),
  );
  const replay = new FeatureReplay();
  const csv: string[] = [];
  const requests: string[] = [];
  for (const event of events) {
    if (event.type === 'authorization') {
      const ms = Date.parse(event.timestamp);
      const vector = featureVector(replay.stateFor(event.cardId, event.merchantId), event, ms);
      const label = fraud.has(event.transactionId) ? 1 : 0;
      csv.push(`${event.transactionId},${ms},${label},${vector.join(',')}`);
      requests.push(JSON.stringify({ transactionId: event.transactionId, request: requestOf(event) }));
    }
    replay.add(event);
  }
  return { csv, requests };
}

const bodyLines = (file: string): string[] => readFileSync(file, 'utf8').trimEnd().split('\n');
const quiet = { log: () => {} };

describe('exportFeatures', () => {
  it('writes, inline, exactly the rows and requests the serving fold gives', async () => {
    // prepare
    const out = join(dir, 'inline');
    const expected = servingRows(history);

    // act
    const summary = await exportFeatures({ events: historyFile, outDir: out, workers: 0, ...quiet });

    // assert
    const [header, ...rows] = bodyLines(join(out, 'features.csv'));
    expect(header?.split(',').slice(0, 3)).toEqual(['transactionId', 'ts', 'label']);
    expect(rows).toEqual(expected.csv);
    expect(bodyLines(join(out, 'requests.jsonl'))).toEqual(expected.requests);
    expect(summary.authorizations).toBe(expected.csv.length);
    expect(summary.labelledFraud).toBe(expected.csv.filter((row) => row.split(',')[2] === '1').length);
    expect(summary.cards).toBe(new Set(history.map((e) => e.cardId)).size);
    expect(summary.merchants).toBe(new Set(history.map((e) => e.merchantId)).size);
    expect(summary.events).toBe(history.length);
  });

  it('writes byte-identical files with the card stage in a worker thread', async () => {
    // prepare
    const inline = join(dir, 'inline-2');
    const threaded = join(dir, 'threaded');
    await exportFeatures({ events: historyFile, outDir: inline, workers: 0, ...quiet });

    // act
    const summary = await exportFeatures({ events: historyFile, outDir: threaded, workers: 1, ...quiet });

    // assert
    for (const file of ['features.csv', 'requests.jsonl', 'feature-spec.json']) {
      expect(readFileSync(join(threaded, file)).equals(readFileSync(join(inline, file)))).toBe(true);
    }
    const dataset = (path: string) => JSON.parse(readFileSync(join(path, 'dataset.json'), 'utf8'));
    expect(dataset(threaded)).toEqual(dataset(inline));
    expect(summary.timings.eventsPerCpuSecond).toBeGreaterThan(0);
    if (process.platform === 'linux') {
      // Per-thread CPU clocks (the worker at least loads its modules, well over one 10 ms tick).
      expect(summary.timings.readerCpuSeconds).toBeGreaterThan(0);
      expect(summary.timings.cardStageCpuSeconds).toBeGreaterThan(0);
      expect(summary.timings.eventsPerBusiestThreadSecond).toBeGreaterThan(0);
    }
  });

  it('gives the same table for the same history delivered out of time order', async () => {
    // prepare: labels first, then the authorizations (two tables concatenated the wrong way round)
    const shuffled = [
      ...history.filter((e) => e.type === 'label'),
      ...history.filter((e) => e.type !== 'label'),
    ];
    const file = join(dir, 'shuffled.jsonl');
    writeFileSync(file, `${shuffled.map((event) => JSON.stringify(event)).join('\n')}\n`);
    const logged: string[] = [];
    const sorted = join(dir, 'sorted-out');
    await exportFeatures({ events: historyFile, outDir: sorted, workers: 1, ...quiet });

    // act
    const summary = await exportFeatures({
      events: file,
      outDir: join(dir, 'shuffled-out'),
      workers: 1,
      log: (line) => logged.push(line),
    });

    // assert
    expect(logged.join('\n')).toMatch(/not in time order/);
    expect(summary.source.reordered).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'shuffled-out', 'features.csv'), 'utf8')).toBe(
      readFileSync(join(sorted, 'features.csv'), 'utf8'),
    );
  });

  it.each([
    ['features.csv', 0],
    ['features.csv', 1],
    ['requests.jsonl', 0],
    ['requests.jsonl', 1],
  ] as const)('fails (not hangs) when %s cannot be written (workers: %d)', async (file, workers) => {
    // prepare: the file is a directory, so opening it for writing fails in the stage that owns it
    const out = join(dir, `unwritable-${file}-${workers}`);
    mkdirSync(join(out, file), { recursive: true });

    // act
    const run = exportFeatures({ events: historyFile, outDir: out, workers, ...quiet });

    // assert
    await expect(run).rejects.toThrow(/EISDIR|illegal operation on a directory/);
  });

  it('refuses a history without authorizations', async () => {
    // prepare
    const file = join(dir, 'labels-only.jsonl');
    const labels = history.filter((e) => e.type === 'label');
    writeFileSync(file, `${labels.map((event) => JSON.stringify(event)).join('\n')}\n`);

    // act
    const run = exportFeatures({ events: file, outDir: join(dir, 'labels-only'), workers: 1, ...quiet });

    // assert
    expect(labels.length).toBeGreaterThan(0);
    await expect(run).rejects.toThrow(/no authorizations to train on/);
  });
});
