/** An exclusive lock file for synchronous code (the CDK app builds the layer while synthesizing). */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { LayerBuildError } from './manifest';

/** A lock older than this belongs to a build that crashed; a real build takes seconds. */
const STALE_LOCK_MS = 10 * 60_000;
const LOCK_WAIT_MS = 5 * 60_000;

/**
 * Runs `fn` holding an exclusive lock file. Synchronous like the build: waits with
 * `Atomics.wait`, which blocks the thread without spinning.
 */
export function withLock<T>(lockPath: string, fn: () => T): T {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const giveUpAt = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > STALE_LOCK_MS) rmSync(lockPath, { force: true });
      } catch {
        // The holder released it between our attempts: try again.
      }
      if (Date.now() > giveUpAt)
        throw new LayerBuildError(`timed out waiting for the build lock ${lockPath}`);
      Atomics.wait(sleeper, 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}
