/**
 * The processes the peer benchmark starts and stops: the local stack through its own CLI
 * (`npm start`), the peer's dynalite and the peer under gunicorn. Each runs in its own
 * process group, so stopping one also stops what it spawned (npm → tsx → node, gunicorn's
 * workers), and only processes started here are ever signalled.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

/** A child process group started by the benchmark. */
export interface Started {
  readonly name: string;
  readonly pid: number;
  /** The last lines the process wrote, for error messages. */
  tail(): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Started>();

/** Stops everything still running (on exit, Ctrl-C or failure). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** A TCP port that was free a moment ago on 127.0.0.1 (the local stack's own helper). */
export { freePort } from '../local/processes';

function launch(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): { child: ChildProcess; started: Started } {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const started: Started = {
    name,
    pid,
    tail: () => output.trim().split('\n').slice(-15).join('\n'),
    stop: (graceMs = 10_000) => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          signalGroup(pid, 'SIGTERM');
          const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
        // Children of the group leader (gunicorn workers, tsx's node) may outlive it briefly.
        signalGroup(pid, 'SIGKILL');
        running.delete(started);
      })();
      return stopping;
    },
  };
  running.add(started);
  return { child, started };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Resolves when `child` prints a line matching `pattern`; rejects if it exits or times out first. */
function waitForLine(
  child: ChildProcess,
  started: Started,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () => fail(new Error(`${started.name}: no ready line after ${timeoutMs / 1000} s\n${started.tail()}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = pattern.exec(buffer);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onExit = (code: number | null) =>
      fail(new Error(`${started.name} exited (${code}) before it was ready:\n${started.tail()}`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Polls `url` until it answers 200. */
async function waitForHttp(url: string, started: Started, child: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${started.name} exited before it was ready:\n${started.tail()}`);
    const ok = await fetch(url, { method: 'POST', body: '{}' })
      .then((r) => r.status < 500)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${started.name}: ${url} did not answer within ${timeoutMs / 1000} s\n${started.tail()}`);
}

/** The local stack as a user starts it, `npm start -- --in-memory …`; resolves with its printed URL. */
export async function startLocalStack(options: {
  root: string;
  port: number;
  cards: number;
  days: number;
  seed: number;
  /** Extra `npm start` flags (e.g. `--workers 2`); the stack's own defaults otherwise. */
  extraArgs?: readonly string[];
  timeoutMs?: number;
}): Promise<Started & { url: string; readyLine: string }> {
  // The neural model off: the peer has none, and the comparison is the tree path both serve
  // (`npm start` defaults to `--neural live`, whose answers are the combined score).
  const args = ['start', '--', '--in-memory', '--neural', 'off', '--port', String(options.port)];
  args.push('--cards', String(options.cards), '--days', String(options.days), '--seed', String(options.seed));
  args.push(...(options.extraArgs ?? []));
  const { child, started } = launch('local stack (npm start)', 'npm', args, { cwd: options.root });
  // The first URL with our port on stdout, whatever the wording around it.
  const ready = new RegExp(`(http://(?:127\\.0\\.0\\.1|localhost):${options.port})\\b`);
  const match = await waitForLine(child, started, ready, options.timeoutMs ?? 300_000);
  const line = match.input.slice(match.input.lastIndexOf('\n', match.index) + 1).split('\n')[0] ?? '';
  return { ...started, url: match[1] as string, readyLine: line.trim() };
}

/** The peer's own dynalite, in memory, as a separate process. */
export async function startDynaliteProcess(options: {
  root: string;
  port: number;
}): Promise<Started & { endpoint: string }> {
  const cli = require.resolve('dynalite/cli.js', { paths: [options.root] });
  const args = [cli, '--host', '127.0.0.1', '--port', String(options.port), '--createTableMs', '0'];
  const { child, started } = launch('peer dynalite', process.execPath, args, { cwd: options.root });
  const endpoint = `http://127.0.0.1:${options.port}`;
  await waitForHttp(endpoint, started, child, 30_000);
  return { ...started, endpoint };
}

/** The peer under gunicorn (sync workers), with `/usr/bin/python3`. */
export async function startPeer(options: {
  dir: string;
  port: number;
  workers: number;
  env: Record<string, string>;
}): Promise<Started & { url: string }> {
  const args = ['-m', 'gunicorn', '--workers', String(options.workers), '--worker-class', 'sync'];
  args.push('--bind', `127.0.0.1:${options.port}`, '--chdir', options.dir, 'app:app');
  const { child, started } = launch(`peer (gunicorn, ${options.workers} sync workers)`, PYTHON, args, {
    cwd: options.dir,
    env: { ...process.env, ...options.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const url = `http://127.0.0.1:${options.port}`;
  await waitForHttp(`${url}/health`, started, child, 60_000);
  return { ...started, url };
}

/** Debian's Python: the `python3` first on PATH cannot see Debian's packages. */
export const PYTHON = '/usr/bin/python3';
/** The Debian packages the peer needs, and the modules that prove they are there. */
export const PEER_PACKAGES = ['python3-flask', 'python3-boto3', 'python3-sklearn', 'gunicorn'] as const;
const PEER_MODULES = 'import flask, boto3, sklearn, numpy, gunicorn';

/** Installs the peer's Debian packages with apt-get when they are missing (like `npm run train`). */
export function ensurePythonPackages(log: (line: string) => void): void {
  if (spawnSync(PYTHON, ['-c', PEER_MODULES], { stdio: 'ignore' }).status === 0) return;
  log(`installing ${PEER_PACKAGES.join(' ')} from Debian (apt-get)`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  for (const args of [
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', ...PEER_PACKAGES],
  ]) {
    const [command, ...rest] = [...sudo, ...args] as [string, ...string[]];
    const result = spawnSync(command, rest, { stdio: 'inherit' });
    if (result.status !== 0)
      throw new Error(`${args.join(' ')} failed (${result.status ?? result.error?.message})`);
  }
  if (spawnSync(PYTHON, ['-c', PEER_MODULES], { stdio: 'inherit' }).status !== 0) {
    throw new Error(
      `${PYTHON} still cannot import the peer's modules after installing ${PEER_PACKAGES.join(' ')}`,
    );
  }
}
