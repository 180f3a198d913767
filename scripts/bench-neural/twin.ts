/**
 * `--parts twin`: the twin with dynamic batching against the twin with batching off, side by
 * side in interleaved rounds, under a raw-socket load generator.
 */
import { connect } from 'node:net';
import type { InferRequest } from '#adapters/neural-codec';
import { f, quantile, startTwin, type ServerProcess as Twin } from './support';

interface LoadResult {
  concurrency: number;
  requests: number;
  /** Responses of the whole run, warm-up included (what the CPU figures are divided by). */
  responses: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** Sorted latencies (ms) of the measured requests, to pool rounds. */
  latencies: number[];
  seconds: number;
}

/**
 * `concurrency` closed-loop clients for `seconds`, each sending one single-row inference at a
 * time over its own keep-alive connection.
 *
 * Why raw sockets and not `http.request`: the load generator shares the two cores with the
 * server under test, and Node's HTTP client cost about as much CPU per request as the twin
 * itself (a profile of the twin at concurrency 64 showed it idle half the time), so the
 * generator, not the twin, set the ceiling for both columns. Each request is written as
 * prebuilt bytes and each response is framed by its Content-Length (the twin always sends
 * one), which leaves the CPU to the server. Both modes and both encodings use this generator.
 */
async function load(
  url: string,
  bodies: readonly InferRequest[],
  concurrency: number,
  seconds: number,
): Promise<LoadResult> {
  const target = new URL('/v2/models/fraud-seq/infer', url);
  const wire = bodies.map(({ body, headers }) =>
    Buffer.concat([
      Buffer.from(
        `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      ),
      body,
    ]),
  );
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  let measuring = false;
  let responses = 0;
  let end = Number.POSITIVE_INFINITY;
  const client = (warmUp: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname);
      socket.setNoDelay(true);
      let buffered: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let left = warmUp;
      const send = () => {
        sentAt = performance.now();
        socket.write(wire[next++ % wire.length] as Buffer);
      };
      socket.once('connect', send);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        for (;;) {
          const headEnd = buffered.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const head = buffered.toString('latin1', 0, headEnd);
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.NaN);
          if (!Number.isFinite(length)) return reject(new Error(`response without Content-Length: ${head}`));
          if (buffered.length < headEnd + 4 + length) return;
          buffered = buffered.subarray(headEnd + 4 + length);
          const now = performance.now();
          responses += 1;
          if (measuring) {
            if (head.startsWith('HTTP/1.1 200')) latencies.push(now - sentAt);
            else errors += 1;
          }
          left -= 1;
          if ((measuring && now >= end) || (!measuring && left <= 0)) {
            socket.end();
            return resolve();
          }
          send();
        }
      });
    });
  // Warm each connection (and the server's JIT) before the clock starts.
  await Promise.all(Array.from({ length: concurrency }, () => client(20)));
  measuring = true;
  const started = performance.now();
  end = started + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, () => client(Number.POSITIVE_INFINITY)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests: latencies.length,
    responses,
    errors,
    rps: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    latencies,
    seconds: elapsed,
  };
}

/** Model executions and rows executed so far, from the twin's Triton counters. */
async function executions(url: string): Promise<{ rows: number; execs: number }> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  const counter = (name: string) =>
    Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rows: counter('nv_inference_count'), execs: counter('nv_inference_exec_count') };
}

/** A twin's start-up figures, for the closing lines of the report. */
export interface TwinRun {
  mode: string;
  coldStartMs: number;
  rssMiB: number;
}

/**
 * Both twins (batching and batching off) at every level and encoding; returns the table's
 * lines (none when nothing ran) and each twin's cold start and memory.
 */
export async function twinPart(
  encodings: readonly { name: string; requests: readonly InferRequest[] }[],
  levels: readonly number[],
  rounds: number,
  seconds: number,
  loadAverage: string,
): Promise<{ lines: string[]; results: TwinRun[] }> {
  const modes = [
    { name: 'dynamic batching (config.pbtxt)', args: [] as string[] },
    { name: 'batching off (max_batch_size 1)', args: ['--max-batch-size', '1'] },
  ];
  /** One column (a twin) at one level: rounds pooled. */
  interface Column {
    rps: number;
    p50: number;
    p99: number;
    twinCpuUs: number;
    generatorCpuUs: number;
    errors: number;
    rowsPerExec: number;
  }
  const results: {
    mode: string;
    coldStartMs: number;
    rssMiB: number;
  }[] = [];
  const table: { encoding: string; concurrency: number; on: Column; off: Column; ratios: number[] }[] = [];
  // Both twins stay up and take turns, round by round, in alternating order: a load change
  // on the shared box then hits both columns alike, and the spread of the per-round ratios
  // says how much to trust the median.
  const twins: Twin[] = [];
  for (const mode of modes) twins.push(await startTwin(mode.args));
  for (const encoding of encodings) {
    for (const c of levels) {
      const acc = twins.map(() => ({
        latencies: [] as number[],
        seconds: 0,
        responses: 0,
        errors: 0,
        twinCpuMs: 0,
        generatorUs: 0,
        rows: 0,
        execs: 0,
      }));
      const ratios: number[] = [];
      for (let round = 0; round < rounds; round += 1) {
        const rps = [0, 0];
        const order = round % 2 === 0 ? [0, 1] : [1, 0];
        for (const t of order) {
          const twin = twins[t] as Twin;
          const a = acc[t] as (typeof acc)[number];
          const counters = await executions(twin.url);
          const twinBefore = twin.cpuMs();
          const selfBefore = process.cpuUsage();
          const result = await load(twin.url, encoding.requests, c, seconds / rounds);
          const self = process.cpuUsage(selfBefore);
          a.twinCpuMs += twin.cpuMs() - twinBefore;
          const after = await executions(twin.url);
          a.latencies.push(...result.latencies);
          a.seconds += result.seconds;
          a.responses += result.responses;
          a.errors += result.errors;
          a.generatorUs += self.user + self.system;
          a.rows += after.rows - counters.rows;
          a.execs += after.execs - counters.execs;
          rps[t] = result.rps;
        }
        ratios.push((rps[0] as number) / (rps[1] as number));
      }
      const [on, off] = acc.map((a) => {
        const sorted = a.latencies.sort((x, y) => x - y);
        return {
          rps: sorted.length / a.seconds,
          p50: quantile(sorted, 0.5),
          p99: quantile(sorted, 0.99),
          twinCpuUs: (a.twinCpuMs * 1000) / a.responses,
          generatorCpuUs: a.generatorUs / a.responses,
          errors: a.errors,
          rowsPerExec: a.rows / a.execs,
        };
      }) as [Column, Column];
      table.push({
        encoding: encoding.name,
        concurrency: c,
        on,
        off,
        ratios: ratios.sort((x, y) => x - y),
      });
    }
  }
  for (const [t, twin] of twins.entries()) {
    const rssMiB = twin.rssMiB();
    await twin.stop();
    results.push({
      mode: (modes[t] as (typeof modes)[number]).name,
      coldStartMs: twin.coldStartMs,
      rssMiB,
    });
  }
  const out: string[] = [];
  if (table.length > 0) {
    out.push(
      `fraud-seq twin, ${seconds} s per level and column in ${rounds} interleaved rounds, single-row requests (${((encodings[0]?.requests[0]?.body.length ?? 0) / 1024).toFixed(1)} KiB JSON or ${((encodings[1]?.requests[0]?.body.length ?? 0) / 1024).toFixed(1)} KiB binary each); load average at start ${loadAverage}`,
      '',
      '| tensors | concurrency | batching: req/s | p50 ms | p99 ms | twin CPU µs/req | rows/exec | off: req/s | p50 ms | p99 ms | twin CPU µs/req | throughput × | per-round × (min–max) | CPU-bound × |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const { encoding, concurrency, on: a, off: b, ratios } of table) {
      out.push(
        `| ${encoding} | ${concurrency} | ${f(a.rps, 0)} | ${f(a.p50)} | ${f(a.p99)} | ${f(a.twinCpuUs, 0)} | ${f(a.rowsPerExec, 1)} | ${f(b.rps, 0)} | ${f(b.p50)} | ${f(b.p99)} | ${f(b.twinCpuUs, 0)} | ${f(a.rps / b.rps)} | ${f(ratios[0] as number)}–${f(ratios[ratios.length - 1] as number)} | ${f(b.twinCpuUs / a.twinCpuUs)} |`,
      );
    }
    const errors = table.reduce((s, r) => s + r.on.errors + r.off.errors, 0);
    const generator = table.flatMap((r) => [r.on.generatorCpuUs, r.off.generatorCpuUs]);
    out.push(
      '',
      `errors: ${errors}; load generator CPU ${f(Math.min(...generator), 0)}–${f(Math.max(...generator), 0)} µs per request (same process for every row). CPU-bound ×: the throughput ratio if both twins were limited by their own CPU per request (off ÷ batching).`,
    );
  }
  return { lines: out, results };
}
