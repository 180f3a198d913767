/**
 * The backtest and batch scoring end to end on real files written by the simulator: every
 * authorization accounted for, the replay's decisions equal to `scoreTransaction`'s, the
 * changes file complete, and every batch input line answered in order.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InMemoryScoringStore } from '#adapters/in-memory-scoring-store';
import type { ValidScoreRequest } from '#domain/contract';
import type { AuthorizationEvent, TransactionEvent } from '#domain/types';
import { requestOf } from '../../models/training/export-features';
import { CURRENT_MODEL_DIR, CURRENT_POLICY, loadArm, scoreWith } from '../../scripts/backtest/arm';
import { parseBacktestArgs, runBacktest, UsageError } from '../../scripts/backtest/cli';
import { replayHistory } from '../../scripts/backtest/replay';
import { scoreBatch } from '../../scripts/score-batch';
import { writeHistory } from '../support/history';
import { runProcess } from '../support/process';

const history = writeHistory({ cards: 500, days: 12, seed: 11, fraudRate: 0.02 });
const events = readFileSync(history.file, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as TransactionEvent);
const authorizations = events.filter((e): e is AuthorizationEvent => e.type === 'authorization');
const fraudIds = new Set<string>();
for (const e of events) {
  if (e.type !== 'label') continue;
  if (e.label === 'confirmed_legitimate') fraudIds.delete(e.transactionId);
  else fraudIds.add(e.transactionId);
}

// A candidate that declines more: a lower decline threshold and one extra rule.
const candidatePolicy = join(history.dir, 'candidate.json');
const policy = JSON.parse(readFileSync(CURRENT_POLICY, 'utf8'));
writeFileSync(
  candidatePolicy,
  JSON.stringify({
    ...policy,
    policyVersion: 'candidate-test',
    thresholds: { decline: 0.3 },
    rules: [
      ...policy.rules,
      {
        id: 'ecommerce-large',
        when: [
          { field: 'channel', op: 'eq', value: 'ecommerce' },
          { field: 'amount', op: 'gte', value: 50000 },
        ],
        decision: 'review',
        reason: 'ECOMMERCE_LARGE',
      },
    ],
  }),
);

afterAll(() => rmSync(history.dir, { recursive: true, force: true }));

describe('backtest on a simulated history', () => {
  it('accounts for every authorization and every change, and the candidate declines more', async () => {
    // prepare
    const out = join(history.dir, 'report.html');
    // act
    const result = await runBacktest({ events: history.file, policy: candidatePolicy, out, progress: false });
    // assert
    const { tally } = result;
    expect(tally.authorizations).toBe(authorizations.length);
    expect(tally.labels.filter(Boolean).length).toBe(
      authorizations.filter((a) => fraudIds.has(a.transactionId)).length,
    );
    for (const arm of tally.arms) {
      const total = Object.values(arm.decisions).reduce((n, s) => n + s.fraud + s.legit, 0);
      expect(total).toBe(authorizations.length);
    }
    const segmentTotal = [...tally.segments.values()].reduce((n, s) => n + s.all.fraud + s.all.legit, 0);
    expect(segmentTotal).toBe(authorizations.length);
    const [baseline, candidate] = tally.arms;
    expect(candidate?.decisions.decline.fraud).toBeGreaterThanOrEqual(baseline?.decisions.decline.fraud ?? 0);
    expect(candidate?.rules.has('ecommerce-large')).toBe(true);
    expect(baseline?.rules.has('ecommerce-large')).toBe(false);
    const changes = readFileSync(result.changesFile, 'utf8').trim().split('\n');
    expect(tally.changedTotal).toBeGreaterThan(0);
    expect(changes).toHaveLength(tally.changedTotal);
    const transitions = [...tally.transitions.values()].reduce((a, b) => a + b, 0);
    expect(transitions).toBe(tally.changedTotal);
    for (const line of changes) {
      const change = JSON.parse(line);
      expect(change.arms[0].decision).not.toBe(change.arms[1].decision);
    }
    expect(result.summary).toContain('decision changes:');
    expect(result.summary).toContain('ecommerce-large');
    expect(readFileSync(out, 'utf8')).toContain('Decision changes by segment');
  }, 120_000);

  it('finds no change when the candidate is the baseline', async () => {
    // prepare
    const out = join(history.dir, 'same.html');
    // act
    const result = await runBacktest({ events: history.file, out, progress: false });
    // assert
    expect(result.tally.changedTotal).toBe(0);
    expect(readFileSync(result.changesFile, 'utf8')).toBe('');
    expect(result.tally.arms[0]?.decisions).toEqual(result.tally.arms[1]?.decisions);
  }, 120_000);

  it('decides as scoreTransaction does on the same state', async () => {
    // prepare: the replay's outcome for the first 1,500 authorizations, and the full scoring path on snapshots
    const arm = await loadArm('candidate', CURRENT_MODEL_DIR, candidatePolicy);
    const sorted = [...events].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
    const head = sorted.slice(0, 3000);
    const times = head.map((e) => Date.parse(e.timestamp));
    const replayed: { id: string; decision: string; score: number | undefined }[] = [];
    // act
    await replayHistory(head, times, [arm], (row) =>
      replayed.push({
        id: row.event.transactionId,
        decision: row.outcomes[0]?.decision ?? '',
        score: row.outcomes[0]?.score,
      }),
    );
    const store = new InMemoryScoringStore();
    const direct: { id: string; decision: string; score: number | null }[] = [];
    for (const [i, event] of head.entries()) {
      if (event.type === 'authorization') {
        const snapshot = store.snapshot(event, times[i] as number);
        const { response } = await scoreWith(arm, snapshot, requestOf(event) as ValidScoreRequest);
        direct.push({ id: event.transactionId, decision: response.decision, score: response.score });
      }
      store.apply(event, times[i]);
    }
    // assert
    expect(replayed.map((r) => r.id)).toEqual(direct.map((d) => d.id));
    replayed.forEach((r, i) => {
      expect(r.decision).toBe(direct[i]?.decision);
      expect(r.score).toBeCloseTo(direct[i]?.score as number, 5);
    });
  }, 120_000);

  it('refuses a bad command line and an unreadable history with clear messages', async () => {
    // prepare
    const broken = join(history.dir, 'broken.jsonl');
    writeFileSync(broken, '{"type":"authorization"}\nnot json\n');
    // act
    const noEvents = () => parseBacktestArgs(['--policy', 'x.json']);
    const badBaseline = () => parseBacktestArgs(['--events', 'e', '--baseline', 'yesterday']);
    const cli = await runProcess('npx', ['tsx', 'scripts/backtest/cli.ts', '--events', broken], {
      cwd: join(__dirname, '..', '..'),
    });
    // assert
    expect(noEvents).toThrow(UsageError);
    expect(badBaseline).toThrow('--baseline must be "current"');
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('2 of 2 lines are bad');
    expect(cli.stderr).toContain(':1:');
  }, 60_000);
});

describe('score:batch on real files', () => {
  const requests = authorizations.slice(-600).map((a) => requestOf(a));
  const head = events.filter((e) => Date.parse(e.timestamp) < Date.parse(requests[0]?.timestamp ?? ''));

  it('answers every JSONL line in order, errors with their line numbers, features from the history', async () => {
    // prepare
    const input = join(history.dir, 'requests.jsonl');
    const out = join(history.dir, 'answers.jsonl');
    const historyFile = join(history.dir, 'head.jsonl');
    writeFileSync(historyFile, `${head.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const lines = requests.map((r) => JSON.stringify(r));
    lines.splice(10, 0, '{broken', '', JSON.stringify({ ...requests[0], amount: 0 }));
    lines.push(JSON.stringify({ ...requests[1], cardId: '4111 1111 1111 1111' }));
    writeFileSync(input, `${lines.join('\n')}\n`);
    // act
    const result = await scoreBatch({ in: input, out, history: historyFile, progress: false });
    // assert
    const answers = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(answers).toHaveLength(lines.length);
    expect(answers.map((a) => a.line)).toEqual(lines.map((_, i) => i + 1));
    expect(result).toMatchObject({ lines: lines.length, scored: requests.length, errors: 4 });
    expect(answers[10].error.code).toBe('INVALID_JSON');
    expect(answers[11].error.code).toBe('BODY_REQUIRED');
    expect(answers[12].error).toMatchObject({ code: 'INVALID_FIELD', field: 'amount' });
    expect(answers[lines.length - 1].error.code).toBe('PAN_DETECTED');
    expect(JSON.stringify(answers[lines.length - 1])).not.toContain('4111');
    expect(answers[0].response.transactionId).toBe(requests[0]?.transactionId);
    expect(result.firstErrors[0]).toBe(`${input}:11: INVALID_JSON: request body is not valid JSON`);
    // With the history, known cards are scored with their features (not all defaults).
    const known = answers.filter((a) =>
      a.response?.reasons.some((r: { feature?: string }) => r.feature === 'card_age_days'),
    );
    expect(known.length).toBeGreaterThan(requests.length / 2);
  }, 120_000);

  it('reads CSV with a header, quoted cells and a bad row, one answer per row', async () => {
    // prepare
    const input = join(history.dir, 'requests.csv');
    const out = join(history.dir, 'answers-csv.jsonl');
    const columns = [
      'transactionId',
      'cardId',
      'merchantId',
      'mcc',
      'amount',
      'currency',
      'country',
      'channel',
      'timestamp',
    ];
    const rows = requests
      .slice(0, 50)
      .map((r) => columns.map((c) => `"${String(r[c as keyof typeof r])}"`).join(','));
    rows.push('tx_bad,card_1,m_1,5411,lots,EUR,DE,ecommerce,2026-09-01T00:00:00Z');
    writeFileSync(input, `${columns.join(',')}\r\n${rows.join('\r\n')}\r\n`);
    // act
    const result = await scoreBatch({ in: input, out, progress: false });
    // assert
    const answers = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(answers).toHaveLength(51);
    expect(answers[0]).toMatchObject({ line: 2, response: { transactionId: requests[0]?.transactionId } });
    expect(answers[50]).toMatchObject({ line: 52, error: { code: 'INVALID_FIELD', field: 'amount' } });
    expect(result).toMatchObject({ scored: 50, errors: 1 });
  }, 120_000);
});
