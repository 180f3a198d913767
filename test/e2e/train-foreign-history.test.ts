import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { foreignHistoryLines } from '../../models/training/foreign-history';

const ROOT = resolve(__dirname, '../..');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'train-foreign-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run train -- --events (a history that is not the simulator’s)', () => {
  it('trains on the first 70 % of rows and records source, span, counts, fraud rate and the baseline', () => {
    // prepare: a small US/USD history, labels after the authorizations (out of order), one bad line
    const lines = foreignHistoryLines({ cards: 300, days: 16, seed: 3 }).split('\n');
    lines.splice(100, 0, '{"type":"authorization","amount":"twelve"}');
    const history = join(dir, 'history.jsonl');
    writeFileSync(history, lines.join('\n'));

    // act
    const run = spawnSync(
      'bash',
      [
        'models/training/train.sh',
        '--events',
        history,
        '--train-fraction',
        '0.7',
        '--version',
        'e2e',
        '--max-iter',
        '20',
        '--created',
        '2026-01-01T00:00:00Z',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, WORK: join(dir, 'work'), MODELS_DIR: join(dir, 'models') },
        encoding: 'utf8',
      },
    );

    // assert
    expect(run.stderr).toMatch(/1 bad lines of \d+ \(skipped\):\n {2}.*history\.jsonl:101: /);
    expect(run.stderr).toMatch(/input is not in time order/);
    expect(run.status).toBe(0);
    const card = JSON.parse(readFileSync(join(dir, 'models/fraud-gbdt/e2e/model.json'), 'utf8'));
    const data = card.training.data;
    expect(data.generator).toBe(`file ${history}`);
    expect(data.source).toMatchObject({ path: history, badLineCount: 1, duplicates: 0 });
    expect(data.source.reordered).toBeGreaterThan(0);
    expect(data.source.badLinesShown[0]).toMatchObject({ line: 101 });
    expect(data.authorizations).toBe(data.rows);
    expect(data.labelledFraud).toBe(data.positives);
    expect(data.fraudRate).toBeCloseTo(data.labelledFraud / data.authorizations, 12);
    expect(Date.parse(data.start)).toBeLessThan(Date.parse(data.end));
    expect(data.split).toMatch(/^by rows in time order: the first 70% of the rows/);
    expect(data.trainRows).toBe(Math.round(0.7 * data.rows));
    expect(data.testRows).toBe(data.rows - data.trainRows);
    expect(Date.parse(data.testPeriod.firstTransaction)).toBeGreaterThanOrEqual(
      Date.parse(data.trainPeriod.lastTransaction),
    );
    const baseline = card.training.baseline;
    expect(baseline.columns).toContain('amount');
    expect(baseline.rocAuc).toBeGreaterThan(0);
    expect(baseline.rocAuc).toBeLessThanOrEqual(1);
    expect(baseline.modelRocAuc).toBe(card.metrics.rocAuc);
    expect(baseline.modelBeatsBaseline).toBe(card.metrics.rocAuc >= baseline.rocAuc);
    expect(run.stderr).toMatch(/baseline \(plain HGB on raw columns, same split\): ROC-AUC \d\.\d{4}/);
    expect(run.stderr).toMatch(/parity: 256 replay cases|parity: \d+ replay cases/);
  }, 180_000);

  it('refuses a history with more bad lines than --max-bad-fraction, naming the first', () => {
    // prepare
    const lines = foreignHistoryLines({ cards: 20, days: 3, seed: 4 }).split('\n');
    const bad = lines.map((line, i) => (i % 10 === 5 ? '{oops' : line));
    const history = join(dir, 'bad.jsonl');
    writeFileSync(history, bad.join('\n'));

    // act
    const run = spawnSync(
      'bash',
      ['models/training/train.sh', '--events', history, '--max-bad-fraction', '0.05', '--version', 'bad'],
      {
        cwd: ROOT,
        env: { ...process.env, WORK: join(dir, 'work-bad'), MODELS_DIR: join(dir, 'models') },
        encoding: 'utf8',
      },
    );

    // assert
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(
      /lines are bad \(\d+\.\d\d %, limit 5\.00 %\); first: .*bad\.jsonl:6: not valid JSON/,
    );
  }, 60_000);
});
