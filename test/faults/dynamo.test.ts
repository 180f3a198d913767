/**
 * Fault suite: the local stack under load while its DynamoDB-compatible server is paused
 * (SIGSTOP), resumed, killed and restarted — real processes, started here and signalled by
 * their own PIDs. Proves the degradation contract: every answer a 200, flagged
 * `features_unavailable` while the store is gone, inside the budgets, and clean again soon after.
 *
 * FAULT_PAUSE_SECONDS sets the pause (60 in `npm run test:faults`, shorter inside `npm test`).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR, type LocalStack, startLocalStack } from '../../scripts/local/app';
import { forkTs, freePort, OutputCapture, stopChild, whenReady } from '../../scripts/local/processes';
import {
  faultTable,
  type PhaseSummary,
  recoveryMs,
  type Sample,
  startLoad,
  summarize,
} from '../support/load';

const PAUSE_MS = Number(process.env.FAULT_PAUSE_SECONDS ?? 15) * 1000;
const FEATURE_BUDGET_MS = 60;
const IDEMPOTENCY_BUDGET_MS = 100;
const CONCURRENCY = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * What the machine adds to an answer beyond the budgets: 50 ms, or the healthy baseline's
 * p99 − p50 when that is more. On this shared VM the host took a third of the CPU in some
 * evenings (steal time); the baseline's own tail then reached 130 ms, and the fixed 50 ms failed
 * the paused phase while the budgets held. Set by the first test, which measures the baseline.
 */
let slackMs = 50;

jest.setTimeout(PAUSE_MS + 120_000);

let seq = 0;
function scoreBody(): Record<string, unknown> {
  seq += 1;
  return {
    transactionId: `fault-${process.pid}-${seq}`,
    cardId: `card_f${seq % 20}`,
    merchantId: `m_f${seq % 5}`,
    mcc: '5411',
    amount: 1000 + (seq % 900),
    currency: 'EUR',
    country: 'DE',
    channel: 'ecommerce',
    timestamp: new Date().toISOString(),
  };
}

async function startStore(port: number, dataDir: string, capture: OutputCapture): Promise<ChildProcess> {
  const child = forkTs('dynalite-process.ts', { port, path: dataDir }, capture);
  await whenReady(child, 'dynalite');
  return child;
}

const between = (samples: readonly Sample[], from: number, to: number) =>
  samples.filter((s) => s.sentAt >= from && s.sentAt < to);

