/**
 * The local front's one listening socket, in the primary: each accepted connection goes to the
 * front worker that served the fewest requests lately (then the fewest open connections, then in
 * turn), as an IPC handle. Workers report their requests every {@link LOAD_REPORT_MS}.
 *
 * Why not the cluster's own round-robin: it hands out connections in turn whatever each worker
 * already carries. With the front closing a kept-alive connection every
 * `REQUESTS_PER_CONNECTION` requests (so that one client's agent does not feed one worker),
 * every reconnect was a coin toss: four clients' connections drifted to 3 + 1 on two workers,
 * and one worker carried three quarters of the load. Why not fewest open connections: a client's
 * agent keeps idle sockets open beside the one it reuses, so counts of open connections said
 * little about load, and the busy socket's reconnects kept landing on the same worker. Recent
 * requests measure what a worker carries, idle sockets or not.
 */
import type { Worker } from 'node:cluster';
import { createServer, type Server, type Socket } from 'node:net';

/** How often a worker reports the requests it served. */
export const LOAD_REPORT_MS = 100;
/** Half-life of a worker's recent requests in the balancer. */
const LOAD_HALF_LIFE_MS = 250;

/** Primary → worker: this handle is a client connection to serve. */
export interface ConnectionMessage {
  readonly type: 'connection';
}
/** Worker → primary: one connection it served has closed. */
export interface ConnectionClosedMessage {
  readonly type: 'connection-closed';
}
/** Worker → primary: requests served since its last report. */
export interface LoadMessage {
  readonly type: 'load';
  readonly requests: number;
}

export function isConnectionMessage(message: unknown): message is ConnectionMessage {
  return (message as { type?: unknown } | null)?.type === 'connection';
}

function isConnectionClosed(message: unknown): message is ConnectionClosedMessage {
  return (message as { type?: unknown } | null)?.type === 'connection-closed';
}

function isLoad(message: unknown): message is LoadMessage {
  return (message as { type?: unknown } | null)?.type === 'load';
}

/** Which worker gets the next connection: fewest recent requests, then fewest open, then in turn. */
export class ConnectionBalancer<W> {
  private readonly state = new Map<W, { open: number; load: number; at: number }>();
  private turn = 0;

  constructor(
    workers: readonly W[],
    private readonly clock: () => number = Date.now,
  ) {
    for (const worker of workers) this.state.set(worker, { open: 0, load: 0, at: clock() });
  }

  /** A worker's recent requests, decayed to now. */
  private loadOf(worker: W, now: number): number {
    const s = this.state.get(worker);
    return s ? s.load * 0.5 ** ((now - s.at) / LOAD_HALF_LIFE_MS) : 0;
  }

  /** The worker for a new connection (counted as open), or undefined if none is left. */
  take(): W | undefined {
    const workers = [...this.state.keys()];
    if (workers.length === 0) return undefined;
    const now = this.clock();
    let best: W | undefined;
    let bestKey: [number, number] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
    for (let i = 0; i < workers.length; i += 1) {
      const worker = workers[(this.turn + i) % workers.length] as W;
      // Loads within half a request of each other are equal: the tie goes to open connections.
      const key: [number, number] = [
        Math.round(this.loadOf(worker, now) * 2),
        this.state.get(worker)?.open ?? 0,
      ];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = worker;
        bestKey = key;
      }
    }
    this.turn = (this.turn + 1) % workers.length;
    const chosen = this.state.get(best as W);
    if (chosen) chosen.open += 1;
    return best;
  }

  /** `requests` more served by `worker`. */
  served(worker: W, requests: number): void {
    const s = this.state.get(worker);
    if (!s) return;
    const now = this.clock();
    s.load = this.loadOf(worker, now) + requests;
    s.at = now;
  }

  closed(worker: W): void {
    const s = this.state.get(worker);
    if (s) s.open = Math.max(0, s.open - 1);
  }

  remove(worker: W): void {
    this.state.delete(worker);
  }

  /** Open connections per worker, in the order the workers were given. */
  counts(): number[] {
    return [...this.state.values()].map((s) => s.open);
  }
}

/** Listens on `port` (loopback) and hands each connection to a worker (see the file's comment). */
export async function listenBalanced(workers: readonly Worker[], port: number): Promise<Server> {
  const balance = new ConnectionBalancer(workers);
  for (const worker of workers) {
    worker.on('message', (message: unknown) => {
      if (isConnectionClosed(message)) balance.closed(worker);
      else if (isLoad(message)) balance.served(worker, message.requests);
    });
    worker.once('exit', () => balance.remove(worker));
  }
  // Paused: the primary reads nothing; the worker resumes the socket it is handed.
  const server = createServer({ pauseOnConnect: true }, (socket: Socket) => {
    const worker = balance.take();
    if (!worker) return socket.destroy();
    worker.send({ type: 'connection' } satisfies ConnectionMessage, socket, (error) => {
      if (!error) return;
      balance.closed(worker);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
