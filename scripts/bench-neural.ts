/**
 * `npm run bench:neural`: the neural twin's throughput and latency with Triton-style dynamic
 * batching against batching off (max batch size 1), side by side in one run; single-request
 * and batched inference on onnxruntime-node; model size; server cold start; the score function
 * in-process with the neural model `off`, `live` and a tree model in shadow (what each adds);
 * the first neural call of a fresh client with and without the init warm-up; one call split
 * into client, wire and twin phases against a floor server (`bench-neural/tail.ts`).
 *
 * Twin processes get `BENCH_TWIN_NODE_FLAGS` (space-separated node flags).
 *
 *   npm run bench:neural                         # 3 s per concurrency level
 *   npm run bench:neural -- --seconds 5 --levels 1,16,64,128
 *   npm run bench:neural -- --parts twin,score            # only some parts (twin, batcher, inference, options, score, tail)
 *   npm run bench:neural -- --parts tail --tail-iterations 3000   # one neural call split into phases, both sides
 *   npm run bench:neural -- --rounds 5                    # twin columns take turns in 5 rounds per level
 *
 * Both servers are real processes (node + tsx loader) on this machine, and the load
 * generator shares the CPU with them: on the shared two-core box the figures are a floor,
 * and the ratio between the two columns is the point.
 */
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as Ort from 'onnxruntime-node';
import { createDynamoClients } from '#adapters/dynamo-client';
import { encodeInferRequest, HttpNeuralScorer, type InferRequest } from '#adapters/neural-scorer';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';
import { loadScoreConfig } from '../functions/score/config';
import { createScoreFunction } from '../functions/score/index';
import { readNeuralReplay, replayBatch } from '../models/training/neural-parity';
import { DynamicBatcher } from '../services/neural/batcher';
import { parseModelConfig } from '../services/neural/model-config';
import {
  f,
  MODEL_DIR,
  quantile,
  ROW,
  startFloor,
  startTwin,
  type ServerProcess as Twin,
} from './bench-neural/support';
import { tailPart } from './bench-neural/tail';
import { lambdaContext } from './local/api-gateway';
import { DEFAULT_MODEL_DIR, DEFAULT_POLICY } from './local/app';
import { forkTs, OutputCapture, stopChild, whenReady } from './local/processes';
import { seedBenchCard } from './support/bench-card';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

const { InferenceSession, Tensor }: typeof Ort = require('onnxruntime-node');

interface LoadResult {
  concurrency: number;
  requests: number;
  /** Responses of the whole run, warm-up included (what the CPU figures are divided by). */
  responses: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** Sorted latencies (ms) of the measured requests, to pool rounds. */
  latencies: number[];
  seconds: number;
}

/**
 * `concurrency` closed-loop clients for `seconds`, each sending one single-row inference at a
 * time over its own keep-alive connection.
 *
 * Why raw sockets and not `http.request`: the load generator shares the two cores with the
 * server under test, and Node's HTTP client cost about as much CPU per request as the twin
 * itself (a profile of the twin at concurrency 64 showed it idle half the time), so the
 * generator, not the twin, set the ceiling for both columns. Each request is written as
 * prebuilt bytes and each response is framed by its Content-Length (the twin always sends
 * one), which leaves the CPU to the server. Both modes and both encodings use this generator.
 */
