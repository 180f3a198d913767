/**
 * The files of one model version (`models/<name>/<version>/`), checked at synth time so a
 * missing or mismatched model fails `cdk synth` with a message that says what to do, instead
 * of shipping a function that can only answer rules-only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { type ModelCard, parseModelCard } from '../../functions/shared/domain/model-card';

/** The model files are missing, or the card does not describe the configured model. */
export class ModelArtifactsError extends Error {
  override readonly name = 'ModelArtifactsError';
}

export interface ModelArtifacts {
  /** Absolute directory of the version. */
  dir: string;
  /** ONNX graph copied into the score function's bundle. */
  onnxPath: string;
  /** Model card copied next to it. */
  cardPath: string;
  /** Golden requests with expected scores, copied into the pre-traffic hook's bundle. */
  replayPath: string;
  /** The validated card (its feature spec matches the serving code's). */
  card: ModelCard;
}

/**
 * Reads and validates the model version in `dir`.
 *
 * @param dir absolute path of `models/<name>/<version>`
 * @param expected the name and version the stage config asks for
 * @param repoRoot used only to print short paths in errors
 * @throws ModelArtifactsError naming the missing file or the mismatch
 */
export function loadModelArtifacts(
  dir: string,
  expected: { name: string; version: string },
  repoRoot = process.cwd(),
): ModelArtifacts {
  if (!isAbsolute(dir)) throw new ModelArtifactsError(`model directory must be absolute, got "${dir}"`);
  const show = (path: string) => relative(repoRoot, path) || path;
  const label = `${expected.name}@${expected.version}`;
  const require = (file: string) => {
    const path = join(dir, file);
    if (!existsSync(path)) {
      throw new ModelArtifactsError(
        `model ${label} is missing ${show(path)}. Train it (npm run train) or point model.version in ` +
          'infra/config/stages.ts at a version that exists under models/.',
      );
    }
    return path;
  };
  const onnxPath = require('model.onnx');
  const cardPath = require('model.json');
  let card: ModelCard;
  try {
    card = parseModelCard(JSON.parse(readFileSync(cardPath, 'utf8')));
  } catch (error) {
    throw new ModelArtifactsError(`model card ${show(cardPath)} is invalid: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (card.name !== expected.name || card.version !== expected.version) {
    throw new ModelArtifactsError(
      `model card ${show(cardPath)} describes ${card.name}@${card.version}, but the stage config asks for ${label}`,
    );
  }
  const replayPath = require(card.replay.file);
  return { dir, onnxPath, cardPath, replayPath, card };
}
