/**
 * Child processes of the local stack: started with the project's TypeScript loader, their
 * output captured (and forwarded when asked), their readiness announced over IPC. Only
 * processes started here are ever signalled, by their own handle.
 */
import { type ChildProcess, fork } from 'node:child_process';
import cluster from 'node:cluster';
import type { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/**
 * `node` flags that let a child run the project's `.ts` files and `#domain/*` imports. With
 * `LOCAL_STACK_CPU_PROF_DIR` set, every child also writes a V8 CPU profile there when it stops
 * (`--cpu-prof` is not allowed in `NODE_OPTIONS`): how the per-process figures of
 * docs/performance.md were taken.
 */
export const TS_EXEC_ARGV = [
  '--import',
  'tsx',
  ...(process.env.LOCAL_STACK_CPU_PROF_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LOCAL_STACK_CPU_PROF_DIR}`]
    : []),
];

/** The AWS SDK's switch for its Node version warning (`@aws-sdk/core`, `emitWarningIfUnsupportedVersion`). */
export const SDK_NODE_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
/** The oldest Node major the AWS SDK supports after January 2027, and Lambda's runtime here (`nodejs22.x`). */
const SDK_NODE_MAJOR = 22;

/**
 * The AWS SDK's Node version warning once for the whole stack instead of once per process:
 * every child that builds an SDK client printed the same nine lines, about 40 lines before the
 * stack's own output. On an older Node this returns one line to print and switches the SDK's
 * own warning off in `env` (the children inherit it); otherwise, or when the switch was
 * already set by the user, it changes nothing and returns undefined.
 */
export function sdkNodeWarningOnce(env: NodeJS.ProcessEnv, nodeVersion: string): string | undefined {
  if (env[SDK_NODE_WARNING_SWITCH] !== undefined) return undefined;
  const major = Number.parseInt(nodeVersion.replace(/^v/, ''), 10);
  if (!(major < SDK_NODE_MAJOR)) return undefined;
  env[SDK_NODE_WARNING_SWITCH] = 'true';
  return (
    `note: Node ${nodeVersion}: AWS SDK releases after the first week of January 2027 need Node >= ${SDK_NODE_MAJOR} ` +
    `(the Lambda functions run nodejs${SDK_NODE_MAJOR}.x); the SDK's own warning is shown here once instead of by every process\n`
  );
}

/**
 * Keeps the last `limit` characters a set of children printed; optionally forwards them. The
 * text is kept as chunks and joined when read: appending to one 4 MB string and slicing it
 * copied the whole tail for every chunk a child wrote, in the primary, under load.
 */
export class OutputCapture {
  private chunks: string[] = [];
  private length = 0;
  constructor(
    private readonly forward: boolean,
    private readonly limit = 4_000_000,
  ) {}

  attach(child: Pick<ChildProcess, 'stdout' | 'stderr'>): void {
    child.stdout?.on('data', (chunk: Buffer) => this.add(chunk, process.stdout));
    child.stderr?.on('data', (chunk: Buffer) => this.add(chunk, process.stderr));
  }

  /** Adds a line of the stack's own (not a child's), forwarded to stderr like theirs. */
  note(line: string): void {
    this.add(Buffer.from(line), process.stderr);
  }

  /** Everything captured so far (the tail, when over the limit). */
  get output(): string {
    const text = this.chunks.join('');
    this.chunks = [text];
    return text.slice(-this.limit);
  }

  private add(chunk: Buffer, stream: NodeJS.WriteStream): void {
    const piece = chunk.toString('utf8');
    this.chunks.push(piece);
    this.length += piece.length;
    // Whole chunks leave from the front while the rest still holds the limit; `output` cuts the last one.
    while (this.chunks.length > 1 && this.length - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.length -= this.chunks.shift()?.length ?? 0;
    }
    if (this.forward) stream.write(piece);
  }
}

/** A message a child sends once it is ready, with whatever it needs to say (its port). */
export interface ReadyMessage {
  type: 'ready';
  port?: number;
  /** The dynalite process's background lane. */
  backgroundPort?: number;
}

/**
 * Resolves with the child's (or cluster worker's) first message of `type`; rejects if it exits
 * first or takes longer than `timeoutMs`. `phase` names the wait in those errors.
 */
