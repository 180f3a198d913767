/**
 * `npm run bench:neural`: the neural twin's throughput and latency with Triton-style dynamic
 * batching against batching off (max batch size 1), side by side in one run; single-request
 * and batched inference on onnxruntime-node; model size; server cold start.
 *
 *   npm run bench:neural                         # 3 s per concurrency level
 *   npm run bench:neural -- --seconds 5 --levels 1,16,64,128
 *
 * Both servers are real processes (node + tsx loader) on this machine, and the load
 * generator shares the CPU with them: on the shared two-core box the figures are a floor,
 * and the ratio between the two columns is the point.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as Ort from 'onnxruntime-node';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';
import { readNeuralReplay, replayBatch } from '../models/training/neural-parity';
import { DynamicBatcher } from '../services/neural/batcher';
import { parseModelConfig } from '../services/neural/model-config';

const { InferenceSession, Tensor }: typeof Ort = require('onnxruntime-node');

const ROOT = join(__dirname, '..');
const MODEL_DIR = join(ROOT, 'models', 'fraud-seq', '1.0.0');
const ROW = SEQUENCE_STEPS * SEQUENCE_WIDTH;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

interface Twin {
  url: string;
  /** Resident memory of the server process in MiB (Linux /proc), NaN elsewhere. */
  rssMiB(): number;
  coldStartMs: number;
  stop(): Promise<void>;
}

