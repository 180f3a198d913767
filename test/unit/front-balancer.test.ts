import fc from 'fast-check';
import { ConnectionBalancer } from '../../scripts/local/front-balancer';

describe('ConnectionBalancer (the local front: which worker gets a new connection)', () => {
  it('with no load reported, hands a new connection to a worker with the fewest open, whatever closed before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.oneof(fc.constant('take' as const), fc.nat({ max: 3 })), { maxLength: 200 }),
        (workerCount, ops) => {
          const workers = Array.from({ length: workerCount }, (_, i) => `w${i}`);
          const balance = new ConnectionBalancer(workers, () => 0);
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

  it('prefers the worker that served fewer requests lately over the one with fewer open connections', () => {
    // prepare: `a` holds idle connections only; `b` one busy one (a client's agent reuses its
    // latest socket and keeps the others open)
    let now = 0;
    const balance = new ConnectionBalancer(['a', 'b'], () => now);
    for (const _ of [1, 2, 3]) balance.take();
    balance.closed('b'); // a: 2 open, b: 0
    balance.take(); // b: 1, the busy one
    balance.served('b', 40);
    now += 100;
    // act: the busy connection is closed by the front and its client connects again
    balance.closed('b');
    const next = balance.take();
    // assert
    expect(next).toBe('a');
  });

  it('forgets old load (half-life 250 ms), and then goes by open connections and turns', () => {
    // prepare
    let now = 0;
    const balance = new ConnectionBalancer(['a', 'b'], () => now);
    balance.take(); // a: 1 open
    balance.served('b', 100);
    // act
    const whileBusy = balance.take();
    balance.closed('b');
    now += 5000;
    const later = balance.take();
    // assert: b first avoided for its load, then chosen for having fewer open connections
    expect(whileBusy).toBe('a');
    expect(later).toBe('b');
  });

  it('keeps four busy clients 2 + 2 on two workers across reconnects', () => {
    // prepare: four connections, each worker reporting the requests of what it holds
    let now = 0;
    const balance = new ConnectionBalancer(['a', 'b'], () => now);
    const held = { a: 0, b: 0 };
    const connect = () => {
      const w = balance.take() as 'a' | 'b';
      held[w] += 1;
      return w;
    };
    let connections = [connect(), connect(), connect(), connect()];
    // act: 200 rounds of 100 ms; each round one connection is closed and opened again
    for (let round = 0; round < 200; round += 1) {
      now += 100;
      balance.served('a', 10 * held.a);
      balance.served('b', 10 * held.b);
      const i = round % 4;
      const closing = connections[i] as 'a' | 'b';
      balance.closed(closing);
      held[closing] -= 1;
      connections = connections.map((w, j) => (j === i ? connect() : w));
      // assert
      expect([held.a, held.b]).toEqual([2, 2]);
    }
  });

  it('hands nothing once every worker is gone', () => {
    const balance = new ConnectionBalancer(['a']);
    balance.remove('a');
    expect(balance.take()).toBeUndefined();
  });
});
