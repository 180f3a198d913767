/**
 * Runs a model directory (`model.onnx` + `model.json`) with onnxruntime-node. The session
 * is created once and warmed up with one inference, so the first real request pays
 * nothing for graph initialisation.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';

// Loaded with require, not import: the score function is bundled as ESM, and a bare ESM
// import ignores NODE_PATH, so it would miss the layer's /opt/nodejs/node_modules in Lambda.
// require (the bundle banner's createRequire) follows NODE_PATH.
const { InferenceSession, Tensor }: typeof Ort = require('onnxruntime-node');
type InferenceSession = Ort.InferenceSession;

import { ModelUnavailableError } from '#domain/errors';
import { type ModelCard, parseModelCard } from '#domain/model-card';
import type { ModelRunner } from '#domain/ports';

export class OnnxModelRunner implements ModelRunner {
  /** Name and version, built once: every answer carries them. */
  readonly model: { readonly name: string; readonly version: string };
  private readonly width: number;

  private constructor(
    readonly card: ModelCard,
    private readonly session: InferenceSession,
  ) {
    this.model = Object.freeze({ name: card.name, version: card.version });
    this.width = card.features.length;
  }

  /**
   * Loads and validates the card, creates the session (`intraOpNumThreads: 1`: one request
   * per Lambda environment, and more threads only add scheduling jitter for trees this
   * small) and runs one warm-up inference on the default vector.
   */
  static async load(dir: string): Promise<OnnxModelRunner> {
    let card: ModelCard;
    let session: InferenceSession;
    try {
      card = parseModelCard(JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')));
      session = await InferenceSession.create(join(dir, 'model.onnx'), {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new ModelUnavailableError(`cannot load model from ${dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const runner = new OnnxModelRunner(card, session);
    await runner.score([card.features.map((f) => f.default)]);
    return runner;
  }

  async score(rows: readonly (readonly number[])[]): Promise<number[]> {
    const width = this.width;
    const data = new Float32Array(rows.length * width);
    // Indexed copies: `Float32Array.set` from a plain array takes the generic path, and this
    // runs for every row of every answer's reason-code batch.
    for (let i = 0, at = 0; i < rows.length; i += 1) {
      const row = rows[i] as readonly number[];
      if (row.length !== width)
        throw new ModelUnavailableError(`row ${i} has ${row.length} values, expected ${width}`);
      for (let j = 0; j < width; j += 1, at += 1) data[at] = row[j] as number;
    }
    try {
      const output = await this.session.run(
        { [this.card.input.name]: new Tensor('float32', data, [rows.length, width]) },
        [this.card.output.name],
      );
      const scores = output[this.card.output.name]?.data as Float32Array | undefined;
      if (!scores || scores.length !== rows.length) throw new Error('unexpected output shape');
      return Array.from(scores);
    } catch (error) {
      throw new ModelUnavailableError(`inference failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
