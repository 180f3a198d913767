import fc from 'fast-check';
import { defaultWorkerCount } from '../../scripts/local/app';

describe('defaultWorkerCount', () => {
  it('leaves one core to dynalite and the clients, and never starts fewer than one worker', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1024 }), (cores) => {
        // act
        const workers = defaultWorkerCount(cores);
        // assert
        expect(workers).toBe(cores === 1 ? 1 : cores - 1);
        expect(workers).toBeGreaterThanOrEqual(1);
      }),
    );
  });

  it('starts one worker on the 2-core development machine', () => {
    // act
    const workers = defaultWorkerCount(2);
    // assert
    expect(workers).toBe(1);
  });
});
