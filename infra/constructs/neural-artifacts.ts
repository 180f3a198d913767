/**
 * The neural model version the score function is wired to (`models/<name>/<version>/`),
 * checked at synth time. The score function needs the card's `combination` (the stacker and
 * its thresholds) to use a neural score, and the Triton version directory to name the model
 * version in its requests; a card it cannot use would fail the function's init in AWS, so it
 * fails `cdk synth` here instead, with a message that says what to do.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { type Combination, combinationSchema } from '../../functions/shared/domain/neural';

/** Where the score function's bundle puts the neural card (`NEURAL_MODEL_DIR`). */
export const NEURAL_MODEL_DIR_IN_BUNDLE = 'neural-model';

/** The neural card is missing, unusable, or stacked on another tree model. */
export class NeuralArtifactsError extends Error {
  override readonly name = 'NeuralArtifactsError';
}

export interface NeuralArtifacts {
  /** Absolute directory of the version. */
  dir: string;
  /** The card (`model.json`), copied into the score function's bundle. */
  cardPath: string;
  /**
   * Triton's version of the model: the numeric directory under `triton/<name>/` (Triton
   * versions are integers, not the card's semantic version). The client's `NEURAL_MODEL_VERSION`.
   */
  tritonVersion: string;
  /** The validated stacker. */
  combination: Combination;
}

/**
 * Reads and validates the neural model version in `dir`.
 *
 * @param dir absolute path of `models/<name>/<version>`
 * @param expected the name and version the stage's `neural.model` asks for
 * @param treeModel the stage's tree model: the stacker must be fitted on exactly it
 * @param repoRoot used only to print short paths in errors
 * @throws NeuralArtifactsError naming the missing file or the mismatch
 */
export function loadNeuralArtifacts(
  dir: string,
  expected: { name: string; version: string },
  treeModel: { name: string; version: string },
  repoRoot = process.cwd(),
): NeuralArtifacts {
  if (!isAbsolute(dir)) throw new NeuralArtifactsError(`model directory must be absolute, got "${dir}"`);
  const show = (path: string) => relative(repoRoot, path) || path;
  const label = `${expected.name}@${expected.version}`;
  const cardPath = join(dir, 'model.json');
  if (!existsSync(cardPath)) {
    throw new NeuralArtifactsError(
      `neural model ${label} is missing ${show(cardPath)}. Train it (npm run train:neural) or point ` +
        'neural.model.version in infra/config/stages.ts at a version that exists under models/.',
    );
  }
  let card: { name?: unknown; version?: unknown; combination?: unknown };
  try {
    card = JSON.parse(readFileSync(cardPath, 'utf8'));
  } catch (error) {
    throw new NeuralArtifactsError(`neural card ${show(cardPath)} is not JSON`, { cause: error });
  }
  if (card.name !== expected.name || card.version !== expected.version) {
    throw new NeuralArtifactsError(
      `neural card ${show(cardPath)} describes ${String(card.name)}@${String(card.version)}, but the stage config asks for ${label}`,
    );
  }
  const parsed = combinationSchema.safeParse(card.combination);
  if (!parsed.success) {
    throw new NeuralArtifactsError(
      `neural card ${show(cardPath)} has no usable combination: ${parsed.error.message}`,
    );
  }
  const combination = parsed.data;
  const stackedOn = `${combination.treeModel.name}@${combination.treeModel.version}`;
  if (stackedOn !== `${treeModel.name}@${treeModel.version}`) {
    throw new NeuralArtifactsError(
      `the ${label} combination is fitted on ${stackedOn}, but the stage serves ${treeModel.name}@${treeModel.version}: ` +
        'refit the stacker on the served tree model (npm run train:neural) or serve the tree model it was fitted on.',
    );
  }
  const modelDir = join(dir, 'triton', expected.name);
  if (!existsSync(join(modelDir, 'config.pbtxt'))) {
    throw new NeuralArtifactsError(
      `neural model ${label} has no Triton configuration ${show(join(modelDir, 'config.pbtxt'))}`,
    );
  }
  // Triton serves the highest numeric version by default (version_policy: latest 1).
  const versions = readdirSync(modelDir, { withFileTypes: true })
    .filter(
      (e) => e.isDirectory() && /^\d+$/.test(e.name) && existsSync(join(modelDir, e.name, 'model.onnx')),
    )
    .map((e) => e.name)
    .sort((a, b) => Number(b) - Number(a));
  const tritonVersion = versions[0];
  if (tritonVersion === undefined) {
    throw new NeuralArtifactsError(
      `neural model ${label} has no Triton version directory ${show(modelDir)}/<n>/model.onnx`,
    );
  }
  return { dir, cardPath, tritonVersion, combination };
}
