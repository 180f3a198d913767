/**
 * Priming the local stack's front workers (`scripts/local/prime.ts`): every worker answers its
 * priming requests, and priming leaves no trace where users look: no feature item, no applied
 * event, no archive record, no metric line. A real request afterwards is archived and counted,
 * so the same checks would see priming if it leaked.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { simulate } from '../../models/training/simulator';
import { seededWindowStart, startLocalStack } from '../../scripts/local/app';
import { primingRequests } from '../../scripts/local/priming-requests';
import { authorizationEvent } from '../support/events';

/** Every file under `dir` (recursively) with its size. */
function filesUnder(dir: string): { path: string; bytes: number }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, bytes: readFileSync(path).length };
    });
}

/** Every record of the archive under `dir`, decoded. */
function archivedRecords(dir: string): { kind: string; transactionId?: string }[] {
  return filesUnder(dir).flatMap((file) =>
    gunzipSync(readFileSync(file.path))
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { kind: string; transactionId?: string }),
  );
}

/** Twenty cards' priming requests, and a stack whose table holds one applied event of the first card. */
async function primingSetup(now: number, options: Parameters<typeof startLocalStack>[0]) {
  const requests = primingRequests(
    simulate({ cards: 20, days: 2, seed: 3, start: seededWindowStart(now, 1) }),
    now,
    15,
  );
  const stack = await startLocalStack(options);
  await stack.queue.send([
    authorizationEvent({
      eventId: `evt-prime-seed-${now}`,
      transactionId: `tx-prime-seed-${now}`,
      timestamp: new Date(now - 60_000).toISOString(),
      cardId: requests[0]?.score.cardId,
    }),
  ]);
  return {
    requests,
    stack,
    appliedBefore: (await stack.drainEvents()).applied,
    itemsBefore: await stack.countItems(),
  };
}

