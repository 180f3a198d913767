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

// prepare
const MODELS = join(__dirname, '..', '..', 'models', 'fraud-gbdt');
// act: the version directories drive the per-version tests below
const versions = readdirSync(MODELS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

it('ships at least one model version', () => {
  // assert
  expect(versions.length).toBeGreaterThan(0);
});

describe.each(versions)('fraud-gbdt %s', (version) => {
  // prepare
  const dir = join(MODELS, version);
  const card = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));

  it('has a valid model card for the current feature spec', () => {
    // act
    const parsed = parseModelCard(card);
    // assert
    expect(parsed.version).toBe(version);
    expect(parsed.metrics.rocAuc).toBeGreaterThan(0.5);
    expect(parsed.thresholds.review.score).toBeLessThanOrEqual(parsed.thresholds.decline.score);
    expect(parsed.scoreHistogram.fractions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('is refused when a feature of its spec is renamed', () => {
    // prepare
    const renamed = structuredClone(card);
    renamed.features[0].name = 'something_else';
    // act
    const parse = () => parseModelCard(renamed);
    // assert
    expect(parse).toThrow(ModelCardError);
  });

  it('is refused when its feature spec version differs from the code', () => {
    // prepare
    const outdated = { ...card, featureSpecVersion: 'fs-old' };
    // act
    const parse = () => parseModelCard(outdated);
    // assert
    expect(parse).toThrow(/feature spec fs-old/);
  });

  it('scores every replay case as the trainer did (≤ tolerance)', async () => {
    // act
    const report = await checkParity(dir);
    // assert
    expect(report.cases).toBeGreaterThanOrEqual(200);
    expect(report.tolerance).toBeLessThanOrEqual(1e-5);
    expect(report.maxDiff).toBeLessThanOrEqual(report.tolerance);
  });

  it('stores replay features whose request-only part matches the feature module', () => {
    // prepare
    const requestOnly = FEATURES.flatMap((f, i) => (f.source === 'request' ? [i] : []));
    const cases = readReplay(dir).slice(0, 50);
    // act
    const computed = cases.map((c) => {
      const request = c.request as Parameters<typeof featureVector>[1] & { timestamp: string };
      return featureVector({}, request, toEpochMs(request.timestamp));
    });
    // assert
    expect(cases.length).toBeGreaterThan(0);
    expect(requestOnly.length).toBeGreaterThan(0);
    cases.forEach((c, n) => {
      for (const i of requestOnly) expect(c.features[i]).toBeCloseTo(computed[n]?.[i] as number, 5);
    });
  });
});
