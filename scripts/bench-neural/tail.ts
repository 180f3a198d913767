/**
 * `--parts tail`: where the time of one neural call goes, per request, on both sides.
 *
 * The score function's own client (`HttpNeuralScorer`, binary tensors) calls, one call at a
 * time, the twin started with `--timing` and, in turn, a trivial HTTP server in its own
 * process that answers every inference with a prebuilt valid response (the floor: the same
 * client, sockets, kernel and process wake-ups, no model). Each call is split with marks on
 * one clock (the system's monotonic clock, which both processes read):
 *
 * - client out: `score()` called → the request's last socket write (breaker, encode, request
 *   object, pool checkout);
 * - wire in: that write → the twin's request event (loopback, the twin woken, HTTP parse);
 * - twin: body read, request parsed and validated, batcher wait (its end-of-turn dispatch),
 *   compute (onnxruntime), response built;
 * - wire out: the twin's `res.end` → the client's response headers parsed (loopback, the score
 *   process woken);
 * - client in: headers → `score()` resolved (body, score parsed, promise chain).
 *
 * The slowest 1 % of twin calls are listed with their split and whether a GC pause of either
 * process overlapped them.
 */
import { subscribe } from 'node:diagnostics_channel';
import { readdirSync, readFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { HttpNeuralScorer } from '#adapters/neural-scorer';
import { SEQUENCE_STEPS } from '#domain/sequence';
import { monotonicMicroseconds, parseTwinTiming, TWIN_TIMING_HEADER } from '../../services/neural/timing';
import { f, quantile, ROW, type ServerProcess, startFloor, startTwin } from './support';

const PHASES = [
  'client out',
  'wire in',
  'twin body',
  'twin parse',
  'batch wait',
  'compute',
  'twin respond',
  'wire out',
  'client in',
] as const;

interface Sample {
  total: number;
  phases: number[];
  /** Rows in the twin's batch. */
  rows: number;
  /** Run-queue wait during the call (ms): this process, the server. */
  waited: [number, number];
  /** [start, end] in this process's `performance.now()` ms. */
  window: [number, number];
}

/** GC pauses as [start, end] in this process's `performance.now()` ms. */
type Pauses = [number, number][];

function overlaps(pauses: Pauses, [from, to]: [number, number]): number {
  let ms = 0;
  for (const [a, b] of pauses) ms += Math.max(0, Math.min(b, to) - Math.max(a, from));
  return ms;
}

/** CPU ms (user + system) of each thread of `pid`, by thread name and id (Linux /proc; empty elsewhere). */
function threadCpu(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))} ${tid}`;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (Number(fields[11]) + Number(fields[12])) * 10);
    }
  } catch {
    // not Linux, or the process is gone
  }
  return byName;
}

/**
 * Milliseconds the main thread of `pid` has spent waiting on a run queue, runnable but without
 * a CPU (second field of `/proc/<pid>/schedstat`); NaN when unavailable.
 */
function runQueueMs(pid: number | 'self'): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** Runs the tail part; returns the report lines. */
export async function tailPart(data: Float32Array, iterations: number): Promise<string[]> {
  // This process's clock against the monotonic one (the twin's marks are monotonic µs).
  const toLocal = (mono: number) => (mono - monotonicMicroseconds(0)) / 1000;
  const twinGc: Pauses = [];
  const onTwinLine = (line: string) => {
    const m = /^gc (\S+) (\S+)$/.exec(line);
    if (m) {
      const start = toLocal(Number(m[1]));
      twinGc.push([start, start + Number(m[2]) / 1000]);
    }
  };
  const servers: ServerProcess[] = [await startTwin(['--timing'], onTwinLine), await startFloor()];
  const clientGc: Pauses = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) clientGc.push([e.startTime, e.startTime + e.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });

  // The last socket write of this process (the request going out), and each response's headers.
  let lastWrite = 0;
  const prototype = Socket.prototype as unknown as { _writeGeneric: (...args: unknown[]) => unknown };
  const writeGeneric = prototype._writeGeneric;
  prototype._writeGeneric = function (this: Socket, ...args: unknown[]) {
    lastWrite = performance.now();
    return writeGeneric.apply(this, args);
  };
  let headersAt = 0;
  let timing: string | undefined;
  const sockets = new Set<Socket>();
  const onResponse = (message: unknown) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    headersAt = performance.now();
    timing = response.headers[TWIN_TIMING_HEADER] as string | undefined;
    sockets.add(request.socket as Socket);
  };
  subscribe('http.client.response.finish', onResponse);

  const clients = servers.map((s) => new HttpNeuralScorer({ baseUrl: s.url, budgetMs: 1_000 }));
  let twinThreadsBefore = new Map<string, number>();
  const clientCpu = servers.map(() => 0);
  const samples: Sample[][] = servers.map(() => []);
  let twinThreads: (readonly [string, number])[] = [];
  const cases = data.length / ROW;
  try {
    for (const client of clients) await client.warmUp();
    for (let i = -200; i < iterations; i += 1) {
      if (i === 0) twinThreadsBefore = threadCpu((servers[0] as ServerProcess).pid);
      const input = {
        data: data.subarray(((i & 0xffff) % cases) * ROW, (((i & 0xffff) % cases) + 1) * ROW),
        length: SEQUENCE_STEPS,
      };
      for (const [k, client] of clients.entries()) {
        timing = undefined;
        const server = (servers[k] as ServerProcess).pid;
        const [selfWaited, serverWaited] = [runQueueMs('self'), runQueueMs(server)];
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        await client.score(input);
        const end = performance.now();
        const waited: [number, number] = [runQueueMs('self') - selfWaited, runQueueMs(server) - serverWaited];
        if (i < 0) continue;
        const used = process.cpuUsage(cpu);
        clientCpu[k] = (clientCpu[k] as number) + used.user + used.system;
        const marks = parseTwinTiming(timing);
        if (!marks) throw new Error(`no ${TWIN_TIMING_HEADER} header`);
        const [r, b, p, s, c, w] = [marks.r, marks.b, marks.p, marks.s, marks.c, marks.w].map(
          toLocal,
        ) as number[];
        const points = [t0, lastWrite, r, b, p, s, c, w, headersAt, end] as number[];
        samples[k]?.push({
          total: end - t0,
          phases: PHASES.map((_, j) => (points[j + 1] as number) - (points[j] as number)),
          rows: marks.n,
          waited,
          window: [t0, end],
        });
      }
    }
    twinThreads = [...threadCpu((servers[0] as ServerProcess).pid)]
      .map(([name, ms]) => [name, ms - (twinThreadsBefore.get(name) ?? 0)] as const)
      .filter(([, ms]) => ms > 0)
      .sort((x, y) => y[1] - x[1]);
  } finally {
    for (const client of clients) client.close();
    observer.disconnect();
    prototype._writeGeneric = writeGeneric;
    for (const s of servers) await s.stop();
  }

  const out: string[] = [
    `one neural call at a time, ${iterations} calls to each server in turn (the score function's client, binary tensors); ms:`,
    '',
    '| phase | twin p50 | twin p99 | twin mean | floor p50 | floor p99 | floor mean |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const stat = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return [quantile(sorted, 0.5), quantile(sorted, 0.99), values.reduce((a, b) => a + b, 0) / values.length];
  };
  const [twin, floor] = samples as [Sample[], Sample[]];
  for (const [j, phase] of PHASES.entries()) {
    const a = stat(twin.map((s) => s.phases[j] as number));
    const b = stat(floor.map((s) => s.phases[j] as number));
    out.push(`| ${phase} | ${a.map((x) => f(x, 3)).join(' | ')} | ${b.map((x) => f(x, 3)).join(' | ')} |`);
  }
  const a = stat(twin.map((s) => s.total));
  const b = stat(floor.map((s) => s.total));
  out.push(`| **call** | ${a.map((x) => f(x, 3)).join(' | ')} | ${b.map((x) => f(x, 3)).join(' | ')} |`);

  const slow = [...twin]
    .sort((x, y) => y.total - x.total)
    .slice(0, Math.max(1, Math.ceil(twin.length / 100)));
  const dominant = new Map<string, number>();
  for (const s of slow) {
    const j = s.phases.indexOf(Math.max(...s.phases));
    dominant.set(PHASES[j] as string, (dominant.get(PHASES[j] as string) ?? 0) + 1);
  }
  // How much of the slow calls' excess over the median call was spent runnable without a CPU.
  const median = a[0] as number;
  const excess = slow.reduce((sum, s) => sum + s.total - median, 0);
  const waitedSlow = slow.reduce((sum, s) => sum + s.waited[0] + s.waited[1], 0);
  const waitedAll = (list: Sample[], side: 0 | 1) => stat(list.map((s) => s.waited[side]));
  const withTwinGc = slow.filter((s) => overlaps(twinGc, s.window) > 0).length;
  const withClientGc = slow.filter((s) => overlaps(clientGc, s.window) > 0).length;
  const allTwinGc = twin.filter((s) => overlaps(twinGc, s.window) > 0).length;
  out.push(
    '',
    `twin − floor: p50 ${f((a[0] as number) - (b[0] as number), 3)} ms, p99 ${f((a[1] as number) - (b[1] as number), 3)} ms; sockets used by the client: ${sockets.size} for ${2 * (iterations + 200) + 2} calls`,
    `run-queue wait per call (runnable, no CPU), p50 / p99 ms: client ${waitedAll(twin, 0)
      .slice(0, 2)
      .map((x) => f(x, 3))
      .join(' / ')}, twin ${waitedAll(twin, 1)
      .slice(0, 2)
      .map((x) => f(x, 3))
      .join(' / ')}; floor: client ${waitedAll(floor, 0)
      .slice(0, 2)
      .map((x) => f(x, 3))
      .join(' / ')}, server ${waitedAll(floor, 1)
      .slice(0, 2)
      .map((x) => f(x, 3))
      .join(
        ' / ',
      )}; in the slowest 1 % of twin calls the two processes waited ${f(waitedSlow, 1)} ms on run queues of their ${f(excess, 1)} ms over the median call`,
    `client CPU per call (this process, user + system, probe included): twin ${f((clientCpu[0] as number) / iterations, 0)} µs, floor ${f((clientCpu[1] as number) / iterations, 0)} µs; twin CPU per call ${f((twinThreads.reduce((sum, [, ms]) => sum + ms, 0) / iterations) * 1000, 0)} µs (10 ms ticks), threads with CPU during the calls: ${twinThreads.map(([name, ms]) => `${name} ${ms} ms`).join(', ')}`,
    `slowest 1 % of twin calls (${slow.length}): largest phase ${[...dominant].map(([k, v]) => `${k} ×${v}`).join(', ')}; a twin GC pause overlapped ${withTwinGc} (of all calls: ${allTwinGc}), a client GC pause ${withClientGc}; twin GC pauses ${twinGc.length}, ${f(
      twinGc.reduce((s, [x, y]) => s + y - x, 0),
      1,
    )} ms in all`,
    '',
    `| call ms | ${PHASES.join(' | ')} | rows | run queue: client | twin |`,
    `| ---: | ${PHASES.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`,
    ...slow.map(
      (s) =>
        `| ${f(s.total, 2)} | ${s.phases.map((x) => f(x, 2)).join(' | ')} | ${s.rows} | ${f(s.waited[0], 2)} | ${f(s.waited[1], 2)} |`,
    ),
  );
  return out;
}