/** Scores the first priming request's card once more under a real transaction id; resolves with the status. */
async function realRequest(
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  score: unknown,
  transactionId: string,
) {
  const real = await fetch(`${stack.url}/v1/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(score as object), transactionId }),
  });
  await real.text();
  return real.status;
}

describe('priming the local stack', () => {
  it('answers every priming request in each worker and writes nothing users read', async () => {
    // prepare
    const archiveDir = mkdtempSync(join(tmpdir(), 'e2e-prime-archive-'));
    const metricsDir = mkdtempSync(join(tmpdir(), 'e2e-prime-metrics-'));
    const now = Date.now();
    const { requests, stack, appliedBefore, itemsBefore } = await primingSetup(now, {
      workers: 2,
      archiveDir,
      metricsDir,
    });
    let reports: Awaited<ReturnType<typeof stack.prime>>;
    let itemsAfter: number;
    let appliedAfter: number;
    let filesAfterPriming: { path: string; bytes: number }[];
    let realAnswer: number;
    try {
      // act
      reports = await stack.prime(requests);
      appliedAfter = (await stack.drainEvents()).applied;
      itemsAfter = await stack.countItems();
      filesAfterPriming = filesUnder(metricsDir).filter(
        (file) => file.path.endsWith('.jsonl') && file.bytes > 0,
      );
      realAnswer = await realRequest(stack, requests[0]?.score, `tx-after-priming-${now}`);
    } finally {
      await stack.close();
    }

    // assert
    expect(requests).toHaveLength(15);
    expect(reports.map((report) => report.pid).sort()).toEqual([...stack.pids.workers].sort());
    for (const report of reports) {
      expect(report).toMatchObject({ requests: 15, statuses: { 'score 200': 15, 'events 202': 15 } });
      expect(report.error).toBeUndefined();
      expect(report.firstFailure).toBeUndefined();
    }
    // With metric files a copy is primed, its events dropped: nothing reached the updater.
    expect(appliedAfter).toBe(appliedBefore);
    expect(itemsAfter).toBe(itemsBefore);
    expect(filesAfterPriming).toEqual([]);
    expect(realAnswer).toBe(200);
    // The archive holds the real answer alone (the positive control: the channel works), and
    // the metric files got lines once a real request was served.
    expect(archivedRecords(archiveDir)).toEqual([
      expect.objectContaining({ kind: 'score', transactionId: `tx-after-priming-${now}` }),
    ]);
    const metricLines = filesUnder(metricsDir)
      .filter((file) => file.path.endsWith('.jsonl'))
      .flatMap((file) => readFileSync(file.path, 'utf8').split('\n').filter(Boolean));
    expect(metricLines.length).toBeGreaterThan(0);
  }, 180_000);
});

describe('priming the instances that will serve (no metric files)', () => {
  it('applies the priming events to priming cards, deletes what they wrote, and archives none of it', async () => {
    // prepare
    const archiveDir = mkdtempSync(join(tmpdir(), 'e2e-prime-serving-archive-'));
    const now = Date.now();
    const { requests, stack, appliedBefore, itemsBefore } = await primingSetup(now, {
      workers: 2,
      archiveDir,
    });
    let reports: Awaited<ReturnType<typeof stack.prime>>;
    let updater: Awaited<ReturnType<typeof stack.primeUpdater>>;
    let itemsAfter: number;
    let appliedAfter: number;
    let realAnswer: number;
    try {
      // act
      [reports, updater] = await Promise.all([stack.prime(requests), stack.primeUpdater(40)]);
      appliedAfter = (await stack.drainEvents()).applied;
      itemsAfter = await stack.countItems();
      realAnswer = await realRequest(stack, requests[0]?.score, `tx-after-serving-priming-${now}`);
    } finally {
      await stack.close();
    }

    // assert
    for (const report of reports) {
      expect(report).toMatchObject({ requests: 15, statuses: { 'score 200': 15, 'events 202': 15 } });
      expect(report.error).toBeUndefined();
    }
    // The events reached the updater this time: both workers sent the same 15, all acknowledged
    // (the second copy of each as a duplicate)…
    expect(appliedAfter - appliedBefore).toBe(30);
    expect(updater).toMatchObject({ events: 40, failed: 0 });
    // …and every item they and the updater's own priming wrote is gone again.
    expect(itemsAfter).toBe(itemsBefore);
    expect(realAnswer).toBe(200);
    expect(archivedRecords(archiveDir)).toEqual([
      expect.objectContaining({ kind: 'score', transactionId: `tx-after-serving-priming-${now}` }),
    ]);
  }, 180_000);
});

describe('primingRequests', () => {
  it('takes the first authorizations after now, restamped to now under prime- ids', () => {
    // prepare
    const now = Date.parse('2026-11-20T12:00:00.000Z');
    const stream = simulate({ cards: 30, days: 3, seed: 5, start: '2026-11-19' });

    // act
    const requests = primingRequests(stream, now, 40);

    // assert
    expect(requests).toHaveLength(40);
    for (const { score, event } of requests) {
      expect(event.type).toBe('authorization');
      expect(event.timestamp).toBe('2026-11-20T12:00:00.000Z');
      expect(score.timestamp).toBe(event.timestamp);
      expect(score.transactionId).toBe(event.transactionId);
      expect(event.transactionId).toMatch(/^prime-/);
      expect(event.eventId).toMatch(/^prime-/);
      // The score reads a seeded card; the event is applied to a priming card, deleted after priming.
      expect(event.type === 'authorization' ? event.cardId : undefined).toMatch(/^prime_card_\d+$/);
      expect(event.type === 'authorization' ? event.merchantId : undefined).toMatch(/^prime_merchant_\d+$/);
      expect(score).not.toHaveProperty('sim');
      expect(event).not.toHaveProperty('sim');
    }
    expect(new Set(requests.map((r) => r.score.transactionId)).size).toBe(40);
  });
});
