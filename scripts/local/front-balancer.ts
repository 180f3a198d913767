/**
 * The local front's one listening socket, in the primary: each accepted connection goes to the
 * front worker holding the fewest active connections, then the one that served the fewest
 * requests lately, then the fewest open connections, then in turn; as an IPC handle. A
 * connection is active while it served a request, or was handed over, within the last
 * {@link ACTIVE_WINDOW_MS}. Workers report their active connections and requests every
 * {@link LOAD_REPORT_MS}, and say a connection is closing at its last request; the primary
 * counts what it hands out in between.
 *
 * Why not the cluster's own round-robin: it hands out connections in turn whatever each worker
 * already carries. With the front closing a kept-alive connection every
 * `REQUESTS_PER_CONNECTION` requests (so that one client's agent does not feed one worker),
 * every reconnect was a coin toss: four clients' connections drifted to 3 + 1 on two workers,
 * and one worker carried three quarters of the load. Why not fewest open connections: a client's
 * agent keeps idle sockets open beside the one it reuses, so counts of open connections said
 * little about load, and the busy socket's reconnects kept landing on the same worker. Why not
 * recent requests first (the choice before this one): a closed connection's requests stay in its
 * worker's count for hundreds of milliseconds, so clients that reconnected together all went to
 * the worker that looked less busy, and four paced clients ended 10 + 14 connections of 24 on two
 * workers in 5 runs of 6. Active connections alone (tried) left one busy client's reconnects to
 * the open connections, which idle sockets skew: recent requests break that tie.
 */
import type { Worker } from 'node:cluster';
import { createServer, type Server, type Socket } from 'node:net';

/** How often a worker reports its active connections. */
export const LOAD_REPORT_MS = 100;
/** A connection with no request for this long (and not just handed over) is idle. */
export const ACTIVE_WINDOW_MS = 250;
/** Half-life of a worker's recent requests in the balancer. */
const LOAD_HALF_LIFE_MS = 250;

/** Primary → worker: this handle is a client connection to serve. */
export interface ConnectionMessage {
  readonly type: 'connection';
}
/**
 * Worker → primary: one connection it holds is closed, or will be after the response to its last
 * request (sent then, so that the client's next connection is placed knowing it).
 */
export interface ConnectionClosedMessage {
  readonly type: 'connection-closed';
  /** Whether the connection counted as active in this worker's reports. */
  readonly active: boolean;
}
/** Worker → primary: its connections active now (see {@link ACTIVE_WINDOW_MS}), and requests served. */
export interface LoadMessage {
  readonly type: 'load';
  readonly active: number;
  /** Requests served since the previous report. */
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

interface WorkerCounts {
  open: number;
  active: number;
  /** Recent requests, decayed with {@link LOAD_HALF_LIFE_MS} from `at`. */
  load: number;
  at: number;
}

/**
 * Which worker gets the next connection: fewest active, then fewest requests lately (within half a
 * request), then fewest open, then in turn.
 */
export class ConnectionBalancer<W> {
  private readonly state = new Map<W, WorkerCounts>();
  private turn = 0;

  constructor(
    workers: readonly W[],
    private readonly clock: () => number = Date.now,
  ) {
    for (const worker of workers) this.state.set(worker, { open: 0, active: 0, load: 0, at: clock() });
  }

  private static loadAt(s: WorkerCounts, now: number): number {
    return s.load * 0.5 ** ((now - s.at) / LOAD_HALF_LIFE_MS);
  }

  /** The worker for a new connection (counted as open and active), or undefined if none is left. */
  take(): W | undefined {
    const workers = [...this.state.keys()];
    const now = this.clock();
    let best: W | undefined;
    let bestKey: number[] = [];
    for (let i = 0; i < workers.length; i += 1) {
      const worker = workers[(this.turn + i) % workers.length] as W;
      const s = this.state.get(worker) as WorkerCounts;
      const key = [s.active, Math.round(ConnectionBalancer.loadAt(s, now) * 2), s.open];
      const k = key.findIndex((value, j) => value !== bestKey[j]);
      if (best === undefined || (k >= 0 && (key[k] as number) < (bestKey[k] as number))) {
        best = worker;
        bestKey = key;
      }
    }
    const chosen = best === undefined ? undefined : this.state.get(best);
    if (!chosen) return undefined;
    this.turn = (this.turn + 1) % workers.length;
    chosen.open += 1;
    chosen.active += 1;
    return best;
  }

