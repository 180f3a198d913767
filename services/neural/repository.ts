/**
 * The twin's Triton model repository (`<model>/config.pbtxt`, `<model>/<version>/model.onnx`):
 * the newest version of each model loaded into an onnxruntime session behind its own dynamic
 * batcher, warmed up, and registered with the metrics.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { DynamicBatcher } from './batcher';
import type { ModelSeries, TwinMetrics } from './metrics';
import { type ModelConfig, parseModelConfig } from './model-config';
import type { TwinOptions } from './options';
import { product } from './protocol';

const { InferenceSession, Tensor }: typeof Ort = require('onnxruntime-node');

/** One model version as the twin serves it. */
export interface LoadedModel {
  config: ModelConfig;
  version: string;
  session: Ort.InferenceSession;
  batcher: DynamicBatcher;
  /** This model version's metrics, updated per request. */
  series: ModelSeries;
  /** Each output's dims without the batch dimension, by name. */
  outputDims: ReadonlyMap<string, readonly number[]>;
}

/** Loads the newest numeric version of every model in the repository. */
export async function loadRepository(
  options: Pick<TwinOptions, 'repository' | 'maxBatchSize' | 'threads'>,
  metrics: TwinMetrics,
): Promise<Map<string, LoadedModel>> {
  const models = new Map<string, LoadedModel>();
  for (const entry of readdirSync(options.repository)) {
    const dir = join(options.repository, entry);
    if (!statSync(dir).isDirectory()) continue;
    const configText = readFileSync(join(dir, 'config.pbtxt'), 'utf8');
    const config = parseModelConfig(configText);
    if (config.name !== entry)
      throw new Error(`${dir}: config name '${config.name}' differs from the directory name`);
    if (options.maxBatchSize !== undefined) {
      config.maxBatchSize = options.maxBatchSize;
      if (config.dynamicBatching) {
        config.dynamicBatching.preferredBatchSizes = config.dynamicBatching.preferredBatchSizes.filter(
          (s) => s <= Math.max(1, options.maxBatchSize as number),
        );
      }
    }
    const versions = readdirSync(dir)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    const version = versions[0];
    if (!version) throw new Error(`${dir}: no numeric version directory`);
    const session = await InferenceSession.create(join(dir, version, 'model.onnx'), {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const width = (t: { dims: number[] }) => product(t.dims);
    const batcher = new DynamicBatcher(
      {
        maxBatchSize: config.maxBatchSize,
        dynamic: config.dynamicBatching,
        instances: config.instanceCount,
        inputWidths: Object.fromEntries(config.inputs.map((t) => [t.name, width(t)])),
        outputWidths: Object.fromEntries(config.outputs.map((t) => [t.name, width(t)])),
      },
      async (inputs, rows) => {
        const feeds: Record<string, Ort.Tensor> = {};
        for (const t of config.inputs) {
          feeds[t.name] = new Tensor('float32', inputs[t.name] as Float32Array, [rows, ...t.dims]);
        }
        const result = await session.run(feeds);
        return Object.fromEntries(config.outputs.map((t) => [t.name, result[t.name]?.data as Float32Array]));
      },
      // Before registration (the warm-up below) nothing is counted.
      (batch) => series?.batch(batch.rows, batch.computeMicroseconds),
    );
    let series: ModelSeries | undefined;
    // Warm-up with one zero row, so the first request pays no graph initialisation (not counted).
    await batcher.submit(
      Object.fromEntries(config.inputs.map((t) => [t.name, new Float32Array(width(t))])),
      1,
    );
    series = metrics.register(config.name, version, () => batcher.pending);
    models.set(config.name, {
      config,
      version,
      session,
      batcher,
      series,
      outputDims: new Map(config.outputs.map((t) => [t.name, t.dims])),
    });
  }
  if (models.size === 0) throw new Error(`${options.repository}: no models`);
  return models;
}
