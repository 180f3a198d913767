/**
 * What the parts of `npm run bench:neural` share: quantiles, number formatting, and the twin
 * (or any server that prints `listening on <url>`) as a real child process.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';
import { TWIN_TIMING_HEADER } from '../../services/neural/timing';

export const ROOT = join(__dirname, '..', '..');
export const MODEL_DIR = join(ROOT, 'models', 'fraud-seq', '1.0.0');
export const ROW = SEQUENCE_STEPS * SEQUENCE_WIDTH;

/** The `q` quantile of sorted values (nearest rank, the benchmarks' convention). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** A number for a table cell; `—` when not finite. */
export const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

/** A server child process started by a benchmark. */
export interface ServerProcess {
  url: string;
  pid: number;
  /** CPU time (user + system) of the server process so far, in ms (Linux /proc), NaN elsewhere. */
  cpuMs(): number;
  /** Resident memory of the server process in MiB (Linux /proc), NaN elsewhere. */
  rssMiB(): number;
  coldStartMs: number;
  stop(): Promise<void>;
}

/**
 * Spawns `node <nodeArgs>` and resolves once it prints `listening on <url>`; every later stdout
 * line goes to `onLine`.
 */
export function startServer(
  nodeArgs: readonly string[],
  onLine?: (line: string) => void,
): Promise<ServerProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, nodeArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let url: string | undefined;
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        if (url !== undefined) {
          onLine?.(line);
          continue;
        }
        const match = /listening on (http:\/\/\S+)/.exec(line);
        if (!match) continue;
        url = match[1] as string;
        resolve({
          url,
          pid: child.pid as number,
          coldStartMs: performance.now() - started,
          cpuMs: () => {
            try {
              // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): utime, stime in ticks (100/s).
              const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
              const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
              return (Number(fields[11]) + Number(fields[12])) * 10;
            } catch {
              return Number.NaN;
            }
          },
          rssMiB: () => {
            try {
              const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
              return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
            } catch {
              return Number.NaN;
            }
          },
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit');
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

/** The twin (`services/neural/main.ts` under tsx) on a free port, with `args`. */
export function startTwin(args: readonly string[], onLine?: (line: string) => void): Promise<ServerProcess> {
  return startServer(
    [...twinNodeFlags(), '--import', 'tsx', join(ROOT, 'services/neural/main.ts'), '--port', '0', ...args],
    onLine,
  );
}

/**
 * Node flags of the twin processes: `BENCH_TWIN_NODE_FLAGS` (space-separated) or
 * `--single-threaded-gc`. Why that default: with V8's parallel GC the twin's main thread waits
 * for helper threads that first wait for a CPU on the loaded box; in `--parts tail` at load
 * 14–17 its 12 GC pauses took 90 and 304 ms in all without the flag, 17 and 11 ms with it
 * (docs/neural.md, "Where a neural call's time goes").
 */
export function twinNodeFlags(): string[] {
  const flags = process.env.BENCH_TWIN_NODE_FLAGS;
  return flags === undefined ? ['--single-threaded-gc'] : flags.split(/\s+/).filter(Boolean);
}

/**
 * The floor: a trivial Open Inference Protocol server (plain JavaScript, no loader) that reads
 * the whole body and answers a prebuilt binary-extension response (score 0.5) with the twin's
 * timing header. The same client, sockets, kernel and process wake-ups as a call to the twin,
 * and no model.
 */
const FLOOR_SOURCE = `
const http = require('node:http');
performance.now();
const before = performance.now();
const offset = Number(process.hrtime.bigint() / 1000n) - ((before + performance.now()) / 2) * 1000;
const mono = () => (performance.now() * 1000 + offset).toFixed(1);
const header = Buffer.from(JSON.stringify({ model_name: 'fraud-seq', model_version: '1',
  outputs: [{ name: 'score', datatype: 'FP32', shape: [1, 1], parameters: { binary_data_size: 4 } }] }));
const score = Buffer.alloc(4); score.writeFloatLE(0.5);
const body = Buffer.concat([header, score]);
const server = http.createServer((req, res) => {
  const r = mono();
  req.on('data', () => {});
  req.on('end', () => {
    const w = mono();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length,
      'inference-header-content-length': header.length,
      '${TWIN_TIMING_HEADER}': 'r=' + r + ',b=' + w + ',p=' + w + ',s=' + w + ',c=' + w + ',w=' + w + ',n=1' });
    res.end(body);
  });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log('echo listening on http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

/** Starts the floor server ({@link FLOOR_SOURCE}) in its own process. */
export function startFloor(): Promise<ServerProcess> {
  return startServer(['-e', FLOOR_SOURCE]);
}