  /** `worker` reported its active connections and the requests it served since its last report. */
  reported(worker: W, active: number, requests = 0): void {
    const s = this.state.get(worker);
    if (!s) return;
    const now = this.clock();
    s.active = active;
    s.load = ConnectionBalancer.loadAt(s, now) + requests;
    s.at = now;
  }

  /** One of `worker`'s connections closed (`active`: whether its last report counted it). */
  closed(worker: W, active: boolean): void {
    const s = this.state.get(worker);
    if (!s) return;
    s.open = Math.max(0, s.open - 1);
    if (active) s.active = Math.max(0, s.active - 1);
  }

  remove(worker: W): void {
    this.state.delete(worker);
  }

  /** Open and active connections per worker, in the order the workers were given. */
  counts(): { open: number; active: number }[] {
    return [...this.state.values()].map(({ open, active }) => ({ open, active }));
  }
}

/**
 * In a worker: its connections, and what the primary must hear of them. A connection counts as
 * active from when it is handed over (the primary counted it then) until a report finds it idle
 * for {@link ACTIVE_WINDOW_MS}; the messages keep the primary's count equal to this one.
 */
export class ConnectionTracker<S> {
  /** Open connections not yet reported closed: last request (or handover) and whether counted. */
  private readonly sockets = new Map<S, { requests: number; lastAt: number; counted: boolean }>();
  /** Requests since the last report. */
  private served = 0;

  constructor(
    private readonly requestsPerConnection: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The primary handed `socket` over (and counted it as active). */
  opened(socket: S): void {
    this.sockets.set(socket, { requests: 0, lastAt: this.clock(), counted: true });
  }

  /**
   * A request arrived on `socket`. On its last one (the server closes it after the response), the
   * message to send now.
   */
  request(socket: S): ConnectionClosedMessage | undefined {
    const s = this.sockets.get(socket);
    if (!s) return undefined;
    s.requests += 1;
    s.lastAt = this.clock();
    this.served += 1;
    return s.requests >= this.requestsPerConnection ? this.closed(socket) : undefined;
  }

  /** `socket` closed: the message to send, unless it was sent at its last request. */
  closed(socket: S): ConnectionClosedMessage | undefined {
    const s = this.sockets.get(socket);
    if (!s) return undefined;
    this.sockets.delete(socket);
    return { type: 'connection-closed', active: s.counted };
  }

  /**
   * Recounts the active connections: the report to send, unless nothing was served and none was
   * active before or now. Sent while any is active even if unchanged: a connection in flight to
   * this worker when the previous report was made is counted here but was not in what the
   * primary read.
   */
  report(): LoadMessage | undefined {
    const now = this.clock();
    let before = 0;
    let active = 0;
    for (const s of this.sockets.values()) {
      if (s.counted) before += 1;
      s.counted = now - s.lastAt <= ACTIVE_WINDOW_MS;
      if (s.counted) active += 1;
    }
    const requests = this.served;
    this.served = 0;
    return active === 0 && before === 0 && requests === 0 ? undefined : { type: 'load', active, requests };
  }
}

/** Listens on `port` (loopback) and hands each connection to a worker (see the file's comment). */
export async function listenBalanced(workers: readonly Worker[], port: number): Promise<Server> {
  const balance = new ConnectionBalancer(workers);
  for (const worker of workers) {
    worker.on('message', (message: unknown) => {
      if (isConnectionClosed(message)) balance.closed(worker, message.active);
      else if (isLoad(message)) balance.reported(worker, message.active, message.requests);
    });
    worker.once('exit', () => balance.remove(worker));
  }
  // Paused: the primary reads nothing; the worker resumes the socket it is handed.
  const server = createServer({ pauseOnConnect: true }, (socket: Socket) => {
    const worker = balance.take();
    if (!worker) return socket.destroy();
    worker.send({ type: 'connection' } satisfies ConnectionMessage, socket, (error) => {
      if (!error) return;
      balance.closed(worker, true);
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
