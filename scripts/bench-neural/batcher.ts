/**
 * `--parts batcher`: the twin's batcher and onnxruntime in this process, no HTTP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';
import { DynamicBatcher } from '../../services/neural/batcher';
import { parseModelConfig } from '../../services/neural/model-config';
import { SHIPPED_OPTIONS } from './inference';
import { f, MODEL_DIR, quantile, ROW } from './support';

const { InferenceSession, Tensor }: typeof Ort = require('onnxruntime-node');

/**
 * The batcher and onnxruntime alone, in this process (no HTTP, no JSON): what dynamic
 * batching does to model execution, separated from the per-request HTTP cost.
 */
export async function batcherOnly(data: Float32Array, levels: readonly number[], seconds: number) {
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
