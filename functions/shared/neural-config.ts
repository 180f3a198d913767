/**
 * The neural client's settings, read once at init from the environment with the shared
 * typed readers. The score function wires them; nothing else reads these variables.
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `NEURAL_MODE` | `off` | `off` (not called), `shadow` (called and measured, never decides), `live` |
 * | `NEURAL_URL` | — (required unless `off`) | base URL of the Open Inference Protocol service |
 * | `NEURAL_MODEL_DIR` | — (required unless `off`) | the `fraud-seq` card's directory: its `model.json` holds the combination and its thresholds |
 * | `NEURAL_MODEL` | `fraud-seq` | model name in the service's repository |
 * | `NEURAL_BUDGET_MS` | 15 | whole-call budget (the score answer must stay inside the SLA) |
 * | `NEURAL_BREAKER_FAILURES` | 5 | consecutive failures that open the breaker |
 * | `NEURAL_BREAKER_HALF_OPEN_MS` | 5000 | open time before one half-open probe |
 * | `NEURAL_MAX_SOCKETS` | 32 | keep-alive pool size |
 * | `NEURAL_TENSOR_ENCODING` | `binary` | `binary` (the protocol's binary tensor data extension, Triton speaks it) or `json` |
 */

import type { NeuralScorerOptions } from '#adapters/neural-scorer';
import { ConfigError } from '#domain/errors';
import { NEURAL_MODES, type NeuralMode } from '#domain/neural';
import { type Env, readNumber, readOptionalString, readString } from '#shared/config';
import { TENSOR_ENCODINGS, type TensorEncoding } from '#shared/open-inference';

/** The mode and, unless `off`, the client options. */
export interface NeuralConfig {
  mode: NeuralMode;
  /** Directory of the neural model's card (`model.json`), unless `off`. */
  modelDir?: string;
  client?: Required<Omit<NeuralScorerOptions, 'version'>> & Pick<NeuralScorerOptions, 'version'>;
}

export function loadNeuralConfig(env: Env = process.env): Readonly<NeuralConfig> {
  const mode = readString(env, 'NEURAL_MODE', 'off');
  if (!(NEURAL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`NEURAL_MODE must be one of ${NEURAL_MODES.join(', ')}, got "${mode}"`);
  }
  if (mode === 'off') return Object.freeze({ mode: 'off' });
  const tensorEncoding = readString(env, 'NEURAL_TENSOR_ENCODING', 'binary');
  if (!(TENSOR_ENCODINGS as readonly string[]).includes(tensorEncoding)) {
    throw new ConfigError(
      `NEURAL_TENSOR_ENCODING must be one of ${TENSOR_ENCODINGS.join(', ')}, got "${tensorEncoding}"`,
    );
  }
  const baseUrl = readString(env, 'NEURAL_URL');
  try {
    if (new URL(baseUrl).protocol !== 'http:') throw new Error('not http');
  } catch {
    throw new ConfigError(`NEURAL_URL must be an http:// URL, got "${baseUrl}"`);
  }
  return Object.freeze({
    mode: mode as NeuralMode,
    modelDir: readString(env, 'NEURAL_MODEL_DIR'),
    client: Object.freeze({
      baseUrl,
      model: readString(env, 'NEURAL_MODEL', 'fraud-seq'),
      version: readOptionalString(env, 'NEURAL_MODEL_VERSION'),
      budgetMs: readNumber(env, 'NEURAL_BUDGET_MS', 15, { min: 1, max: 1_000 }),
      breakerFailures: readNumber(env, 'NEURAL_BREAKER_FAILURES', 5, { min: 1, max: 1_000 }),
      halfOpenAfterMs: readNumber(env, 'NEURAL_BREAKER_HALF_OPEN_MS', 5_000, { min: 10, max: 600_000 }),
      maxSockets: readNumber(env, 'NEURAL_MAX_SOCKETS', 32, { min: 1, max: 1_024 }),
      tensorEncoding: tensorEncoding as TensorEncoding,
    }),
  });
}
