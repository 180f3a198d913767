/**
 * The local front's one listening socket, in the primary: each accepted connection goes to the
 * front worker that holds the fewest open connections (ties in turn), as an IPC handle.
 *
 * Why not the cluster's own round-robin: it hands out connections in turn whatever each worker
 * already holds. With the front closing a kept-alive connection every
 * `REQUESTS_PER_CONNECTION` requests (so that one client's agent does not feed one worker),
 * every reconnect was a coin toss: four clients' connections drifted to 3 + 1 on two workers,
 * and one worker carried three quarters of the load. Least connections keeps them 2 + 2 and
 * still spreads a single client's reconnects over both.
 */
import type { Worker } from 'node:cluster';
import { createServer, type Server, type Socket } from 'node:net';

/** Primary → worker: this handle is a client connection to serve. */
export interface ConnectionMessage {
  readonly type: 'connection';
}
/** Worker → primary: one connection it served has closed. */
export interface ConnectionClosedMessage {
  readonly type: 'connection-closed';
}

export function isConnectionMessage(message: unknown): message is ConnectionMessage {
  return (message as { type?: unknown } | null)?.type === 'connection';
}

function isConnectionClosed(message: unknown): message is ConnectionClosedMessage {
  return (message as { type?: unknown } | null)?.type === 'connection-closed';
}

/** Which worker gets the next connection: fewest open, ties in turn. */
export class LeastConnections<W> {
  private readonly open = new Map<W, number>();
  private turn = 0;

  constructor(workers: readonly W[]) {
    for (const worker of workers) this.open.set(worker, 0);
  }

  /** The worker for a new connection (counted as open), or undefined if none is left. */
  take(): W | undefined {
    const workers = [...this.open.keys()];
    if (workers.length === 0) return undefined;
    let best: W | undefined;
    let fewest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < workers.length; i += 1) {
      const worker = workers[(this.turn + i) % workers.length] as W;
      const open = this.open.get(worker) as number;
      if (open < fewest) {
        best = worker;
        fewest = open;
      }
    }
    this.turn = (this.turn + 1) % workers.length;
    this.open.set(best as W, fewest + 1);
    return best;
  }

  closed(worker: W): void {
    const open = this.open.get(worker);
    if (open !== undefined) this.open.set(worker, Math.max(0, open - 1));
  }

  remove(worker: W): void {
    this.open.delete(worker);
  }

  /** Open connections per worker, in the order the workers were given. */
  counts(): number[] {
    return [...this.open.values()];
  }
}

/** Listens on `port` (loopback) and hands each connection to a worker (see the file's comment). */
export async function listenBalanced(workers: readonly Worker[], port: number): Promise<Server> {
  const balance = new LeastConnections(workers);
  for (const worker of workers) {
    worker.on('message', (message: unknown) => {
      if (isConnectionClosed(message)) balance.closed(worker);
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
