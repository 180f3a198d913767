/**
 * The neural card the score function is wired to, checked at synth time: a card the function
 * could not use at init (missing, another version, no combination, stacked on another tree
 * model, no Triton version directory) fails synth with a message instead.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNeuralArtifacts, NeuralArtifactsError } from '../../infra/constructs/neural-artifacts';

const ROOT = join(__dirname, '..', '..');
const SOURCE = join(ROOT, 'models', 'fraud-seq', '1.0.0');
const EXPECTED = { name: 'fraud-seq', version: '1.0.0' };
const TREE = { name: 'fraud-gbdt', version: '1.0.0' };

/** A copy of the card and its Triton repository (not the 1 MB of replay data), edited by `edit`. */
function copy(edit: (dir: string) => void = () => undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'neural-artifacts-'));
  cpSync(join(SOURCE, 'model.json'), join(dir, 'model.json'));
  cpSync(join(SOURCE, 'triton'), join(dir, 'triton'), { recursive: true });
  edit(dir);
  return dir;
}
const editCard = (dir: string, change: (card: Record<string, unknown>) => void) => {
  const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  change(card);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(card));
};

describe('loadNeuralArtifacts', () => {
  it('reads the shipped fraud-seq card: its stacker and Triton version 1', () => {
    // act
    const artifacts = loadNeuralArtifacts(SOURCE, EXPECTED, TREE, ROOT);
    // assert
    expect(artifacts.cardPath).toBe(join(SOURCE, 'model.json'));
    expect(artifacts.tritonVersion).toBe('1');
    expect(artifacts.combination.treeModel).toEqual(TREE);
  });

  it('picks the highest numeric version directory, as Triton does', () => {
    // prepare
    const dir = copy((d) =>
      cpSync(join(d, 'triton', 'fraud-seq', '1'), join(d, 'triton', 'fraud-seq', '12'), { recursive: true }),
    );
    // act
    const artifacts = loadNeuralArtifacts(dir, EXPECTED, TREE, ROOT);
    // assert
    expect(artifacts.tritonVersion).toBe('12');
  });

  it.each([
    ['a missing card', (d: string) => rmSync(join(d, 'model.json')), /missing .*model\.json.*train:neural/],
    [
      'a card of another version',
      (d: string) =>
        editCard(d, (c) => {
          c.version = '2.0.0';
        }),
      /describes fraud-seq@2\.0\.0, but the stage config asks for fraud-seq@1\.0\.0/,
    ],
    [
      'no combination',
      (d: string) =>
        editCard(d, (c) => {
          delete c.combination;
        }),
      /no usable combination/,
    ],
    [
      'a stacker fitted on another tree model',
      (d: string) =>
        editCard(d, (c) => {
          (c.combination as { treeModel: object }).treeModel = { name: 'fraud-gbdt', version: '0.9.0' };
        }),
      /fitted on fraud-gbdt@0\.9\.0, but the stage serves fraud-gbdt@1\.0\.0/,
    ],
    [
      'no Triton configuration',
      (d: string) => rmSync(join(d, 'triton', 'fraud-seq', 'config.pbtxt')),
      /no Triton configuration/,
    ],
    [
      'no Triton version directory',
      (d: string) => rmSync(join(d, 'triton', 'fraud-seq', '1'), { recursive: true }),
      /no Triton version directory/,
    ],
  ])('refuses %s', (_name, edit, message) => {
    // prepare
    const dir = copy(edit);
    // act
    const load = () => loadNeuralArtifacts(dir, EXPECTED, TREE, ROOT);
    // assert
    expect(load).toThrow(NeuralArtifactsError);
    expect(load).toThrow(message);
  });
});
