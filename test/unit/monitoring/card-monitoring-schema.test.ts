import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelCard } from '#domain/model-card';

const committed = JSON.parse(
  readFileSync(join(__dirname, '../../../models/fraud-gbdt/1.0.0/model.json'), 'utf8'),
) as Record<string, unknown> & { monitoring: Record<string, unknown> };

describe('model card monitoring block', () => {
  it('is present in the committed card: 5 top features, each with a histogram that sums to 1', () => {
    // act
    const card = parseModelCard(committed);
    // assert
    expect(card.monitoring?.topFeatures).toHaveLength(5);
    for (const name of card.monitoring?.topFeatures ?? []) {
      const histogram = card.monitoring?.featureHistograms[name];
      expect(histogram?.fractions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
  });

  it('stays optional for older cards', () => {
    // prepare
    const { monitoring: _, ...older } = committed;
    // act / assert
    expect(parseModelCard(older).monitoring).toBeUndefined();
  });

  it.each([
    [
      'an unknown feature',
      { topFeatures: ['nope'], featureHistograms: { nope: { edges: [0, 1], fractions: [1] } } },
    ],
    ['a top feature without histogram', { topFeatures: ['has_device'], featureHistograms: {} }],
    ['more than 5 top features', { ...committed.monitoring, topFeatures: ['a', 'b', 'c', 'd', 'e', 'f'] }],
    [
      'a fraction per bin missing',
      {
        topFeatures: ['has_device'],
        featureHistograms: { has_device: { edges: [0, 0.5, 1], fractions: [1] } },
      },
    ],
    [
      'descending edges',
      { topFeatures: ['has_device'], featureHistograms: { has_device: { edges: [1, 0], fractions: [1] } } },
    ],
  ])('rejects %s', (_, monitoring) => {
    // act / assert
    expect(() => parseModelCard({ ...committed, monitoring })).toThrow(/model card|monitors unknown/);
  });
});
