import fc from 'fast-check';
import { LeastConnections } from '../../scripts/local/front-balancer';

describe('LeastConnections (the local front: which worker gets a new connection)', () => {
  it('always hands a new connection to a worker with the fewest open, whatever closed before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.oneof(fc.constant('take' as const), fc.nat({ max: 3 })), { maxLength: 200 }),
        (workerCount, ops) => {
          const workers = Array.from({ length: workerCount }, (_, i) => `w${i}`);
          const balance = new LeastConnections(workers);
          for (const op of ops) {
            if (op === 'take') {
              const before = balance.counts();
              const chosen = balance.take() as string;
              expect(before[workers.indexOf(chosen)]).toBe(Math.min(...before));
            } else {
              balance.closed(workers[op % workerCount] as string);
            }
            expect(Math.min(...balance.counts())).toBeGreaterThanOrEqual(0);
          }
        },
      ),
    );
  });

  it('takes turns between equally loaded workers, and keeps 2 + 2 when one of four reconnects', () => {
    // prepare
    const balance = new LeastConnections(['a', 'b']);
    // act: four connections, then one on `a` closes and its client reconnects
    const first = [balance.take(), balance.take(), balance.take(), balance.take()];
    balance.closed('a');
    const reconnect = balance.take();
    // assert
    expect(first).toEqual(['a', 'b', 'a', 'b']);
    expect(reconnect).toBe('a');
    expect(balance.counts()).toEqual([2, 2]);
  });

  it('hands nothing once every worker is gone', () => {
    const balance = new LeastConnections(['a']);
    balance.remove('a');
    expect(balance.take()).toBeUndefined();
  });
});
