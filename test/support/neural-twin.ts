/**
 * Starts the neural twin (`services/neural/main.ts`) as a real child process on a free port,
 * so tests can pause (SIGSTOP), kill and restart it. Only ever signals the process it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A twin process started by a test. */
export interface TwinProcess {
  url: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the "listening" line (models loaded and warm). */
  startMs: number;
  stop(): Promise<void>;
}

/** Spawns the twin with extra CLI flags and waits until it listens. */
export function startTwinProcess(args: string[] = [], timeoutMs = 30_000): Promise<TwinProcess> {
  const started = performance.now();
  // node itself with tsx's loader, not the tsx CLI: the CLI runs the server in a grandchild,
  // and SIGSTOP / SIGKILL must reach the process that owns the socket.
  const main = join(ROOT, 'services', 'neural', 'main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`neural twin did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /neural twin listening on (http:\/\/[^\s]+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      const startMs = performance.now() - started;
      resolve({
        url: match[1] as string,
        child,
        startMs,
        stop: () => stopProcess(child),
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`neural twin exited with ${code} before listening:\n${output}`));
    });
  });
}

/** Kills a process this test started (continuing it first if paused) and waits for its exit. */
export function stopProcess(child: ChildProcess): Promise<void> {
  const release = () => {
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  if (child.exitCode !== null || child.signalCode !== null) {
    release();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    child.once('exit', () => {
      release();
      resolve();
    });
    if (child.pid !== undefined) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
}
