import fc from 'fast-check';
import {
  ACTIVE_WINDOW_MS,
  ConnectionBalancer,
  type ConnectionClosedMessage,
  ConnectionTracker,
  LOAD_REPORT_MS,
  type LoadMessage,
} from '../../scripts/local/front-balancer';

describe('ConnectionBalancer (the local front: which worker gets a new connection)', () => {
  it('with no report, hands a new connection to a worker with the fewest open, whatever closed before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.oneof(fc.constant('take' as const), fc.nat({ max: 3 })), { maxLength: 200 }),
        (workerCount, ops) => {
          const workers = Array.from({ length: workerCount }, (_, i) => `w${i}`);
          const balance = new ConnectionBalancer(workers);
          for (const op of ops) {
            if (op === 'take') {
              const before = balance.counts().map((c) => c.open);
              const chosen = balance.take() as string;
              expect(before[workers.indexOf(chosen)]).toBe(Math.min(...before));
            } else {
              // closed as active: a connection the balancer handed out counts as active
              balance.closed(workers[op % workerCount] as string, true);
            }
            expect(Math.min(...balance.counts().map((c) => c.open))).toBeGreaterThanOrEqual(0);
          }
        },
      ),
    );
  });

  it('prefers the worker with fewer active connections over the one with fewer open ones', () => {
    // prepare: `a` holds idle connections only; `b` one busy one (a client's agent reuses its
    // latest socket and keeps the others open)
    const balance = new ConnectionBalancer(['a', 'b']);
    for (const _ of [1, 2, 3]) balance.take(); // a, b, a
    balance.closed('b', true); // a: 2 open, b: 0
    balance.take(); // b: 1, the busy one
    balance.reported('a', 0);
    balance.reported('b', 1);
    // act: the busy connection is closed by the front and its client connects again
    balance.closed('b', true);
    const next = balance.take();
    // assert
    expect(next).toBe('b');
    expect(balance.counts()).toEqual([
      { open: 2, active: 0 },
      { open: 1, active: 1 },
    ]);
  });

  it("alternates one busy client's connections between workers that hold idle ones too", () => {
    // prepare: simulate's pattern, one socket carrying the requests; `b` holds an idle one, so
    // open connections alone would send every reconnect to `a`
    let now = 0;
    const balance = new ConnectionBalancer(['a', 'b'], () => now);
    for (const _ of [1, 2, 3]) balance.take(); // a, b, a
    balance.closed('a', true);
    balance.closed('a', true);
    balance.reported('b', 0, 0);
    const placed: string[] = [];
    let busy = balance.take() as string;
    // act: 64 requests in 640 ms per connection, reported every 100 ms, then closed and replaced
    for (let connection = 0; connection < 10; connection += 1) {
      placed.push(busy);
      for (let t = 0; t < 6; t += 1) {
        now += 100;
        balance.reported(busy, 1, 10);
        balance.reported(busy === 'a' ? 'b' : 'a', 0, 0);
      }
      balance.closed(busy, true);
      busy = balance.take() as string;
    }
    // assert: equal active counts, so the worker that served fewer requests lately takes it
    expect(placed).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('places clients that reconnect together on the workers in turn, before any report', () => {
    // prepare: four busy connections, two per worker
    const balance = new ConnectionBalancer(['a', 'b']);
    const first = [balance.take(), balance.take(), balance.take(), balance.take()];
    // act: the front closes all four at once (each worker says so at the last request) and the
    // four clients connect again before either worker reports
    for (const worker of first) balance.closed(worker as string, true);
    const again = [balance.take(), balance.take(), balance.take(), balance.take()];
    // assert
    expect(first.sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(again.sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('keeps n busy clients on w workers within one of each other, whatever order they reconnect in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 300 }),
        (workerCount, clientCount, steps) => {
          // prepare
          const workers = Array.from({ length: workerCount }, (_, i) => `w${i}`);
          const balance = new ConnectionBalancer(workers);
          const held = new Map(workers.map((w) => [w, 0]));
          const connect = () => {
            const w = balance.take() as string;
            held.set(w, (held.get(w) ?? 0) + 1);
            return w;
          };
          const clients = Array.from({ length: clientCount }, connect);
          // act: a client's connection closes and it connects again; or every worker reports
          for (const [pick, report] of steps) {
            if (report) {
              for (const w of workers) balance.reported(w, held.get(w) ?? 0);
              continue;
            }
            const i = pick % clientCount;
            const closing = clients[i] as string;
            balance.closed(closing, true);
            held.set(closing, (held.get(closing) ?? 0) - 1);
            clients[i] = connect();
            // assert
            const counts = [...held.values()];
            expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          }
        },
      ),
    );
  });

  it('hands nothing once every worker is gone', () => {
    const balance = new ConnectionBalancer(['a']);
    balance.remove('a');
    expect(balance.take()).toBeUndefined();
  });
});

describe('ConnectionTracker (a worker: what the primary hears of its connections)', () => {
  it('says a connection closes at its last request, once, and counts it as active until then', () => {
    // prepare
    let now = 0;
    const tracker = new ConnectionTracker<string>(3, () => now);
    tracker.opened('s');
    // act
    const messages = [1, 2, 3].map(() => {
      now += 1;
      return tracker.request('s');
    });
    const onClose = tracker.closed('s');
    // assert
    expect(messages).toEqual([undefined, undefined, { type: 'connection-closed', active: true }]);
    expect(onClose).toBeUndefined();
  });

  it('reports a connection idle for longer than the window as inactive, and says so when it closes', () => {
    // prepare
    let now = 0;
    const tracker = new ConnectionTracker<string>(64, () => now);
    tracker.opened('busy');
    tracker.opened('idle');
    // act
    now += ACTIVE_WINDOW_MS / 2;
    tracker.request('busy');
    const whileBoth = tracker.report();
    now += ACTIVE_WINDOW_MS / 2 + LOAD_REPORT_MS;
    const once = tracker.report();
    const idleClosed = tracker.closed('idle');
    const busyClosed = tracker.closed('busy');
    const afterAll = tracker.report();
    // assert
    expect(whileBoth).toEqual({ type: 'load', active: 2, requests: 1 });
    expect(once).toEqual({ type: 'load', active: 1, requests: 0 });
    expect(idleClosed).toEqual({ type: 'connection-closed', active: false });
    expect(busyClosed).toEqual({ type: 'connection-closed', active: true });
    expect(afterAll).toBeUndefined(); // the primary counted both closes already
  });

  it("keeps the primary's counts equal to the workers' own, whatever the connections do", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom('connect', 'request', 'close', 'report'),
            pick: fc.nat(),
            advance: fc.integer({ min: 0, max: 200 }),
          }),
          { maxLength: 300 },
        ),
        (steps) => {
          // prepare: the primary's balancer and two workers' trackers, messages delivered at once
          let now = 0;
          const workers = ['a', 'b'] as const;
          const balance = new ConnectionBalancer<string>([...workers]);
          const trackers = Object.fromEntries(
            workers.map((w) => [w, new ConnectionTracker<number>(4, () => now)]),
          ) as Record<string, ConnectionTracker<number>>;
          const open: { worker: string; id: number }[] = [];
          const deliver = (worker: string, message?: LoadMessage | ConnectionClosedMessage) => {
            if (message?.type === 'load') balance.reported(worker, message.active, message.requests);
            else if (message) balance.closed(worker, message.active);
          };
          let nextId = 0;
          // act
          for (const { op, pick, advance } of steps) {
            now += advance;
            const conn = open[pick % Math.max(1, open.length)];
            if (op === 'connect') {
              const worker = balance.take() as string;
              const id = nextId++;
              trackers[worker]?.opened(id);
              open.push({ worker, id });
            } else if (op === 'request' && conn) {
              const closing = trackers[conn.worker]?.request(conn.id);
              deliver(conn.worker, closing);
              if (closing) open.splice(open.indexOf(conn), 1);
            } else if (op === 'close' && conn) {
              deliver(conn.worker, trackers[conn.worker]?.closed(conn.id));
              open.splice(open.indexOf(conn), 1);
            } else if (op === 'report') {
              for (const w of workers) deliver(w, trackers[w]?.report());
            }
            // assert: open connections per worker agree; after a report, active ones agree too
            const counts = balance.counts();
            workers.forEach((w, i) => {
              expect(counts[i]?.open).toBe(open.filter((c) => c.worker === w).length);
            });
          }
          for (const w of workers) deliver(w, trackers[w]?.report());
          const counts = balance.counts();
          workers.forEach((w, i) => {
            const mine = trackers[w]?.report();
            expect(counts[i]?.active).toBe(mine?.active ?? 0);
          });
        },
      ),
    );
  });
});
