/**
 * `--parts inference` and `--parts options`: fraud-seq on onnxruntime-node alone, by batch size
 * and by session options (what batching and the options can save at most).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';
import { DEFAULT_MODEL_DIR } from '../local/app';
import { f, MODEL_DIR, quantile, ROW } from './support';

const { InferenceSession, Tensor }: typeof Ort = require('onnxruntime-node');

/** The session options every onnxruntime session here uses (as the twin and the score function). */
export const SHIPPED_OPTIONS: Ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/** `batch` rows of the replay set (repeated as needed) as one input tensor. */
export function batchTensor(data: Float32Array, batch: number): Ort.Tensor {
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
export async function inference(batchSizes: readonly number[], iterations: number, data: Float32Array) {
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
export async function sessionOptions(data: Float32Array, iterations: number): Promise<string[]> {
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
