/**
 * `npm run bench`: the scoring path's costs, measured side by side in one run.
 *
 * - raw BatchGetItem against the embedded server (in a child process, so it does not share
 *   this process's event loop with the code under test), and the conditional PutItem of a
 *   stored answer, each through the store and as raw HTTP (the same signed request replayed
 *   over one kept-alive socket without the SDK: the server's own time, the floor under both),
 *   and the PutItem timed right after a BatchGetItem, as the stored path sends it;
 * - raw inference: one row, and the batch the handler really runs (row + reason-code
 *   perturbations), alone and right after a BatchGetItem (only the inference timed): after any
 *   wait for I/O the model's trees are no longer in the CPU caches, and the handler's inference
 *   always follows its read;
 * - the score function invoked in-process, built by the same factory as the Lambda entry and
 *   the local stack, with and without stored answers (idempotency reads the answer in the
 *   same BatchGetItem and stores it with one conditional put), and the DynamoDB round trips
 *   each answer costs, counted on the wire;
 * - the score function with a store that answers from memory (no DynamoDB): the function's own
 *   work beside the inference, so the handler ratio's overhead splits into code and the rest;
 * - the same, answers not stored, with production observability (Powertools metrics and the
 *   judge's EMF lines on, logs at INFO; what they write to stdout counted and discarded):
 *   the rows above run with metrics off and logs at ERROR, as they always have;
 * - cold init of the Lambda bundle: module load + ONNX session + warm-up + first score,
 *   in a fresh Node process.
 *
 * The BatchGetItem row reads through the score function's own kind of client
 * (`createScoringClient`), so the store's client costs the same in numerator and denominator.
 *
 * Every row runs in each iteration (see {@link measureInterleaved}). Each row also reports this
 * process's CPU time per sample (p50): on a shared machine the wall times include waiting for a
 * core, the CPU time does not, so a before/after of the function's own code reads best there. What the observability row
 * writes to stdout is counted and discarded, so the bench's own output stays readable; a write to
 * a pipe in Lambda costs a syscall more than this.
 *
 * Options: --iterations N (default 2000), --skip-cold.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createDynamoClients, createScoringClient } from '#adapters/dynamo-client';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import { FEATURE_DEFAULTS, featureVector } from '#domain/features';
import type { StoredAnswer } from '#domain/idempotency';
import type { ScoringLookup, ScoringStore } from '#domain/ports';
import { loadScoreConfig } from '../functions/score/config';
import { createScoreFunction } from '../functions/score/index';
import { lambdaContext } from './local/api-gateway';
import { DEFAULT_MODEL_DIR, DEFAULT_POLICY, ROOT } from './local/app';

/** HTTP requests this process starts (the AWS SDK's included), counted on Node's diagnostics channel. */
let httpRequests = 0;
subscribe('http.client.request.start', () => {
  httpRequests += 1;
});

import { forkTs, OutputCapture, stopChild, whenReady } from './local/processes';
import { BENCH_ANSWER_TABLE, BENCH_FEATURE_TABLE, benchRequest, seedBenchCard } from './support/bench-card';
import { RawDynamoRequest } from './support/raw-dynamo-request';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

interface Stats {
  p50: number;
  p99: number;
  mean: number;
  /**
   * This process's CPU time (user + system) per sample, p50: what the row's own code costs,
   * whatever else runs on the machine (the other rows' wall times count the waits for a core).
   * The servers' CPU (dynalite's process) is not in it.
   */
  cpuP50: number;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function stats(samples: number[], cpu: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    cpuP50: percentile(
      [...cpu].sort((a, b) => a - b),
      0.5,
    ),
  };
}

/** CPU milliseconds (user + system) of this process since `since`. */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/** What a row's work resolves to when only part of it is timed (see {@link timedPart}). */
interface TimedPart {
  readonly partMs: number;
  readonly partCpuMs: number;
}

