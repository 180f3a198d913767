/**
 * Where the local stack's time goes, one configuration against another on the same machine in
 * the same minutes: `npm start -- --in-memory --neural off` once per configuration, then cells
 * of the bench's own load generator alternating between them, each with the CPU per answer of
 * every process of that stack (from `/proc`), their context switches and how the cluster
 * spread the client's connections over the front workers.
 *
 *   npx tsx scripts/bench-peer/stack-probe.ts [--seconds 5] [--concurrency 4,16] [--rounds 4]
 *       'LABEL[@ROOT]=npm start flags' …        e.g.  'two=--workers 2' 'one=--workers 1'
 *       'before@/path/to/other/checkout='       (another checkout's stack, its own flags)
 *
 * `LOCAL_STACK_NODE_FLAGS=… ` in a label's flags (before the npm start flags) sets that
 * stack's scoring-path node flags. `PROBE_AUTOGROUP_NICE=-10` raises the stacks' and the load
 * generator's scheduler autogroups (root only): on a machine shared with other work, every
 * configuration then gets most of the CPU back, and the comparison is closer to a quiet
 * machine's. Every cell's line is printed, then medians per configuration.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { ScoreRequest } from '#domain/types';
import { ROOT, SEED_DEFAULTS } from '../local/app';
import { percentile, runCell, summarize } from './load';
import { requestMix, seededState } from './population';
import { freePort, startLocalStack, stopAll } from './processes';

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface ProcessSample {
  name: string;
  /** User + system CPU ticks of the whole process (every thread). */
  ticks: number;
  /** Context switches of its main thread: it waited (voluntary) or was preempted. */
  waits: number;
  preempted: number;
}

/** The processes of one process group (a stack started by `startLocalStack`) and their CPU. */
export function sampleGroup(pgid: number): Map<number, ProcessSample> {
  const out = new Map<number, ProcessSample>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const script = cmdline.find((arg) => /\.(ts|js|cjs)$/.test(arg)) ?? cmdline[0] ?? '?';
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      out.set(Number(entry), {
        name: (script.split('/').at(-1) ?? script).replace(/(-process)?\.ts$/, ''),
        ticks: Number(fields[11]) + Number(fields[12]),
        waits: Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
        preempted: Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      });
    } catch {
      // The process ended between listing and reading.
    }
  }
  return out;
}

/** Established connections on `port` per owning process, e.g. `2:2`. */
function connectionSplit(port: string): string {
  const out = spawnSync('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`], {
    encoding: 'utf8',
  }).stdout;
  const byPid: Record<string, number> = {};
  for (const match of out.matchAll(/pid=(\d+)/g))
    byPid[match[1] as string] = (byPid[match[1] as string] ?? 0) + 1;
  return Object.values(byPid).sort().join(':') || '?';
}

interface Configuration {
  label: string;
  root: string;
  env: Record<string, string>;
  args: string[];
}

