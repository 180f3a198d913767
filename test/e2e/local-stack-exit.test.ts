/**
 * `npm start` as a process: a stack that cannot start, or that is killed, leaves nothing behind.
 * Its children (dynalite, the updater, the queue, the neural twin) hold ports and the data
 * directory; an orphan keeps both until someone finds it by hand.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TS_EXEC_ARGV } from '../../scripts/local/processes';

/**
 * Runs `scripts/local-stack.ts` itself (no tsx wrapper), so its pid is the stack's. `marker` goes
 * into its environment, which every process it starts inherits.
 */
function startCli(args: string[], marker: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [...TS_EXEC_ARGV, join(ROOT, 'scripts/local-stack.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, STACK_EXIT_TEST: marker },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  return { child, output: () => output };
}

/** Pids of processes whose environment holds `marker`. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  for (const started = Date.now(); ; ) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const SMALL_SEED = ['--cards', '20', '--days', '2', '--prime', '0'];

describe('npm start, as a process', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'stack-exit-'));
  });
  afterEach(() => {
    // Only processes this test started carry its marker; any left are stopped here.
    for (const pid of processesWith(dataDir)) process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a taken port at once, naming it, and starts nothing', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const { child, output } = startCli(
        ['--data-dir', dataDir, '--port', String(port), ...SMALL_SEED],
        dataDir,
      );
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(2);
      expect(output()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(output()).not.toContain('starting dynalite');
      expect(processesWith(dataDir)).toEqual([]);
    } finally {
      holder.close();
    }
  }, 60_000);

  it('takes its children with it when it is killed outright', async () => {
    const { child, output } = startCli(
      ['--data-dir', dataDir, '--port', '0', '--neural', 'live', ...SMALL_SEED],
      dataDir,
    );
    await until('the stack to print its URL', 90_000, () =>
      output().includes('is running at') ? true : child.exitCode === null ? undefined : false,
    );
    expect(output()).toContain('is running at');
    // dynalite, the updater, the queue, the neural twin and the front workers.
    const children = processesWith(dataDir).filter((pid) => pid !== child.pid);
    expect(children.length).toBeGreaterThanOrEqual(5);
    // SIGKILL: no handler of the stack runs, only the children can notice.
    child.kill('SIGKILL');
    const left = await until('its children to exit', 20_000, () => {
      const running = children.filter(alive);
      return running.length === 0 ? running : undefined;
    }).catch((error: Error) => error.message);
    expect(left).toEqual([]);
  }, 150_000);
});