/** One row of the bench: what one iteration does. */
interface Row {
  label: string;
  /** The iteration's work; timed whole unless it resolves to a {@link TimedPart}. */
  work: (i: number) => Promise<unknown>;
}

/** Runs `setUp` untimed, then times `part` alone: a row whose sample is the second step only. */
async function timedPart(setUp: () => Promise<unknown>, part: () => Promise<unknown>): Promise<TimedPart> {
  await setUp();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await part();
  const partMs = performance.now() - started;
  return { partMs, partCpuMs: cpuMsSince(cpu) };
}

/**
 * Times every row `iterations` times, interleaved: each iteration runs each row once, in
 * forward then reverse order, so every row sees the same machine load. Run one row after
 * the other (as this bench did until 2026-12-01), a ratio of two rows compared two different
 * minutes of a shared machine: at a load average of 10–15, the same commit's handler ratio
 * came out anywhere between 0.86 and 2.97.
 */
async function measureInterleaved(rows: readonly Row[], iterations: number): Promise<Stats[]> {
  const warmUp = Math.min(200, iterations / 10);
  const samples = rows.map(() => [] as number[]);
  const cpuSamples = rows.map(() => [] as number[]);
  for (let i = -warmUp; i < iterations; i += 1) {
    for (let k = 0; k < rows.length; k += 1) {
      const index = i % 2 === 0 ? k : rows.length - 1 - k;
      const row = rows[index] as Row;
      // CPU read outside the wall-clock pair, so the wall times are what they always were.
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result = (await row.work(i)) as Partial<TimedPart> | undefined;
      const elapsed = result?.partMs ?? performance.now() - started;
      const cpuMs = result?.partCpuMs ?? cpuMsSince(cpu);
      if (i >= 0) {
        samples[index]?.push(elapsed);
        cpuSamples[index]?.push(cpuMs);
      }
    }
  }
  return samples.map((wall, index) => stats(wall, cpuSamples[index] as number[]));
}

function printRow(label: string, s: Stats): void {
  process.stdout.write(
    `  ${label.padEnd(46)} p50 ${s.p50.toFixed(3).padStart(8)} ms   p99 ${s.p99.toFixed(3).padStart(8)} ms   mean ${s.mean.toFixed(3).padStart(8)} ms   CPU p50 ${s.cpuP50.toFixed(3).padStart(7)} ms\n`,
  );
}

/** Starts dynalite in its own process (the local stack's dynalite process) and resolves with its endpoint. */
async function startDynaliteProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = forkTs('dynalite-process.ts', {}, new OutputCapture(true));
  const { port } = await whenReady(child, 'dynalite');
  return { endpoint: `http://127.0.0.1:${port}`, child };
}

/**
 * Builds a score function as Lambda runs it: Powertools metrics and the EMF lines on (both read
 * `POWERTOOLS_METRICS_DISABLED` at construction), logs at INFO.
 */
async function withObservability<T>(build: () => Promise<T>): Promise<T> {
  const saved = { metrics: process.env.POWERTOOLS_METRICS_DISABLED, level: process.env.POWERTOOLS_LOG_LEVEL };
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  try {
    return await build();
  } finally {
    process.env.POWERTOOLS_METRICS_DISABLED = saved.metrics;
    process.env.POWERTOOLS_LOG_LEVEL = saved.level;
  }
}

/**
 * Counts and drops what is written to stdout (Powertools and the EMF writer call
 * `process.stdout.write` each time), so the bench's own output stays readable. A write to a
 * pipe in Lambda costs a syscall more than this; `writes` says how many there are.
 */
function discardStdout() {
  const original = process.stdout.write;
  const counts = { writes: 0, bytes: 0, answers: 0, restore: () => {} };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    counts.writes += 1;
    counts.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return true;
  }) as typeof process.stdout.write;
  counts.restore = () => {
    process.stdout.write = original;
  };
  return counts;
}

function apiEvent(body: unknown): APIGatewayProxyEvent {
  return { body: JSON.stringify(body), isBase64Encoded: false } as unknown as APIGatewayProxyEvent;
}

