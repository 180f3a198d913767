import fc from 'fast-check';
import { defaultWorkerCount } from '../../scripts/local/app';

describe('defaultWorkerCount', () => {
  it('starts one worker per core, and never fewer than one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1024 }), (cores) => {
        // act
        const workers = defaultWorkerCount(cores);
        // assert
        expect(workers).toBe(cores);
        expect(workers).toBeGreaterThanOrEqual(1);
      }),
    );
  });

  it('starts two workers on the 2-core development machine', () => {
    // act
    const workers = defaultWorkerCount(2);
    // assert
    expect(workers).toBe(2);
  });
});
