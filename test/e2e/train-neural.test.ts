import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'train-neural-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run train:neural (simulate → sequences → GRU → ONNX → parity), small', () => {
  it('writes the model, its card and the Triton repository, and passes the torch ↔ onnxruntime-node parity', () => {
    // prepare: a small stream and one epoch; the pipeline, not the model's quality, is under test
    const models = join(dir, 'models');

    // act
    const run = spawnSync(
      'bash',
      [
        'models/training/train-neural.sh',
        '--cards',
        '300',
        '--days',
        '14',
        '--seed',
        '5',
        '--version',
        'e2e',
        '--epochs',
        '1',
      ],
      { cwd: ROOT, env: { ...process.env, WORK: join(dir, 'work'), MODELS_DIR: models }, encoding: 'utf8' },
    );

    // assert
    expect(run.stderr).toMatch(/==> \[5\/5\] verifying ONNX parity/);
    expect(run.stderr).toMatch(/parity: \d+ replay cases, max \|onnxruntime − torch\| = /);
    expect(run.status).toBe(0);
    const out = join(models, 'fraud-seq/e2e');
    const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(card).toMatchObject({ name: 'fraud-seq', version: 'e2e', training: { seed: 5 } });
    // Holdout metrics of tree alone, neural alone and combined, each per fraud pattern too.
    for (const metrics of [card.comparison.tree, card.metrics, card.combination.metrics]) {
      expect(metrics.prAuc).toBeGreaterThan(0);
      expect(metrics.prAuc).toBeLessThanOrEqual(1);
      expect(Object.keys(metrics.perPattern).length).toBeGreaterThan(0);
    }
    // The Triton configuration is the shipped one but for the version in its first line.
    const written = readFileSync(join(out, 'triton/fraud-seq/config.pbtxt'), 'utf8');
    const shipped = readFileSync(join(ROOT, 'models/fraud-seq/1.0.0/triton/fraud-seq/config.pbtxt'), 'utf8');
    expect(written.split('\n').slice(1)).toEqual(shipped.split('\n').slice(1));
    expect(readFileSync(join(out, 'triton/fraud-seq/1/model.onnx'))).toEqual(
      readFileSync(join(out, 'model.onnx')),
    );
  }, 240_000);
});
