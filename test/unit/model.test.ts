/**
 * The committed model: its card validates against the schema and the code's feature spec,
 * onnxruntime-node reproduces the trainer on every replay case, and the replay features are
 * what the shared feature module computes for those requests' stored state (spot-checked
 * through the request-only features, which need no state).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelCardError } from '#domain/errors';
import { FEATURES, featureVector, toEpochMs } from '#domain/features';
import { parseModelCard } from '#domain/model-card';
import { checkParity, readReplay } from '../../models/training/parity';

const MODELS = join(__dirname, '..', '..', 'models', 'fraud-gbdt');
const versions = readdirSync(MODELS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

it('ships at least one model version', () => {
  expect(versions.length).toBeGreaterThan(0);
});

describe.each(versions)('fraud-gbdt %s', (version) => {
  const dir = join(MODELS, version);
  const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));

  it('has a valid model card for the current feature spec', () => {
    const parsed = parseModelCard(card);
    expect(parsed.version).toBe(version);
    expect(parsed.metrics.rocAuc).toBeGreaterThan(0.5);
    expect(parsed.thresholds.review.score).toBeLessThanOrEqual(parsed.thresholds.decline.score);
    expect(parsed.scoreHistogram.fractions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('is refused when its feature spec differs from the code', () => {
    const renamed = structuredClone(card);
    renamed.features[0].name = 'something_else';
    expect(() => parseModelCard(renamed)).toThrow(ModelCardError);
    expect(() => parseModelCard({ ...card, featureSpecVersion: 'fs-old' })).toThrow(/feature spec fs-old/);
  });

  it('scores every replay case as the trainer did (≤ tolerance)', async () => {
    const report = await checkParity(dir);
    expect(report.cases).toBeGreaterThanOrEqual(200);
    expect(report.tolerance).toBeLessThanOrEqual(1e-5);
    expect(report.maxDiff).toBeLessThanOrEqual(report.tolerance);
  });

  it('stores replay features whose request-only part matches the feature module', () => {
    const requestOnly = FEATURES.flatMap((f, i) => (f.source === 'request' ? [i] : []));
    for (const c of readReplay(dir).slice(0, 50)) {
      const request = c.request as Parameters<typeof featureVector>[1] & { timestamp: string };
      const expected = featureVector({}, request, toEpochMs(request.timestamp));
      for (const i of requestOnly) expect(c.features[i]).toBeCloseTo(expected[i] as number, 5);
    }
  });
});