describe('fault suite: the DynamoDB-compatible server paused, killed and restarted under load', () => {
  const rows: PhaseSummary[] = [];
  const capture = new OutputCapture(false);
  const dataDir = mkdtempSync(join(tmpdir(), 'fault-dynalite-'));
  let port: number;
  let store: ChildProcess;
  let stack: LocalStack;

  beforeAll(async () => {
    port = await freePort();
    store = await startStore(port, dataDir, capture);
    stack = await startLocalStack({
      dynamoEndpoint: `http://127.0.0.1:${port}`,
      featureTimeoutMs: FEATURE_BUDGET_MS,
      idempotencyTimeoutMs: IDEMPOTENCY_BUDGET_MS,
    });
  });

  afterAll(async () => {
    await stack?.close();
    if (store) await stopChild(store);
    process.stdout.write(`\nfault suite (DynamoDB), concurrency ${CONCURRENCY}:\n${faultTable(rows)}\n`);
  });

  it('answers 200 throughout, flagged and inside the budgets while paused, and recovers after resume', async () => {
    // prepare: warm the workers' code paths and connections (not counted), then a healthy baseline
    const warm = startLoad({ url: `${stack.url}/v1/score`, concurrency: CONCURRENCY, body: scoreBody });
    await sleep(2000);
    await warm.stop();
    const load = startLoad({ url: `${stack.url}/v1/score`, concurrency: CONCURRENCY, body: scoreBody });
    await sleep(3000);
    const pausedAt = load.elapsed();
    // act: pause the server for PAUSE_MS, then resume it
    process.kill(store.pid as number, 'SIGSTOP');
    await sleep(PAUSE_MS);
    process.kill(store.pid as number, 'SIGCONT');
    const resumedAt = load.elapsed();
    await sleep(5000);
    await load.stop();
    // assert
    // Requests sent before the pause, except those whose read the pause may have caught: sent in
    // its last 80 ms, they were still in flight when the server stopped (0–3 ms before it, 172–176
    // ms answers flagged features_unavailable, in three runs).
    const baseline = summarize(
      'healthy baseline',
      between(load.samples, 0, pausedAt - FEATURE_BUDGET_MS - 20),
    );
    // Requests sent while the server was stopped (not those whose read may straddle the resume).
    const paused = summarize(
      `paused (SIGSTOP ${PAUSE_MS / 1000} s)`,
      between(load.samples, pausedAt, resumedAt - FEATURE_BUDGET_MS - 20),
    );
    const after = summarize('after resume', between(load.samples, resumedAt, Number.POSITIVE_INFINITY));
    after.recoveryMs = recoveryMs(load.samples, resumedAt);
    rows.push(baseline, paused, after);

    expect(load.samples.every((s) => s.status === 200)).toBe(true);
    // The control: a healthy store answers inside the 60 ms budget (a rare miss on a loaded
    // machine is a degraded answer, never an error, and is reported in the table).
    expect(baseline.degraded.features_unavailable ?? 0).toBeLessThanOrEqual(baseline.requests * 0.02);
    expect(paused.requests).toBeGreaterThan(50);
    expect(paused.degraded.features_unavailable).toBe(paused.requests);
    slackMs = Math.max(50, baseline.p99 - baseline.p50);
    expect(paused.p99).toBeLessThanOrEqual(FEATURE_BUDGET_MS + IDEMPOTENCY_BUDGET_MS + slackMs);
    expect(after.recoveryMs).toBeDefined();
    // Recovery is 20 clean answers in a row: on a machine whose healthy p99 is itself slow, the
    // time 20 of them take one after another at the baseline's p99 is the bound when above 2 s.
    expect(after.recoveryMs as number).toBeLessThanOrEqual(Math.max(2000, 20 * baseline.p99));
  });

  it('answers 200 when the server is killed, and recovers when it is restarted on the same data', async () => {
    // prepare
    const load = startLoad({ url: `${stack.url}/v1/score`, concurrency: CONCURRENCY, body: scoreBody });
    await sleep(2000);
    const killedAt = load.elapsed();
    // act
    store.kill('SIGKILL');
    await sleep(5000);
    store = await startStore(port, dataDir, capture);
    const restartedAt = load.elapsed();
    await sleep(5000);
    await load.stop();
    // assert
    const killed = summarize('killed (SIGKILL, 5 s)', between(load.samples, killedAt, restartedAt));
    const after = summarize('after restart', between(load.samples, restartedAt, Number.POSITIVE_INFINITY));
    after.recoveryMs = recoveryMs(load.samples, restartedAt);
    rows.push(killed, after);

    expect(load.samples.every((s) => s.status === 200)).toBe(true);
    expect(killed.degraded.features_unavailable ?? 0).toBeGreaterThan(killed.requests * 0.9);
    expect(killed.p99).toBeLessThanOrEqual(FEATURE_BUDGET_MS + IDEMPOTENCY_BUDGET_MS + slackMs);
    expect(after.recoveryMs).toBeDefined();
  });

  it('answers rules-only with a corrupt model, never a 5xx', async () => {
    // prepare
    const dir = mkdtempSync(join(tmpdir(), 'fault-model-'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify(require(join(DEFAULT_MODEL_DIR, 'model.json'))));
    writeFileSync(join(dir, 'model.onnx'), Buffer.alloc(4096, 7));
    const corrupt = await startLocalStack({
      dynamoEndpoint: `http://127.0.0.1:${port}`,
      modelDir: dir,
      workers: 1,
    });
    try {
      // act
      const load = startLoad({ url: `${corrupt.url}/v1/score`, concurrency: CONCURRENCY, body: scoreBody });
      await sleep(2000);
      await load.stop();
      // assert
      const row = summarize('corrupt model.onnx', load.samples);
      rows.push(row);
      expect(row.ok).toBe(row.requests);
      expect(row.degraded.model_unavailable).toBe(row.requests);
    } finally {
      await corrupt.close();
    }
  });
});
