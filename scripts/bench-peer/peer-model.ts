/**
 * The peer's model: a HistGradientBoostingClassifier of fraud-gbdt's size (trees, leaves),
 * trained by `peer/train.py` on the peer's own simulated population, cached in
 * `scripts/bench-peer/.cache/` by everything that shapes it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_SPEC_VERSION } from '#domain/features';
import { DEFAULT_MODEL_DIR } from '../local/app';
import { trainingTable } from './population';
import { PYTHON } from './processes';

/** The peer's service: its Flask app, features and trainer. */
export const PEER_DIR = join(__dirname, 'peer');
const CACHE_DIR = join(__dirname, '.cache');
/** The peer's model is trained on its own simulated population (not the benchmark's). */
const TRAINING = { cards: 4000, days: 14, seed: 42, maxRows: 80_000 } as const;

/** Trains the peer's model once per (trainer, hyperparameters, features, sklearn) and caches it. */
export function peerModel(log: (line: string) => void): { path: string; size: Record<string, unknown> } {
  const card = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'model.json'), 'utf8'));
  const sklearn = spawnSync(PYTHON, ['-c', 'import sklearn; print(sklearn.__version__)'], {
    encoding: 'utf8',
  });
  const key = createHash('sha256')
    .update(readFileSync(join(PEER_DIR, 'train.py')))
    .update(JSON.stringify(card.training.hyperparameters))
    .update(JSON.stringify(TRAINING))
    .update(FEATURE_SPEC_VERSION)
    .update(sklearn.stdout)
    .digest('hex')
    .slice(0, 16);
  const dir = join(CACHE_DIR, `model-${key}`);
  const path = join(dir, 'model.pkl');
  const sizeFile = join(dir, 'size.json');
  if (existsSync(path) && existsSync(sizeFile)) {
    log(`peer model: cached ${path}`);
    return { path, size: JSON.parse(readFileSync(sizeFile, 'utf8')) };
  }
  mkdirSync(dir, { recursive: true });
  log(
    `peer model: exporting features (${TRAINING.cards} cards, ${TRAINING.days} days, seed ${TRAINING.seed})`,
  );
  const table = trainingTable(TRAINING);
  const csv = join(dir, 'features.csv');
  writeFileSync(csv, table.csv);
  log(`peer model: training on ${table.rows} rows (${table.positives} fraud) with /usr/bin/python3`);
  const result = spawnSync(
    PYTHON,
    [
      join(PEER_DIR, 'train.py'),
      '--features',
      csv,
      '--card',
      join(DEFAULT_MODEL_DIR, 'model.json'),
      '--out',
      `${path}.tmp`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`training the peer's model failed (${result.status})`);
  spawnSync('mv', [`${path}.tmp`, path]);
  writeFileSync(sizeFile, result.stdout);
  return { path, size: JSON.parse(result.stdout) };
}
