/**
 * `--parts score`: the score function in-process with the neural model off, live, live against
 * the floor server, and a tree shadow; the first call of a fresh neural client.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createDynamoClients } from '#adapters/dynamo-client';
import { HttpNeuralScorer } from '#adapters/neural-scorer';
import { SEQUENCE_STEPS } from '#domain/sequence';
import { loadScoreConfig } from '../../functions/score/config';
import { createScoreFunction } from '../../functions/score/index';
import { lambdaContext } from '../local/api-gateway';
import { DEFAULT_MODEL_DIR, DEFAULT_POLICY } from '../local/app';
import { forkTs, OutputCapture, stopChild, whenReady } from '../local/processes';
import { BENCH_ANSWER_TABLE, BENCH_FEATURE_TABLE, benchRequest, seedBenchCard } from '../support/bench-card';
import { f, MODEL_DIR, quantile, ROW } from './support';

/**
 * The score function in-process (the same factory as the Lambda entry) against dynalite and
 * the twin: `off`, neural `live`, and a tree model in shadow, one request of each in turn per
 * iteration so that a load change on the shared machine hits all three alike. A card with a
 * week of history (ring and aggregates) written through the real feature writer.
 */
export async function scorePath(twinUrl: string, floorUrl: string, iterations: number): Promise<string[]> {
  const dynalite = forkTs('dynalite-process.ts', {}, new OutputCapture(false));
  const endpoint = `http://127.0.0.1:${(await whenReady(dynalite, 'dynalite')).port}`;
  const { client, documents } = createDynamoClients({ endpoint, requestTimeoutMs: 2000 });
  try {
    // A card with a week of history and a busy merchant, written through the real updater.
    const now = await seedBenchCard(client, documents);
    const base = {
      STAGE: 'bench',
      FEATURE_TABLE_NAME: BENCH_FEATURE_TABLE,
      IDEMPOTENCY_TABLE_NAME: BENCH_ANSWER_TABLE,
      IDEMPOTENCY_ENABLED: 'false',
      MODEL_DIR: DEFAULT_MODEL_DIR,
      POLICY_PATH: DEFAULT_POLICY,
      FEATURE_TIMEOUT_MS: '1000',
      POWERTOOLS_TRACE_ENABLED: 'false',
      DYNAMODB_ENDPOINT: endpoint,
    };
    const variants = [
      { name: 'neural off (tree only)', env: { ...base, NEURAL_MODE: 'off' } },
      {
        name: 'neural live',
        env: {
          ...base,
          NEURAL_MODE: 'live',
          NEURAL_URL: twinUrl,
          NEURAL_MODEL_DIR: MODEL_DIR,
          NEURAL_BUDGET_MS: '1000',
        },
      },
      {
        // The same client and round trip to a server that answers at once: what the hop alone adds.
        name: 'neural live, floor server (no model)',
        env: {
          ...base,
          NEURAL_MODE: 'live',
          NEURAL_URL: floorUrl,
          NEURAL_MODEL_DIR: MODEL_DIR,
          NEURAL_BUDGET_MS: '1000',
        },
      },
      {
        name: 'neural off + tree shadow',
        env: { ...base, NEURAL_MODE: 'off', SHADOW_MODEL_DIR: DEFAULT_MODEL_DIR },
      },
    ];
    const functions = [];
    for (const v of variants) functions.push(await createScoreFunction(loadScoreConfig(v.env)));
    const event = (id: string) =>
      ({
        body: JSON.stringify(benchRequest(now, id)),
        isBase64Encoded: false,
      }) as APIGatewayProxyEvent;
    // Letters in the id: a long digit run would look like a card number (PAN_DETECTED).
    const run = Math.random().toString(36).slice(2, 8);
    const samples: number[][] = variants.map(() => []);
    const flagged = variants.map(() => 0);
    for (let i = -50; i < iterations; i += 1) {
      for (const [v, fn] of functions.entries()) {
        const t = performance.now();
        const response = await fn.handler(event(`bench-${run}-v${v}-n${i}`), lambdaContext('score'));
        const ms = performance.now() - t;
        if (response.statusCode !== 200) throw new Error(`bench request failed: ${response.body}`);
        if (i < 0) continue; // warm-up
        if (JSON.parse(response.body).degraded.length > 0) flagged[v] = (flagged[v] as number) + 1;
        samples[v]?.push(ms);
      }
    }
    for (const fn of functions) await fn.close();
    const sorted = samples.map((s) => [...s].sort((a, b) => a - b));
    const off = sorted[0] as number[];
    return sorted.map((s, v) => {
      const added = (q: number) => quantile(s, q) - quantile(off, q);
      return `| ${variants[v]?.name} | ${f(quantile(s, 0.5), 3)} | ${f(quantile(s, 0.99), 3)} | ${v === 0 ? '—' : f(added(0.5), 3)} | ${v === 0 ? '—' : f(added(0.99), 3)} | ${flagged[v]} |`;
    });
  } finally {
    client.destroy();
    await stopChild(dynalite);
  }
}

/** The first neural call of a fresh client (new pool), with and without the init warm-up; median of `runs`. */
export async function firstCall(twinUrl: string, data: Float32Array, runs: number) {
  const input = { data: data.subarray(0, ROW), length: SEQUENCE_STEPS };
  const once = async (warm: boolean) => {
    const client = new HttpNeuralScorer({ baseUrl: twinUrl, budgetMs: 5_000 });
    try {
      if (warm) await client.warmUp();
      const t = performance.now();
      await client.score(input);
      return performance.now() - t;
    } finally {
      client.close();
    }
  };
  const cold: number[] = [];
  const warmed: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    cold.push(await once(false));
    warmed.push(await once(true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return { cold: median(cold), warm: median(warmed) };
}
