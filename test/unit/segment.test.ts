import { amountBand, SEGMENT_KEYS, segmentKey, segmentOf } from '#domain/segment';

describe('segments', () => {
  it('bands amounts at 5,000 and 50,000 minor units', () => {
    // act
    const bands = [1, 4_999, 5_000, 49_999, 50_000, 10_000_000].map(amountBand);
    // assert
    expect(bands).toEqual(['low', 'low', 'mid', 'mid', 'high', 'high']);
  });

  it('keys a segment as channel.band.history and lists all 24 keys once', () => {
    // prepare
    const segment = segmentOf({ channel: 'ecommerce', amount: 60_000 }, false);
    // act
    const key = segmentKey(segment);
    // assert
    expect(key).toBe('ecommerce.high.new');
    expect(SEGMENT_KEYS).toHaveLength(24);
    expect(new Set(SEGMENT_KEYS).size).toBe(24);
    expect(SEGMENT_KEYS).toContain(key);
  });
});
