/**
 * The canary judge end to end on the local stack: two versions behind weighted routing, the
 * simulator's traffic over HTTP, the workers' EMF lines on disk, the EMF adapter, the real judge.
 *
 * The judge's settings are relaxed for the test's small window (`TEST_JUDGE`): ~400 answers per
 * version in one or two minutes instead of prod's 2,000 and 5 minutes, so the sample floors are
 * lower, and the score-PSI limit is 0.25 instead of 0.1, because the PSI of two samples of the
 * same distribution is biased upwards by about (bins − 1)(1/n₁ + 1/n₂) ≈ 0.1 at this size on
 * the card's 20 bins. Everything else (α, tolerances, Holm) is the judge's defaults.
 *
 * The run is reproducible: the simulator is seeded, routing hashes the request body, and the
 * feature budgets are long enough that no answer degrades on a loaded machine.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDynamoClients } from '#adapters/dynamo-client';
import { bulkWrite, FeatureAccumulator } from '#adapters/feature-bulk-loader';
import { judgeConfig } from '#domain/judge/config';
import type { Verdict } from '#domain/judge/types';
import { requestOf } from '../../models/training/export-features';
import { simulate } from '../../models/training/simulator';
import { judgeLocalCanary } from '../../scripts/canary/judge';
import { DEFAULT_MODEL_DIR, DEFAULT_POLICY, startLocalStack } from '../../scripts/local/app';
import { routingPoint } from '../../scripts/local/canary';

const REQUESTS = 800;
const CONCURRENCY = 8;
const TEST_JUDGE = judgeConfig({
  latency: { minMinutes: 1, minRequestsPerMinute: 20 },
  errors: { minRequests: 300 },
  decisions: { minAnswers: 300, minSegmentAnswers: 30 },
  scores: { minAnswers: 300, psiFail: 0.25 },
  inputs: { minAnswers: 150 },
});

const SIMULATION = { cards: 400, days: 7, seed: 11, start: '2026-11-01', fraudRate: 0.1 } as const;
/** Days of the simulation folded into the feature store before the traffic starts. */
const HISTORY_DAYS = 5;

/**
 * The simulator's stream: the first days as the cards' history (bulk-loaded, as `npm start`
 * seeds), the next authorizations as `/v1/score` bodies. Same seed every run.
 */
function simulatedTraffic(count: number): { history: FeatureAccumulator; bodies: string[] } {
  const cutoff = Date.parse(SIMULATION.start) + HISTORY_DAYS * 86_400_000;
  const history = new FeatureAccumulator();
  const bodies: string[] = [];
  for (const event of simulate(SIMULATION)) {
    if (Date.parse(event.timestamp) < cutoff) {
      if (event.type === 'authorization') {
        const { sim: _truth, ...plain } = event;
        history.add(plain);
      } else history.add(event);
      continue;
    }
    if (event.type !== 'authorization') continue;
    const { sim: _truth, ...authorization } = event;
    bodies.push(JSON.stringify(requestOf(authorization)));
    if (bodies.length === count) break;
  }
  return { history, bodies };
}

interface Answer {
  readonly body: string;
  readonly status: number;
  readonly decision?: string;
  readonly score?: number | null;
}