/** `LABEL[@ROOT]=[ENV=value …] flags` */
function configuration(spec: string): Configuration {
  const eq = spec.indexOf('=');
  const head = eq < 0 ? spec : spec.slice(0, eq);
  const [label = head, root = ROOT] = head.split('@');
  const env: Record<string, string> = {};
  const args: string[] = [];
  for (const word of (eq < 0 ? '' : spec.slice(eq + 1)).split(/\s+/).filter(Boolean)) {
    const assignment = /^([A-Z_]+)=(.*)$/.exec(word);
    if (assignment) env[assignment[1] as string] = (assignment[2] as string).replaceAll(',', ' ');
    else args.push(word);
  }
  return { label, root, env, args };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      seconds: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '4,16' },
      rounds: { type: 'string', default: '4' },
    },
  });
  const population = { ...SEED_DEFAULTS };
  const configurations = (positionals.length > 0 ? positionals : ['default=']).map(configuration);
  const notBefore = Date.now();
  const stacks: { configuration: Configuration; url: string; pid: number }[] = [];
  for (const config of configurations) {
    const saved = { ...process.env };
    Object.assign(process.env, config.env);
    const stack = await startLocalStack({
      root: config.root,
      port: await freePort(),
      ...population,
      extraArgs: config.args,
    });
    process.env = saved;
    stacks.push({ configuration: config, url: stack.url, pid: stack.pid });
  }
  const boost = process.env.PROBE_AUTOGROUP_NICE;
  if (boost) {
    for (const pid of [process.pid, ...stacks.map((s) => s.pid)])
      writeFileSync(`/proc/${pid}/autogroup`, boost);
  }
  const notAfter = Date.now();
  const mix = requestMix(population, seededState(population, notBefore, notAfter), notAfter, 5000);
  const run = `probe${Date.now().toString(36)}`;
  const bodies = (label: string) => (i: number) =>
    JSON.stringify({ ...(mix[i % mix.length] as ScoreRequest), transactionId: `${run}-${label}-${i}` });
  for (const [k, stack] of stacks.entries()) {
    await runCell({
      target: 'warm-up',
      url: stack.url,
      concurrency: 4,
      durationMs: 3000,
      body: bodies(`w${k}`),
    });
  }

  const levels = (values.concurrency ?? '4').split(',').map(Number);
  const cells: Record<string, { rps: number[]; p50: number[]; p99: number[]; cpu: number[] }> = {};
  for (let round = 0; round < Number(values.rounds); round += 1) {
    for (const concurrency of levels) {
      const order = round % 2 === 0 ? stacks : [...stacks].reverse();
      for (const [k, stack] of order.entries()) {
        const before = sampleGroup(stack.pid);
        const generator = process.cpuUsage();
        const split = new Promise<string>((resolve) =>
          setTimeout(() => resolve(connectionSplit(new URL(stack.url).port)), 1000),
        );
        const cell = await runCell({
          target: stack.configuration.label,
          url: stack.url,
          concurrency,
          durationMs: Number(values.seconds) * 1000,
          body: bodies(`r${round}c${concurrency}s${k}`),
        });
        const generatorUs = process.cpuUsage(generator);
        const after = sampleGroup(stack.pid);
        const answers = cell.latencies.length;
        const perAnswer = (ticks: number) => ((ticks / TICKS_PER_SECOND) * 1000) / answers;
        let total = 0;
        const parts: string[] = [];
        for (const [pid, now] of after) {
          const then = before.get(pid);
          const ms = perAnswer(now.ticks - (then?.ticks ?? 0));
          total += ms;
          if (ms < 0.05) continue;
          const waits = (now.waits - (then?.waits ?? 0)) / answers;
          const preempted = (now.preempted - (then?.preempted ?? 0)) / answers;
          parts.push(`${now.name} ${ms.toFixed(2)} (cs ${waits.toFixed(1)}/${preempted.toFixed(1)})`);
        }
        const s = summarize(cell);
        const key = `${stack.configuration.label} c=${concurrency}`;
        cells[key] ??= { rps: [], p50: [], p99: [], cpu: [] };
        cells[key].rps.push(s.rps);
        cells[key].p50.push(s.p50);
        cells[key].p99.push(s.p99);
        cells[key].cpu.push(total);
        const bad = cell.non200 + cell.degraded + cell.failed;
        process.stdout.write(
          `[${stack.configuration.label}] c=${concurrency} connections ${await split} · ${s.rps.toFixed(1)} rps · p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} ms · not good ${bad} · load ${loadavg()[0]?.toFixed(1)} | CPU ms per answer: stack ${total.toFixed(2)}, load generator ${(
            (generatorUs.user + generatorUs.system) / 1000 / answers
          ).toFixed(2)} | ${parts.join(' · ')}\n`,
        );
      }
    }
  }
  const median = (xs: number[]) => percentile(xs, 0.5).toFixed(1);
  process.stdout.write('\nmedians over the rounds (every round in brackets):\n');
  for (const [key, v] of Object.entries(cells)) {
    process.stdout.write(
      `${key}: ${median(v.rps)} rps [${v.rps.map((x) => x.toFixed(0)).join(' ')}] · p50 ${median(v.p50)} · p99 ${median(v.p99)} ms · stack CPU ${percentile(v.cpu, 0.5).toFixed(2)} ms per answer\n`,
    );
  }
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`stack probe failed: ${(error as Error).stack}\n`);
    process.exitCode = 1;
  })
  .finally(() => void stopAll().then(() => process.exit()));