/** Bundles the Lambda entry like the CDK does and times a cold start in a fresh process. */
function coldInit(endpoint: string): Record<string, number> {
  // A temp dir outside the repo: onnxruntime-node is found only through NODE_PATH, as from the
  // layer in Lambda, so the probe fails if the bundle resolved it any other way.
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  const bundle = join(dir, 'index.mjs');
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'esbuild'),
    [
      join(ROOT, 'functions', 'score', 'lambda.ts'),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node20',
      `--outfile=${bundle}`,
      '--external:onnxruntime-node',
      '--main-fields=module,main',
      "--banner:js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      '--log-level=error',
    ],
    { cwd: ROOT },
  );
  const probe = `
    const t0 = performance.now();
    const mod = await import(${JSON.stringify(bundle)});
    const t1 = performance.now();
    const body = JSON.stringify({ transactionId: 'cold-' + Date.now(), cardId: 'card_bench', merchantId: 'm_bench', mcc: '5411', amount: 2500, currency: 'EUR', country: 'DE', channel: 'ecommerce', timestamp: new Date().toISOString() });
    const res = await mod.handler({ body, isBase64Encoded: false }, { functionName: 'score', awsRequestId: 'x', getRemainingTimeInMillis: () => 3000 });
    const t2 = performance.now();
    if (res.statusCode !== 200) throw new Error('cold score failed: ' + res.body);
    console.log(JSON.stringify({ initMs: t1 - t0, firstScoreMs: t2 - t1, totalMs: t2 - t0 }));
  `;
  const probeFile = join(dir, 'probe.mjs');
  writeFileSync(probeFile, probe);
  const runs: Record<string, number>[] = [];
  for (let i = 0; i < 3; i += 1) {
    const out = execFileSync(process.execPath, [probeFile], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_PATH: join(ROOT, 'node_modules'),
        FEATURE_TABLE_NAME: BENCH_FEATURE_TABLE,
        IDEMPOTENCY_TABLE_NAME: BENCH_ANSWER_TABLE,
        MODEL_DIR: DEFAULT_MODEL_DIR,
        POLICY_PATH: DEFAULT_POLICY,
        DYNAMODB_ENDPOINT: endpoint,
        POWERTOOLS_TRACE_ENABLED: 'false',
        AWS_LAMBDA_FUNCTION_NAME: 'score',
      },
    });
    runs.push(JSON.parse(out.toString().trim().split('\n').pop() as string));
  }
  // The median of three fresh processes: the first also warms the OS file cache.
  const median = (key: string) => runs.map((r) => r[key] as number).sort((a, b) => a - b)[1] as number;
  return { initMs: median('initMs'), firstScoreMs: median('firstScoreMs'), totalMs: median('totalMs') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '2000' },
      'skip-cold': { type: 'boolean', default: false },
    },
  });
  const iterations = Number(values.iterations);
  const { endpoint, child } = await startDynaliteProcess();
  const { client, documents } = createDynamoClients({ endpoint, requestTimeoutMs: 2000 });
  const scoringClient = createScoringClient({ endpoint, requestTimeoutMs: 2000 });
  try {
    // A card with a week of history and a busy merchant, written through the real updater.
    const now = await seedBenchCard(client, documents);
    const store = new DynamoScoringStore(scoringClient, {
      featureTableName: BENCH_FEATURE_TABLE,
      answerTableName: BENCH_ANSWER_TABLE,
    });
    const model = await OnnxModelRunner.load(DEFAULT_MODEL_DIR);
    const request = benchRequest(now);
    const storeOptions = { featureTableName: BENCH_FEATURE_TABLE, answerTableName: BENCH_ANSWER_TABLE };
    const state = await store.read({ cardId: 'card_bench', merchantId: 'm_bench' });
    const vector = featureVector(state, request, now);
    const batch = [
      vector,
      ...vector.flatMap((v, i) =>
        v === FEATURE_DEFAULTS[i]
          ? []
          : [[...vector.slice(0, i), FEATURE_DEFAULTS[i] as number, ...vector.slice(i + 1)]],
      ),
    ];

    process.stdout.write(
      `\nbench: ${iterations} iterations each, rows interleaved, Node ${process.version}, model ${model.model.name}@${model.model.version}\n\n`,
    );
    const scoreFunction = (idempotency: boolean, store?: ScoringStore) =>
      createScoreFunction(
        loadScoreConfig({
          STAGE: 'bench',
          FEATURE_TABLE_NAME: BENCH_FEATURE_TABLE,
          IDEMPOTENCY_TABLE_NAME: BENCH_ANSWER_TABLE,
          IDEMPOTENCY_ENABLED: String(idempotency),
          MODEL_DIR: DEFAULT_MODEL_DIR,
          POLICY_PATH: DEFAULT_POLICY,
          FEATURE_TIMEOUT_MS: '1000',
          IDEMPOTENCY_TIMEOUT_MS: '1000',
          POWERTOOLS_TRACE_ENABLED: 'false',
          DYNAMODB_ENDPOINT: endpoint,
        }),
        { store },
      );
    const plain = await scoreFunction(false);
    const stored = await scoreFunction(true);
    const observed = await withObservability(() => scoreFunction(false));
    // The function's own work: the same build, its store answering at once with what dynalite holds.
    const held: ScoringLookup = { ...state, ageMs: { card: 0, merchant: 0 } };
    const inMemory: ScoringStore = { read: async () => held, saveAnswer: async () => ({ stored: true }) };
    const memory = await scoreFunction(false, inMemory);

    // The answer the stored path writes, for the PutItem rows (its own transactionIds).
    const answer: StoredAnswer = {
      requestHash: 'x'.repeat(43),
      response: JSON.parse(
        (
          await plain.handler(
            apiEvent({ ...request, transactionId: `answer-${now}` }),
            lambdaContext('score'),
          )
        ).body,
      ),
      expiresAt: Math.floor(now / 1000) + 3600,
    };
    const rawRead = await RawDynamoRequest.capture(endpoint, (c) =>
      new DynamoScoringStore(c, storeOptions).read({ cardId: 'card_bench', merchantId: 'm_bench' }),
    );
    const putTemplate = `raw-put-template-${now}`;
    const rawPut = await RawDynamoRequest.capture(endpoint, (c) =>
      new DynamoScoringStore(c, storeOptions).saveAnswer(putTemplate, answer),
    );
    if (!rawPut.body.includes(putTemplate))
      throw new Error('the captured PutItem does not carry its transactionId');
    // Each raw request checked once: the read returns the card, the put stores.
    const rawReadCheck = await rawRead.send();
    const rawPutCheck = await rawPut.send(rawPut.body.replace(putTemplate, `raw-check-${now}`));
    if (
      rawReadCheck.status !== 200 ||
      !rawReadCheck.body.includes('card#card_bench') ||
      rawPutCheck.status !== 200
    )
      throw new Error(
        `raw requests failed: ${rawReadCheck.status} ${rawPutCheck.status} ${rawPutCheck.body}`,
      );
    const roundTrips = async (fn: typeof plain, transactionId: string) => {
      const before = httpRequests;
      const response = await fn.handler(apiEvent({ ...request, transactionId }), lambdaContext('score'));
      if (response.statusCode !== 200) throw new Error(`bench request failed: ${response.body}`);
      return httpRequests - before;
    };
    const trips = {
      plain: await roundTrips(plain, `trips-plain-${now}`),
      first: await roundTrips(stored, `trips-${now}`),
      retry: await roundTrips(stored, `trips-${now}`),
    };
    const stdout = discardStdout();
    let measured: Stats[];
    try {
      measured = await measureInterleaved(
        [
          {
            label: 'BatchGetItem (card + merchant, dynalite)',
            work: () => store.read({ cardId: 'card_bench', merchantId: 'm_bench' }),
          },
          { label: 'BatchGetItem, raw HTTP (dynalite alone)', work: () => rawRead.send() },
          {
            label: 'PutItem of an answer, conditional',
            work: (i) => store.saveAnswer(`put-${i}-${now}`, answer),
          },
          {
            // As in the stored path: the write follows the read at once (only the write is timed).
            label: 'PutItem right after a BatchGetItem',
            work: (i) =>
              timedPart(
                () => store.read({ cardId: 'card_bench', merchantId: 'm_bench' }),
                () => store.saveAnswer(`after-read-${i}-${now}`, answer),
              ),
          },
          {
            label: 'PutItem, raw HTTP (dynalite alone)',
            work: (i) => rawPut.send(rawPut.body.replace(putTemplate, `raw-${i}-${now}`)),
          },
          { label: 'inference, 1 row', work: () => model.score([vector]) },
          { label: `inference, handler batch (${batch.length} rows)`, work: () => model.score(batch) },
          {
            label: 'score function in-process (answers not stored)',
            work: (i) =>
              plain.handler(
                apiEvent({ ...request, transactionId: `plain-${i}-${now}` }),
                lambdaContext('score'),
              ),
          },
          {
            label: 'score function in-process (answers stored)',
            work: (i) =>
              stored.handler(
                apiEvent({ ...request, transactionId: `idem-${i}-${now}` }),
                lambdaContext('score'),
              ),
          },
          {
            label: 'same, not stored, store in memory (no DynamoDB)',
            work: (i) =>
              memory.handler(
                apiEvent({ ...request, transactionId: `mem-${i}-${now}` }),
                lambdaContext('score'),
              ),
          },
          {
            label: 'same, not stored, metrics + INFO logs on',
            work: (i) => {
              stdout.answers += 1;
              return observed.handler(
                apiEvent({ ...request, transactionId: `obs-${i}-${now}` }),
                lambdaContext('score'),
              );
            },
          },
          {
            // As in the handler: the inference follows the read's wait (only the inference is timed).
            // Last, so that the rows before keep the neighbours they were measured with.
            label: 'same batch right after a BatchGetItem',
            work: () =>
              timedPart(
                () => store.read({ cardId: 'card_bench', merchantId: 'm_bench' }),
                () => model.score(batch),
              ),
          },
        ],
        iterations,
      );
    } finally {
      stdout.restore();
    }
    plain.close();
    stored.close();
    observed.close();
    memory.close();
    rawRead.close();
    rawPut.close();
    const [
      get,
      rawGet,
      put,
      putAfterRead,
      rawPutStats,
      one,
      inf,
      handlerStats,
      idemStats,
      memStats,
      obsStats,
      infAfterRead,
    ] = measured as Stats[] as [
      Stats,
      Stats,
      Stats,
      Stats,
      Stats,
      Stats,
      Stats,
      Stats,
      Stats,
      Stats,
      Stats,
      Stats,
    ];
    printRow('BatchGetItem (card + merchant, dynalite)', get);
    printRow('BatchGetItem, raw HTTP (dynalite alone)', rawGet);
    printRow('PutItem of an answer, conditional', put);
    printRow('PutItem right after a BatchGetItem', putAfterRead);
    printRow('PutItem, raw HTTP (dynalite alone)', rawPutStats);
    printRow('inference, 1 row', one);
    printRow(`inference, handler batch (${batch.length} rows)`, inf);
    printRow('same batch right after a BatchGetItem', infAfterRead);
    printRow('score function in-process (answers not stored)', handlerStats);
    printRow('score function in-process (answers stored)', idemStats);
    printRow('same, not stored, store in memory (no DynamoDB)', memStats);
    printRow('same, not stored, metrics + INFO logs on', obsStats);

    const ms = (value: number) => `${value.toFixed(3)} ms`;
    const ratio = (h: Stats) => ({ p50: h.p50 / (get.p50 + inf.p50), p99: h.p99 / (get.p99 + inf.p99) });
    const r = ratio(handlerStats);
    const ri = ratio(idemStats);
    process.stdout.write(
      `\n  DynamoDB round trips per answer               ${trips.plain} without stored answers, ${trips.first} with (${trips.retry} for a retry)\n` +
        `  handler ÷ (BatchGetItem + inference)          p50 ${r.p50.toFixed(2)}   p99 ${r.p99.toFixed(2)}   (goal ≤ 1.1)\n` +
        `  same, with stored answers                     p50 ${ri.p50.toFixed(2)}   p99 ${ri.p99.toFixed(2)}\n` +
        `    overhead beyond the two                    p50 ${ms(handlerStats.p50 - get.p50 - inf.p50)}: the function's own code ${ms(memStats.p50 - inf.p50)} (store in memory − inference), the rest ${ms(handlerStats.p50 - get.p50 - memStats.p50)}\n` +
        `      of the rest, the inference right after the read's wait   ${ms(infAfterRead.p50 - inf.p50)} (the batch right after a BatchGetItem − the batch alone)\n` +
        `    same ratio with the inference as it runs after the read   p50 ${(handlerStats.p50 / (get.p50 + infAfterRead.p50)).toFixed(2)}\n` +
        `    in this process's CPU time (p50)            handler ÷ (BatchGetItem + inference) ${(handlerStats.cpuP50 / (get.cpuP50 + inf.cpuP50)).toFixed(2)}: ` +
        `own code ${ms(memStats.cpuP50 - inf.cpuP50)}, the rest ${ms(handlerStats.cpuP50 - get.cpuP50 - memStats.cpuP50)}, of it the cold inference ${ms(infAfterRead.cpuP50 - inf.cpuP50)}\n` +
        `  stored ÷ not stored                           p50 ${(idemStats.p50 / handlerStats.p50).toFixed(2)}   p99 ${(idemStats.p99 / handlerStats.p99).toFixed(2)}   (goal ≤ 1.5 at p50)\n` +
        `    stored − not stored                        p50 ${ms(idemStats.p50 - handlerStats.p50)}; the PutItem alone ${ms(put.p50)}, right after a read ${ms(putAfterRead.p50)}, dynalite alone ${ms(rawPutStats.p50)} (its BatchGetItem ${ms(rawGet.p50)})\n` +
        `    if storing cost one PutItem and nothing else  p50 ${((handlerStats.p50 + put.p50) / handlerStats.p50).toFixed(2)} (one right after a read: ${((handlerStats.p50 + putAfterRead.p50) / handlerStats.p50).toFixed(2)}); with the SDK costing nothing ${((handlerStats.p50 - get.p50 + rawGet.p50 + rawPutStats.p50) / (handlerStats.p50 - get.p50 + rawGet.p50)).toFixed(2)}\n` +
        `  inference: 1 row vs handler batch            p50 ${one.p50.toFixed(3)} vs ${inf.p50.toFixed(3)} ms\n` +
        `  with production observability                 p50 ${ratio(obsStats).p50.toFixed(2)}   p99 ${ratio(obsStats).p99.toFixed(2)}   ` +
        `(${(stdout.writes / stdout.answers).toFixed(1)} stdout writes, ${Math.round(stdout.bytes / stdout.answers)} bytes per answer)\n`,
    );
    if (!values['skip-cold']) {
      const cold = coldInit(endpoint);
      process.stdout.write(
        `\n  cold init (fresh process, ESM bundle as deployed; median of 3):\n` +
          `    module load + config + ONNX session + warm-up   ${cold.initMs?.toFixed(1)} ms\n` +
          `    first score after init                          ${cold.firstScoreMs?.toFixed(1)} ms\n` +
          `    total                                           ${cold.totalMs?.toFixed(1)} ms\n`,
      );
    }
    process.stdout.write('\n');
  } finally {
    client.destroy();
    scoringClient.destroy();
    await stopChild(child);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