function startTwin(args: string[]): Promise<Twin> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'services/neural/main.ts'), '--port', '0', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`twin exited with ${code}: ${out}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        resolve({
          url: match[1] as string,
          coldStartMs: performance.now() - started,
          rssMiB: () => {
            try {
              const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
              return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
            } catch {
              return Number.NaN;
            }
          },
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit');
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

interface LoadResult {
  concurrency: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

/** `concurrency` closed-loop clients for `seconds`, each sending one single-row inference at a time. */
async function load(
  url: string,
  bodies: readonly string[],
  concurrency: number,
  seconds: number,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL('/v2/models/fraud-seq/infer', url);
  const latencies: number[] = [];
  let errors = 0;
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  // Warm the pool: one request per socket before the clock starts.
  await Promise.all(Array.from({ length: concurrency }, (_, i) => post(bodies[i % bodies.length] as string)));
  const end = performance.now() + seconds * 1000;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const body = bodies[next++ % bodies.length] as string;
        const t = performance.now();
        try {
          const status = await post(body);
          if (status !== 200) errors += 1;
          else latencies.push(performance.now() - t);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests: latencies.length,
    errors,
    rps: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}

async function inference(batchSizes: readonly number[], iterations: number, data: Float32Array) {
  const session = await InferenceSession.create(join(MODEL_DIR, 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const rows: { batch: number; p50: number; p99: number; rowsPerSecond: number }[] = [];
  for (const batch of batchSizes) {
    const input = new Float32Array(batch * ROW);
    for (let i = 0; i < batch; i++)
      input.set(
        data.subarray((i % (data.length / ROW)) * ROW, ((i % (data.length / ROW)) + 1) * ROW),
        i * ROW,
      );
    const tensor = new Tensor('float32', input, [batch, SEQUENCE_STEPS, SEQUENCE_WIDTH]);
    for (let i = 0; i < 5; i++) await session.run({ sequence: tensor });
    const times: number[] = [];
    const n = Math.max(20, Math.round(iterations / batch));
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await session.run({ sequence: tensor });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const p50 = quantile(times, 0.5);
    rows.push({ batch, p50, p99: quantile(times, 0.99), rowsPerSecond: (batch / p50) * 1000 });
  }
  await session.release();
  return rows;
}

/**
 * The batcher and onnxruntime alone, in this process (no HTTP, no JSON): what dynamic
 * batching does to model execution, separated from the per-request HTTP cost.
 */
async function batcherOnly(data: Float32Array, levels: readonly number[], seconds: number) {
  const config = parseModelConfig(
    readFileSync(join(MODEL_DIR, 'triton', 'fraud-seq', 'config.pbtxt'), 'utf8'),
  );
  const session = await InferenceSession.create(join(MODEL_DIR, 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
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

const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '3' },
      levels: { type: 'string', default: '1,16,64' },
      iterations: { type: 'string', default: '500' },
    },
  });
  const seconds = Number(values.seconds);
  const levels = (values.levels as string).split(',').map(Number);
  const cases = readNeuralReplay(MODEL_DIR);
  const data = replayBatch(cases);
  const bodies = cases.map((_, i) =>
    JSON.stringify({
      inputs: [
        {
          name: 'sequence',
          shape: [1, SEQUENCE_STEPS, SEQUENCE_WIDTH],
          datatype: 'FP32',
          data: Array.from(data.subarray(i * ROW, (i + 1) * ROW)),
        },
      ],
    }),
  );

  const modes = [
    { name: 'dynamic batching (config.pbtxt)', args: [] as string[] },
    { name: 'batching off (max_batch_size 1)', args: ['--max-batch-size', '1'] },
  ];
  const results: { mode: string; coldStartMs: number; rssMiB: number; rows: LoadResult[] }[] = [];
  for (const mode of modes) {
    const twin = await startTwin(mode.args);
    const rows: LoadResult[] = [];
    for (const c of levels) rows.push(await load(twin.url, bodies, c, seconds));
    const rssMiB = twin.rssMiB();
    await twin.stop();
    results.push({ mode: mode.name, coldStartMs: twin.coldStartMs, rssMiB, rows });
  }

  const out: string[] = [];
  out.push(
    `fraud-seq twin, ${seconds} s per level, single-row requests (${(Buffer.byteLength(bodies[0] as string) / 1024).toFixed(1)} KiB JSON each)`,
  );
  out.push('');
  out.push(
    '| concurrency | batching: req/s | p50 ms | p99 ms | off: req/s | p50 ms | p99 ms | throughput × |',
  );
  out.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const [on, off] = results as [(typeof results)[0], (typeof results)[0]];
  levels.forEach((c, i) => {
    const a = on.rows[i] as LoadResult;
    const b = off.rows[i] as LoadResult;
    out.push(
      `| ${c} | ${f(a.rps, 0)} | ${f(a.p50)} | ${f(a.p99)} | ${f(b.rps, 0)} | ${f(b.p50)} | ${f(b.p99)} | ${f(a.rps / b.rps, 2)} |`,
    );
  });
  const errors = results.flatMap((r) => r.rows).reduce((s, r) => s + r.errors, 0);
  out.push('', `errors: ${errors}`);
  out.push(
    '',
    'in-process batcher + onnxruntime (no HTTP/JSON), same levels, 1 s each:',
    '',
    '| concurrency | batching: inf/s | p50 ms | p99 ms | off: inf/s | p50 ms | p99 ms | throughput × |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...(await batcherOnly(data, levels, 1)),
  );
  out.push(
    '',
    '| onnxruntime-node, 1 thread, batch | p50 ms | p99 ms | rows/s |',
    '| ---: | ---: | ---: | ---: |',
  );
  for (const r of await inference([1, 16, 64], Number(values.iterations), data)) {
    out.push(`| ${r.batch} | ${f(r.p50, 3)} | ${f(r.p99, 3)} | ${f(r.rowsPerSecond, 0)} |`);
  }
  out.push('');
  out.push(`model.onnx: ${(statSync(join(MODEL_DIR, 'model.onnx')).size / 1024).toFixed(1)} KiB`);
  for (const r of results)
    out.push(
      `${r.mode}: cold start (spawn → model loaded and warm → listening) ${f(r.coldStartMs, 0)} ms, RSS after load ${f(r.rssMiB, 0)} MiB`,
    );
  process.stdout.write(`${out.join('\n')}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench-neural: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