async function load(
  url: string,
  bodies: readonly InferRequest[],
  concurrency: number,
  seconds: number,
): Promise<LoadResult> {
  const target = new URL('/v2/models/fraud-seq/infer', url);
  const wire = bodies.map(({ body, headers }) =>
    Buffer.concat([
      Buffer.from(
        `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      ),
      body,
    ]),
  );
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  let measuring = false;
  let responses = 0;
  let end = Number.POSITIVE_INFINITY;
  const client = (warmUp: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname);
      socket.setNoDelay(true);
      let buffered: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let left = warmUp;
      const send = () => {
        sentAt = performance.now();
        socket.write(wire[next++ % wire.length] as Buffer);
      };
      socket.once('connect', send);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        for (;;) {
          const headEnd = buffered.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const head = buffered.toString('latin1', 0, headEnd);
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.NaN);
          if (!Number.isFinite(length)) return reject(new Error(`response without Content-Length: ${head}`));
          if (buffered.length < headEnd + 4 + length) return;
          buffered = buffered.subarray(headEnd + 4 + length);
          const now = performance.now();
          responses += 1;
          if (measuring) {
            if (head.startsWith('HTTP/1.1 200')) latencies.push(now - sentAt);
            else errors += 1;
          }
          left -= 1;
          if ((measuring && now >= end) || (!measuring && left <= 0)) {
            socket.end();
            return resolve();
          }
          send();
        }
      });
    });
  // Warm each connection (and the server's JIT) before the clock starts.
  await Promise.all(Array.from({ length: concurrency }, () => client(20)));
  measuring = true;
  const started = performance.now();
  end = started + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, () => client(Number.POSITIVE_INFINITY)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests: latencies.length,
    responses,
    errors,
    rps: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    latencies,
    seconds: elapsed,
  };
}

/** Model executions and rows executed so far, from the twin's Triton counters. */
async function executions(url: string): Promise<{ rows: number; execs: number }> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  const counter = (name: string) =>
    Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rows: counter('nv_inference_count'), execs: counter('nv_inference_exec_count') };
}

/** The session options every onnxruntime session here uses (as the twin and the score function). */
const SHIPPED_OPTIONS: Ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/** `batch` rows of the replay set (repeated as needed) as one input tensor. */
function batchTensor(data: Float32Array, batch: number): Ort.Tensor {
  const cases = data.length / ROW;
  const input = new Float32Array(batch * ROW);
  for (let i = 0; i < batch; i++)
    input.set(data.subarray((i % cases) * ROW, ((i % cases) + 1) * ROW), i * ROW);
  return new Tensor('float32', input, [batch, SEQUENCE_STEPS, SEQUENCE_WIDTH]);
}

/**
 * Per-row cost of fraud-seq by batch size on onnxruntime alone: what batching can save at most.
 * Batch sizes are measured in interleaved rounds (a load change on the shared box hits all alike).
 */
async function inference(batchSizes: readonly number[], iterations: number, data: Float32Array) {
  const session = await InferenceSession.create(join(MODEL_DIR, 'model.onnx'), SHIPPED_OPTIONS);
  const tensors = new Map(batchSizes.map((b) => [b, batchTensor(data, b)]));
  const times = new Map<number, number[]>(batchSizes.map((b) => [b, []]));
  const cpu = new Map<number, number[]>(batchSizes.map((b) => [b, []]));
  for (let round = 0; round < 5; round += 1) {
    for (const batch of batchSizes) {
      const tensor = tensors.get(batch) as Ort.Tensor;
      for (let i = 0; i < 3; i++) await session.run({ sequence: tensor });
      const n = Math.max(10, Math.round(iterations / 5 / batch));
      const before = process.cpuUsage();
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await session.run({ sequence: tensor });
        times.get(batch)?.push(performance.now() - t);
      }
      const used = process.cpuUsage(before);
      cpu.get(batch)?.push((used.user + used.system) / n / batch);
    }
  }
  await session.release();
  const rows = batchSizes.map((batch) => {
    const sorted = (times.get(batch) as number[]).sort((a, b) => a - b);
    const p50 = quantile(sorted, 0.5);
    const cpuPerRow = quantile(
      (cpu.get(batch) as number[]).sort((a, b) => a - b),
      0.5,
    );
    return { batch, p50, p99: quantile(sorted, 0.99), usPerRow: (p50 * 1000) / batch, cpuPerRow };
  });
  const single = rows[0] as (typeof rows)[number];
  return rows.map((r) => ({
    ...r,
    gain: single.usPerRow / r.usPerRow,
    cpuGain: single.cpuPerRow / r.cpuPerRow,
  }));
}

/**
 * onnxruntime session options against the shipped ones, for fraud-seq (batch 1 and 64) and the
 * tree model fraud-gbdt (batch 1, as the score function runs it): median µs per row over
 * interleaved rounds.
 */
async function sessionOptions(data: Float32Array, iterations: number): Promise<string[]> {
  const treeCard = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'model.json'), 'utf8')) as {
    features: { default: number }[];
    input: { name: string };
  };
  const treeRow = Float32Array.from(treeCard.features.map((x) => x.default));
  const variants: [string, Ort.InferenceSession.SessionOptions][] = [
    ['shipped: optimization all, 1 intra-op thread, sequential, arena on', SHIPPED_OPTIONS],
    ['graphOptimizationLevel basic', { ...SHIPPED_OPTIONS, graphOptimizationLevel: 'basic' }],
    ['graphOptimizationLevel disabled', { ...SHIPPED_OPTIONS, graphOptimizationLevel: 'disabled' }],
    ['intraOpNumThreads 2', { ...SHIPPED_OPTIONS, intraOpNumThreads: 2 }],
    [
      'executionMode parallel (2 inter-op threads)',
      { ...SHIPPED_OPTIONS, executionMode: 'parallel', interOpNumThreads: 2 },
    ],
    ['enableCpuMemArena false', { ...SHIPPED_OPTIONS, enableCpuMemArena: false }],
    ['enableMemPattern false', { ...SHIPPED_OPTIONS, enableMemPattern: false }],
  ];
  const cases: {
    model: string;
    batch: number;
    feeds: (s: Ort.InferenceSession) => Record<string, Ort.Tensor>;
  }[] = [
    { model: 'seq', batch: 1, feeds: () => ({ sequence: batchTensor(data, 1) }) },
    { model: 'seq', batch: 64, feeds: () => ({ sequence: batchTensor(data, 64) }) },
    {
      model: 'gbdt',
      batch: 1,
      feeds: () => ({ [treeCard.input.name]: new Tensor('float32', treeRow, [1, treeRow.length]) }),
    },
  ];
  const sessions = [];
  for (const [name, options] of variants) {
    sessions.push({
      name,
      seq: await InferenceSession.create(join(MODEL_DIR, 'model.onnx'), options),
      gbdt: await InferenceSession.create(join(DEFAULT_MODEL_DIR, 'model.onnx'), options),
    });
  }
  const times = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (let round = 0; round < 5; round += 1) {
    for (const s of sessions) {
      for (const c of cases) {
        const session = c.model === 'seq' ? s.seq : s.gbdt;
        const feeds = c.feeds(session);
        for (let i = 0; i < 3; i++) await session.run(feeds);
        const key = `${s.name}|${c.model}|${c.batch}`;
        const list = times.get(key) ?? [];
        times.set(key, list);
        const n = Math.max(10, Math.round(iterations / 5 / c.batch));
        const before = process.cpuUsage();
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          await session.run(feeds);
          list.push(((performance.now() - t) * 1000) / c.batch);
        }
        const used = process.cpuUsage(before);
        cpu.set(key, [...(cpu.get(key) ?? []), (used.user + used.system) / n / c.batch]);
      }
    }
  }
  for (const s of sessions) {
    await s.seq.release();
    await s.gbdt.release();
  }
  const median = (from: Map<string, number[]>, key: string) =>
    quantile(
      [...(from.get(key) ?? [])].sort((a, b) => a - b),
      0.5,
    );
  return sessions.map((s) => {
    const cell = (c: (typeof cases)[number]) => {
      const key = `${s.name}|${c.model}|${c.batch}`;
      return `${f(median(times, key), 1)} / ${f(median(cpu, key), 1)}`;
    };
    return `| ${s.name} | ${cases.map(cell).join(' | ')} |`;
  });
}

/**
 * The batcher and onnxruntime alone, in this process (no HTTP, no JSON): what dynamic
 * batching does to model execution, separated from the per-request HTTP cost.
 */
async function batcherOnly(data: Float32Array, levels: readonly number[], seconds: number) {
  const config = parseModelConfig(
    readFileSync(join(MODEL_DIR, 'triton', 'fraud-seq', 'config.pbtxt'), 'utf8'),
  );
  const session = await InferenceSession.create(join(MODEL_DIR, 'model.onnx'), SHIPPED_OPTIONS);
  const cases = data.length / ROW;
  const run = async (maxBatchSize: number, concurrency: number) => {
    const batcher = new DynamicBatcher(
      {
        maxBatchSize,
        dynamic: config.dynamicBatching,
        instances: 1,
        inputWidths: { sequence: ROW },
        outputWidths: { score: 1 },
      },
      async (inputs, rows) => {
        const out = await session.run({
          sequence: new Tensor('float32', inputs.sequence as Float32Array, [
            rows,
            SEQUENCE_STEPS,
            SEQUENCE_WIDTH,
          ]),
        });
        return { score: out.score?.data as Float32Array };
      },
    );
    const latencies: number[] = [];
    const end = performance.now() + seconds * 1000;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const i = next++ % cases;
          const t = performance.now();
          await batcher.submit({ sequence: data.subarray(i * ROW, (i + 1) * ROW) }, 1);
          latencies.push(performance.now() - t);
        }
      }),
    );
    batcher.close();
    latencies.sort((a, b) => a - b);
    return {
      rps: latencies.length / ((performance.now() - started) / 1000),
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
    };
  };
  const rows: string[] = [];
  for (const c of levels) {
    const on = await run(config.maxBatchSize, c);
    const off = await run(1, c);
    rows.push(
      `| ${c} | ${f(on.rps, 0)} | ${f(on.p50)} | ${f(on.p99)} | ${f(off.rps, 0)} | ${f(off.p50)} | ${f(off.p99)} | ${f(on.rps / off.rps)} |`,
    );
  }
  await session.release();
  return rows;
}

/**
 * The score function in-process (the same factory as the Lambda entry) against dynalite and
 * the twin: `off`, neural `live`, and a tree model in shadow, one request of each in turn per
 * iteration so that a load change on the shared machine hits all three alike. A card with a
 * week of history (ring and aggregates) written through the real feature writer.
 */
async function scorePath(twinUrl: string, floorUrl: string, iterations: number): Promise<string[]> {
  const dynalite = forkTs('dynalite-process.ts', {}, new OutputCapture(false));
  const endpoint = `http://127.0.0.1:${(await whenReady(dynalite, 'dynalite')).port}`;
  const { client, documents } = createDynamoClients({ endpoint, requestTimeoutMs: 2000 });
  try {
    // A card with a week of history and a busy merchant, written through the real updater.
    const now = await seedBenchCard(client, documents);
    const base = {
      STAGE: 'bench',
      FEATURE_TABLE_NAME: 'bench-features',
      IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
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
    const request = {
      cardId: 'card_bench',
      merchantId: 'm_bench',
      mcc: '5411',
      amount: 2500,
      currency: 'EUR',
      country: 'DE',
      channel: 'ecommerce',
      deviceId: 'dev-1',
      timestamp: new Date(now).toISOString(),
    };
    const event = (id: string) =>
      ({
        body: JSON.stringify({ ...request, transactionId: id }),
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
async function firstCall(twinUrl: string, data: Float32Array, runs: number) {
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

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '3' },
      levels: { type: 'string', default: '1,16,64' },
      iterations: { type: 'string', default: '500' },
      'score-iterations': { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '3' },
      parts: { type: 'string', default: 'twin,batcher,inference,options,score,tail' },
      'tail-iterations': { type: 'string', default: '2000' },
    },
  });
  const parts = new Set((values.parts as string).split(','));
  const seconds = Number(values.seconds);
  const rounds = Math.max(1, Number(values.rounds));
  const levels = (values.levels as string).split(',').map(Number);
  const loadAverage = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  const cases = readNeuralReplay(MODEL_DIR);
  const data = replayBatch(cases);
  // The same rows both ways: JSON numbers, and the binary tensor extension (raw FP32 after a
  // JSON header, score asked back as bytes), built by the score function's own client code.
  const row = (i: number) => data.subarray(i * ROW, (i + 1) * ROW);
  const json = cases.map((_, i) => encodeInferRequest(row(i), 'json'));
  const binary = cases.map((_, i) => encodeInferRequest(row(i), 'binary'));
  const encodings = [
    { name: 'JSON', requests: json },
    { name: 'binary', requests: binary },
  ];

  const modes = [
    { name: 'dynamic batching (config.pbtxt)', args: [] as string[] },
    { name: 'batching off (max_batch_size 1)', args: ['--max-batch-size', '1'] },
  ];
  /** One column (a twin) at one level: rounds pooled. */
  interface Column {
    rps: number;
    p50: number;
    p99: number;
    twinCpuUs: number;
    generatorCpuUs: number;
    errors: number;
    rowsPerExec: number;
  }
  const results: {
    mode: string;
    coldStartMs: number;
    rssMiB: number;
  }[] = [];
  const table: { encoding: string; concurrency: number; on: Column; off: Column; ratios: number[] }[] = [];
  if (parts.has('twin')) {
    // Both twins stay up and take turns, round by round, in alternating order: a load change
    // on the shared box then hits both columns alike, and the spread of the per-round ratios
    // says how much to trust the median.
    const twins: Twin[] = [];
    for (const mode of modes) twins.push(await startTwin(mode.args));
    for (const encoding of encodings) {
      for (const c of levels) {
        const acc = twins.map(() => ({
          latencies: [] as number[],
          seconds: 0,
          responses: 0,
          errors: 0,
          twinCpuMs: 0,
          generatorUs: 0,
          rows: 0,
          execs: 0,
        }));
        const ratios: number[] = [];
        for (let round = 0; round < rounds; round += 1) {
          const rps = [0, 0];
          const order = round % 2 === 0 ? [0, 1] : [1, 0];
          for (const t of order) {
            const twin = twins[t] as Twin;
            const a = acc[t] as (typeof acc)[number];
            const counters = await executions(twin.url);
            const twinBefore = twin.cpuMs();
            const selfBefore = process.cpuUsage();
            const result = await load(twin.url, encoding.requests, c, seconds / rounds);
            const self = process.cpuUsage(selfBefore);
            a.twinCpuMs += twin.cpuMs() - twinBefore;
            const after = await executions(twin.url);
            a.latencies.push(...result.latencies);
            a.seconds += result.seconds;
            a.responses += result.responses;
            a.errors += result.errors;
            a.generatorUs += self.user + self.system;
            a.rows += after.rows - counters.rows;
            a.execs += after.execs - counters.execs;
            rps[t] = result.rps;
          }
          ratios.push((rps[0] as number) / (rps[1] as number));
        }
        const [on, off] = acc.map((a) => {
          const sorted = a.latencies.sort((x, y) => x - y);
          return {
            rps: sorted.length / a.seconds,
            p50: quantile(sorted, 0.5),
            p99: quantile(sorted, 0.99),
            twinCpuUs: (a.twinCpuMs * 1000) / a.responses,
            generatorCpuUs: a.generatorUs / a.responses,
            errors: a.errors,
            rowsPerExec: a.rows / a.execs,
          };
        }) as [Column, Column];
        table.push({
          encoding: encoding.name,
          concurrency: c,
          on,
          off,
          ratios: ratios.sort((x, y) => x - y),
        });
      }
    }
    for (const [t, twin] of twins.entries()) {
      const rssMiB = twin.rssMiB();
      await twin.stop();
      results.push({
        mode: (modes[t] as (typeof modes)[number]).name,
        coldStartMs: twin.coldStartMs,
        rssMiB,
      });
    }
  }
  // The score path against a fresh twin with the shipped config.pbtxt.
  let scoreRows: string[] = [];
  let first = { cold: Number.NaN, warm: Number.NaN };
  if (parts.has('score')) {
    const serving = await startTwin([]);
    const floor = await startFloor();
    try {
      first = await firstCall(serving.url, data, 7);
      scoreRows = await scorePath(serving.url, floor.url, Number(values['score-iterations']));
    } finally {
      await serving.stop();
      await floor.stop();
    }
  }

  const out: string[] = [];
  if (table.length > 0) {
    out.push(
      `fraud-seq twin, ${seconds} s per level and column in ${rounds} interleaved rounds, single-row requests (${((json[0]?.body.length ?? 0) / 1024).toFixed(1)} KiB JSON or ${((binary[0]?.body.length ?? 0) / 1024).toFixed(1)} KiB binary each); load average at start ${loadAverage}`,
      '',
      '| tensors | concurrency | batching: req/s | p50 ms | p99 ms | twin CPU µs/req | rows/exec | off: req/s | p50 ms | p99 ms | twin CPU µs/req | throughput × | per-round × (min–max) | CPU-bound × |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const { encoding, concurrency, on: a, off: b, ratios } of table) {
      out.push(
        `| ${encoding} | ${concurrency} | ${f(a.rps, 0)} | ${f(a.p50)} | ${f(a.p99)} | ${f(a.twinCpuUs, 0)} | ${f(a.rowsPerExec, 1)} | ${f(b.rps, 0)} | ${f(b.p50)} | ${f(b.p99)} | ${f(b.twinCpuUs, 0)} | ${f(a.rps / b.rps)} | ${f(ratios[0] as number)}–${f(ratios[ratios.length - 1] as number)} | ${f(b.twinCpuUs / a.twinCpuUs)} |`,
      );
    }
    const errors = table.reduce((s, r) => s + r.on.errors + r.off.errors, 0);
    const generator = table.flatMap((r) => [r.on.generatorCpuUs, r.off.generatorCpuUs]);
    out.push(
      '',
      `errors: ${errors}; load generator CPU ${f(Math.min(...generator), 0)}–${f(Math.max(...generator), 0)} µs per request (same process for every row). CPU-bound ×: the throughput ratio if both twins were limited by their own CPU per request (off ÷ batching).`,
    );
  }
  if (parts.has('batcher'))
    out.push(
      '',
      'in-process batcher + onnxruntime (no HTTP/JSON), same levels, 1 s each:',
      '',
      '| concurrency | batching: inf/s | p50 ms | p99 ms | off: inf/s | p50 ms | p99 ms | throughput × |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...(await batcherOnly(data, levels, 1)),
    );
  if (parts.has('inference')) {
    out.push(
      '',
      'onnxruntime-node alone (shipped session options), fraud-seq by batch size, 5 interleaved rounds:',
      '',
      '| batch | p50 ms | p99 ms | wall µs per row (p50) | gain over batch 1 | CPU µs per row | gain over batch 1 |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of await inference([1, 2, 4, 8, 16, 32, 64], Number(values.iterations), data)) {
      out.push(
        `| ${r.batch} | ${f(r.p50, 3)} | ${f(r.p99, 3)} | ${f(r.usPerRow, 1)} | ${f(r.gain)} | ${f(r.cpuPerRow, 1)} | ${f(r.cpuGain)} |`,
      );
    }
    out.push(
      '',
      'The per-row gain at 64 bounds what batching can do to throughput: it amortises only the model run, and each request still pays the HTTP work in the twin.',
    );
  }
  if (parts.has('options'))
    out.push(
      '',
      'onnxruntime session options, µs per row over 5 interleaved rounds: wall (median run) / CPU of the whole process (median round; counts extra threads):',
      '',
      '| options | fraud-seq batch 1 | fraud-seq batch 64 | fraud-gbdt batch 1 |',
      '| --- | ---: | ---: | ---: |',
      ...(await sessionOptions(data, Number(values.iterations))),
    );
  if (parts.has('score'))
    out.push(
      '',
      `score function in-process, ${values['score-iterations']} requests each, interleaved (card with 60 events of history; no stored answers):`,
      '',
      '| variant | p50 ms | p99 ms | added p50 ms | added p99 ms | degraded answers |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...scoreRows,
      '',
      `first neural call of a fresh client (median of 7): ${f(first.cold, 2)} ms without warm-up, ${f(first.warm, 2)} ms after warmUp()`,
    );
  if (parts.has('tail')) out.push('', ...(await tailPart(data, Number(values['tail-iterations']))));
  out.push('');
  out.push(`model.onnx: ${(statSync(join(MODEL_DIR, 'model.onnx')).size / 1024).toFixed(1)} KiB`);
  for (const r of results)
    out.push(
      `${r.mode}: cold start (spawn → model loaded and warm → listening) ${f(r.coldStartMs, 0)} ms, RSS after load ${f(r.rssMiB, 0)} MiB`,
    );
  out.push(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench-neural: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
