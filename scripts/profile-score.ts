/**
 * `npm run profile`: where the score function's CPU goes, per request, in-process. Builds the
 * function with the same factory as the Lambda entry (dynalite in its own process, so the
 * profile holds only the function's own work), scores `--requests` distinct transactions under
 * V8's sampling profiler, and prints self time grouped by package, then the top functions.
 *
 * With `--store memory` the function's store answers from memory with the benchmarks' card and
 * merchant (`card_bench`, `m_bench`, read once from dynalite), as the bench's "store in memory"
 * row does: the profile then holds only the function's own work beside the inference.
 * `--out <file>` also writes the raw profile (`.cpuprofile`, readable in Chrome's DevTools).
 *
 *   npm run profile -- [--requests 3000] [--top 15] [--no-idempotency] [--store dynamo|memory] [--out file]
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createDynamoClients, createScoringClient } from '#adapters/dynamo-client';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import type { ScoringLookup, ScoringStore } from '#domain/ports';
import { FEATURE_TABLE, IDEMPOTENCY_TABLE } from '#shared/table-schema';
import { loadScoreConfig } from '../functions/score/config';
import { createScoreFunction } from '../functions/score/index';
import { lambdaContext } from './local/api-gateway';
import { DEFAULT_MODEL_DIR, DEFAULT_POLICY } from './local/app';
import { ensureTable } from './local/dynamo-local';
import { forkTs, OutputCapture, stopChild, whenReady } from './local/processes';
import { BENCH_ANSWER_TABLE, BENCH_FEATURE_TABLE, seedBenchCard } from './support/bench-card';

process.env.POWERTOOLS_METRICS_DISABLED = process.env.POWERTOOLS_METRICS_DISABLED ?? 'true';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package (or category) a frame belongs to. */
export function categoryOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)' || functionName === '(program)') return `V8 ${functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) {
    if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg.startsWith('@aws-crypto/'))
      return 'AWS SDK';
    if (pkg.startsWith('@aws-lambda-powertools/')) return 'Powertools';
    return pkg;
  }
  if (url.startsWith('node:') || url === '') return 'Node internals';
  if (url.includes('/functions/')) return 'project: functions';
  return 'project: other';
}

/** Self time per category and per function, in ms. */
export function summarizeProfile(profile: Profile): {
  categories: Map<string, number>;
  functions: Map<string, number>;
  totalMs: number;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    totalMs += ms;
    const category = categoryOf(url, functionName);
    categories.set(category, (categories.get(category) ?? 0) + ms);
    const where = url
      ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(functions|scripts)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'} ${where}`;
    functions.set(key, (functions.get(key) ?? 0) + ms);
  }
  return { categories, functions, totalMs };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '3000' },
      top: { type: 'string', default: '15' },
      'no-idempotency': { type: 'boolean', default: false },
      store: { type: 'string', default: 'dynamo' },
      out: { type: 'string' },
    },
  });
  if (values.store !== 'dynamo' && values.store !== 'memory') throw new Error('--store is dynamo or memory');
  const inMemory = values.store === 'memory';
  const requests = Number(values.requests);
  const capture = new OutputCapture(false);
  const dynalite = forkTs('dynalite-process.ts', {}, capture);
  const endpoint = `http://127.0.0.1:${(await whenReady(dynalite, 'dynalite')).port}`;
  const { client, documents } = createDynamoClients({ endpoint, requestTimeoutMs: 5000 });
  await ensureTable(client, 'profile-features', FEATURE_TABLE);
  await ensureTable(client, 'profile-idempotency', IDEMPOTENCY_TABLE);
  let store: ScoringStore | undefined;
  if (inMemory) {
    await seedBenchCard(client, documents);
    const reader = createScoringClient({ endpoint, requestTimeoutMs: 5000 });
    const state = await new DynamoScoringStore(reader, {
      featureTableName: BENCH_FEATURE_TABLE,
      answerTableName: BENCH_ANSWER_TABLE,
    }).read({ cardId: 'card_bench', merchantId: 'm_bench' });
    reader.destroy();
    const held: ScoringLookup = { ...state, ageMs: { card: 0, merchant: 0 } };
    store = { read: async () => held, saveAnswer: async () => ({ stored: true }) };
  }
  const fn = await createScoreFunction(
    loadScoreConfig({
      STAGE: 'profile',
      FEATURE_TABLE_NAME: 'profile-features',
      IDEMPOTENCY_TABLE_NAME: 'profile-idempotency',
      IDEMPOTENCY_ENABLED: String(!values['no-idempotency']),
      MODEL_DIR: DEFAULT_MODEL_DIR,
      POLICY_PATH: DEFAULT_POLICY,
      FEATURE_TIMEOUT_MS: '2000',
      IDEMPOTENCY_TIMEOUT_MS: '2000',
      POWERTOOLS_TRACE_ENABLED: 'false',
      DYNAMODB_ENDPOINT: endpoint,
    }),
    { store },
  );
  const run = async (prefix: string, n: number) => {
    for (let i = 0; i < n; i += 1) {
      const body = JSON.stringify({
        transactionId: `${prefix}-${i}`,
        cardId: inMemory ? 'card_bench' : `card_${i % 50}`,
        merchantId: inMemory ? 'm_bench' : `m_${i % 10}`,
        mcc: '5411',
        amount: 1000 + i,
        currency: 'EUR',
        country: 'DE',
        channel: 'ecommerce',
        timestamp: new Date().toISOString(),
      });
      const res = await fn.handler(
        { body, isBase64Encoded: false } as APIGatewayProxyEvent,
        lambdaContext('score'),
      );
      if (res.statusCode !== 200) throw new Error(`request failed: ${res.body}`);
    }
  };
  await run(`warm-${Date.now()}`, 300);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await run(`prof-${Date.now()}`, requests);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - started;
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
  session.disconnect();
  if (values.out) writeFileSync(values.out, JSON.stringify(profile));
  const { categories, functions, totalMs } = summarizeProfile(profile);
  const line = (label: string, ms: number) =>
    `  ${label.padEnd(34)} ${(ms / requests).toFixed(3).padStart(7)} ms/request  ${((100 * ms) / totalMs).toFixed(1).padStart(5)} %\n`;
  process.stdout.write(
    `\nscore function in-process, ${requests} requests, answers ${values['no-idempotency'] ? 'not stored' : 'stored'}${inMemory ? ', store in memory' : ''}: ` +
      `${(wallMs / requests).toFixed(3)} ms wall, ${(totalMs / requests).toFixed(3)} ms on-CPU samples, ` +
      `${((cpu.user + cpu.system) / 1000 / requests).toFixed(3)} ms process CPU time (user + system) per request\n` +
      `  (samples count a frame while the thread is in it, also when the OS has preempted it: on a busy machine ` +
      `a syscall such as writev collects the time the woken server process runs; CPU time does not)\n\n`,
  );
  for (const [category, ms] of [...categories].sort((a, b) => b[1] - a[1]))
    process.stdout.write(line(category, ms));
  process.stdout.write('\n  top functions (self time):\n');
  for (const [name, ms] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
    process.stdout.write(line(name.slice(0, 34), ms).replace(/^ {2}/, '    '));
  fn.close();
  client.destroy();
  await stopChild(dynalite);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`profile failed: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}