async function drive(url: string, bodies: readonly string[]): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  async function lane() {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const response = await fetch(`${url}/v1/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const json = (await response.json()) as { decision?: string; score?: number | null };
      answers.push({ body, status: response.status, decision: json.decision, score: json.score });
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return answers;
}

/** Starts the stack with `canaryPolicy` at 50 %, drives the traffic, stops it, judges the window. */
async function runCanary(canaryPolicy: string, metricsDir: string) {
  const stack = await startLocalStack({
    workers: 2,
    metricsDir,
    canary: { modelDir: DEFAULT_MODEL_DIR, policyPath: canaryPolicy, weight: 0.5 },
    // The judge compares versions, not the machine's load: budgets that never degrade an answer.
    featureTimeoutMs: 2000,
    idempotencyTimeoutMs: 2000,
  });
  let answers: Answer[];
  try {
    const { history, bodies } = simulatedTraffic(REQUESTS);
    const { documents } = createDynamoClients({ endpoint: stack.dynamoEndpoint, requestTimeoutMs: 5000 });
    await bulkWrite(documents, stack.featureTable, history.items(Date.now(), 180 * 86_400));
    documents.destroy();
    answers = await drive(stack.url, bodies);
  } finally {
    // Stopping flushes every worker's metric file.
    await stack.close();
  }
  const routing = stack.routing;
  if (!routing) throw new Error('the stack reported no canary routing');
  const verdict = await judgeLocalCanary({
    metricsDir,
    window: { start: new Date(routing.startedAt), end: new Date() },
    stage: routing.stage,
    baseline: routing.baseline.functionVersion,
    canary: routing.canary.functionVersion,
    config: TEST_JUDGE,
    modelDir: routing.canary.modelDir,
  });
  return { answers, verdict, routing };
}

const testOf = (verdict: Verdict, name: string) => verdict.tests.find((t) => t.test === name);

describe('canary judge on the local stack', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'canary-local-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails a canary whose policy lowers the decline threshold for ecommerce, on ecommerce decline rates', async () => {
    // prepare
    const policy = JSON.parse(readFileSync(DEFAULT_POLICY, 'utf8'));
    policy.policyVersion = 'canary-ecommerce-strict';
    policy.rules.push({
      id: 'ecommerce-strict',
      when: [
        { field: 'channel', op: 'eq', value: 'ecommerce' },
        { field: 'score', op: 'gte', value: 0.002 },
      ],
      decision: 'decline',
      reason: 'ECOMMERCE_STRICT',
    });
    const worse = join(dir, 'worse-policy.json');
    writeFileSync(worse, JSON.stringify(policy));

    // act
    const { answers, verdict } = await runCanary(worse, join(dir, 'worse'));

    // assert
    const toCanary = answers.filter((a) => routingPoint(a.body) < 0.5);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // Routing by weight, and every answer counted once under its version.
    expect(toCanary.length / answers.length).toBeGreaterThan(0.45);
    expect(toCanary.length / answers.length).toBeLessThan(0.55);
    const errors = testOf(verdict, 'errors');
    expect(errors?.samples).toEqual({ baseline: answers.length - toCanary.length, canary: toCanary.length });
    const canaryDeclines = toCanary.filter((a) => a.decision === 'decline').length;
    const declineAll = testOf(verdict, 'decline-rate[all]');
    expect(declineAll?.canaryValue).toBeCloseTo(canaryDeclines / toCanary.length, 10);
    // The verdict with its reasons, so that a failure shows why.
    expect({ outcome: verdict.outcome, because: verdict.because }).toMatchObject({ outcome: 'fail' });
    const failed = verdict.tests.filter((t) => t.outcome === 'fail').map((t) => t.test);
    expect(failed.filter((t) => /^decline-rate\[ecommerce\./.test(t)).length).toBeGreaterThan(0);
    // Only decision rates fail, in the aggregate and ecommerce segments: declines rise there
    // (and reviews fall, since every ecommerce review now scores above the lowered threshold).
    expect(
      failed.filter((t) => !/^(decline|review)-rate\[(all|ecommerce\.[a-z]+\.[a-z]+)\]$/.test(t)),
    ).toEqual([]);
    expect(declineAll?.canaryValue).toBeGreaterThan(declineAll?.baselineValue ?? 1);
  }, 240_000);

  it('passes an identical canary', async () => {
    // prepare
    const same = DEFAULT_POLICY;

    // act
    const { answers, verdict } = await runCanary(same, join(dir, 'same'));

    // assert
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect({ outcome: verdict.outcome, because: verdict.because }).toEqual({ outcome: 'pass', because: [] });
    expect(verdict.change).toBe('code');
    const declineAll = testOf(verdict, 'decline-rate[all]');
    expect(declineAll?.outcome).toBe('pass');
    expect((declineAll?.samples.canary ?? 0) + (declineAll?.samples.baseline ?? 0)).toBe(answers.length);
  }, 240_000);
});