export function whenMessage<M extends { type: string }>(
  child: EventEmitter,
  type: M['type'],
  name: string,
  phase: { readonly verb: string; readonly noun: string },
  timeoutMs: number,
): Promise<M> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not ${phase.verb} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited during ${phase.noun} (code ${code}, signal ${signal})`));
    };
    child.once('exit', onExit);
    child.on('message', function onMessage(message: unknown) {
      if ((message as M)?.type !== type) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(message as M);
    });
  });
}

/** Resolves with the child's (or cluster worker's) ready message; rejects if it exits first or takes too long. */
export function whenReady(child: EventEmitter, name: string, timeoutMs = 60_000): Promise<ReadyMessage> {
  return whenMessage<ReadyMessage>(child, 'ready', name, { verb: 'start', noun: 'start-up' }, timeoutMs);
}

/**
 * `node` flags of the processes on the scoring path (front workers, dynalite and the neural twin), after
 * {@link TS_EXEC_ARGV}. `--single-threaded-gc`: V8 otherwise splits each young-generation
 * collection over helper threads and the event loop waits for them; the stack already keeps a
 * process busy on every core, so a helper first waits for a CPU. Measured on 2 cores
 * (docs/performance.md, "Concurrency 4: where a request waited"): more answers per second at
 * concurrency 4 and 16 in 6 of 8 alternated rounds each, lower CPU per answer.
 * `LOCAL_STACK_NODE_FLAGS` (space-separated) replaces them, to measure other settings.
 */
export const SCORING_PATH_NODE_FLAGS: readonly string[] =
  process.env.LOCAL_STACK_NODE_FLAGS === undefined
    ? ['--single-threaded-gc']
    : process.env.LOCAL_STACK_NODE_FLAGS.split(/\s+/).filter(Boolean);

/**
 * Forks a `.ts` entry of this folder with the TypeScript loader and a JSON config in its env;
 * `nodeFlags` go after the loader's.
 */
export function forkTs(
  entry: string,
  config: unknown,
  capture: OutputCapture,
  nodeFlags: readonly string[] = [],
): ChildProcess {
  const child = fork(join(__dirname, entry), [], {
    cwd: ROOT,
    execArgv: [...TS_EXEC_ARGV, ...nodeFlags],
    env: { ...process.env, LOCAL_STACK_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  capture.attach(child);
  return child;
}

/** Stops a child we started: SIGTERM (after SIGCONT, in case a test paused it), then waits for its exit. */
export async function stopChild(child: ChildProcess, timeoutMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Reads the JSON config a parent passed to this child. A forked child also follows its parent
 * out: when the IPC channel closes (the parent exited, crashed or was killed, e.g. a stack whose
 * port was taken), the child stops as on `SIGTERM`, through its own handler, instead of holding
 * its port and data directory as an orphan. Cluster workers already do this themselves.
 */
export function childConfig<T>(): T {
  const raw = process.env.LOCAL_STACK_CONFIG;
  if (!raw) throw new Error('LOCAL_STACK_CONFIG is not set: this file is started by the local stack');
  if (process.connected && !cluster.isWorker)
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  return JSON.parse(raw) as T;
}

/** Tells the parent this child is ready. */
export function announceReady(message: Omit<ReadyMessage, 'type'> = {}): void {
  process.send?.({ type: 'ready', ...message });
}

/** Reads a JSON request body (loopback traffic between the stack's own processes). */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** Answers with a JSON body. */
export function replyJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A child's answer to one loopback request: status and JSON body, or `undefined` for 404. */
export type JsonRoutes = (
  req: IncomingMessage,
) => Promise<readonly [status: number, body: unknown] | undefined>;

/**
 * Serves a child's loopback JSON API on a free port of 127.0.0.1 and announces the port to the
 * parent: unknown routes answer 404 and a thrown route 500 with its message. On `SIGTERM` the
 * server closes, `onStop` releases the child's own resources, and the process exits.
 */
export function serveJson(routes: JsonRoutes, onStop: () => void): void {
  const server = createHttpServer((req, res) => {
    routes(req).then(
      (answer) =>
        answer ? replyJson(res, answer[0], answer[1]) : replyJson(res, 404, { error: 'not found' }),
      (error: unknown) => replyJson(res, 500, { error: (error as Error).message }),
    );
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    announceReady({ port: typeof address === 'object' && address ? address.port : undefined });
  });
  process.on('SIGTERM', () => {
    server.close();
    onStop();
    process.exit(0);
  });
}

/** Listens on `port` of 127.0.0.1 (0: any free one) and closes again; resolves with the port it got. */
function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => {
      const address = probe.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(bound));
    });
  });
}

/** Whether `port` on 127.0.0.1 is held by another listener right now (checked by listening on it). */
export function portTaken(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => false,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') return true;
      throw error;
    },
  );
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return listenOnce(0);
}
