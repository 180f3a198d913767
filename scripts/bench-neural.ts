/**
 * `npm run bench:neural`: the neural twin's throughput and latency with Triton-style dynamic
 * batching against batching off (max batch size 1), side by side in one run; single-request
 * and batched inference on onnxruntime-node; model size; server cold start; the score function
 * in-process with the neural model `off`, `live` and a tree model in shadow (what each adds);
 * the first neural call of a fresh client with and without the init warm-up; one call split
 * into client, wire and twin phases against a floor server. One file per part in
 * `scripts/bench-neural/` (twin, batcher, inference + options, score, tail); this one reads the
 * flags, runs the parts asked for and prints the report.
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
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeInferRequest } from '#adapters/neural-codec';
import { readNeuralReplay, replayBatch } from '../models/training/neural-parity';
import { batcherOnly } from './bench-neural/batcher';
import { inference, sessionOptions } from './bench-neural/inference';
import { firstCall, scorePath } from './bench-neural/score';
import { f, MODEL_DIR, ROW, startFloor, startTwin } from './bench-neural/support';
import { tailPart } from './bench-neural/tail';
import { type TwinRun, twinPart } from './bench-neural/twin';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

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

  let twinLines: string[] = [];
  let results: TwinRun[] = [];
  if (parts.has('twin')) {
    ({ lines: twinLines, results } = await twinPart(encodings, levels, rounds, seconds, loadAverage));
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

  const out: string[] = [...twinLines];
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
