/**
 * `npm run bench:export`: how fast the training export (`models/training/export-features.ts`)
 * folds a fixed history, with the card stage inline (one core) and in a worker thread (two).
 *
 * The history is the simulator's (default 5,000 cards × 28 days, seed 42, about 200k events),
 * made once into the OS temp directory and reused, or any file given with --events. Each run
 * is the export's own command line in a fresh process (as `npm run train` runs it), so one
 * run's heap does not slow the next. Prints, per run: events, wall seconds, events/s wall,
 * CPU seconds (all threads), events per CPU-second, the CPU seconds of the reading thread and
 * of the card-stage worker, events per second of the critical path (label pass, then the
 * busier of the two threads: what two idle cores would reach with perfect overlap, an upper
 * bound), and the 1-minute load average before the
 * run: on a shared machine wall time is the neighbours' as much as ours, CPU time much less so.
 *
 * Options: --events PATH, --cards N (5000), --days N (28), --seed N (42), --runs N (1),
 * --workers LIST (`0,1`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DatasetSummary, ExportTimings } from '../models/training/export-features';

const ROOT = resolve(__dirname, '..');
/** Node flags of every export run: the same as `npm run train` gives it (see train.sh). */
const EXPORT_NODE_FLAGS = ['--max-semi-space-size=64'];

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    cards: { type: 'string', default: '5000' },
    days: { type: 'string', default: '28' },
    seed: { type: 'string', default: '42' },
    runs: { type: 'string', default: '1' },
    workers: { type: 'string', default: '0,1' },
  },
});

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
}

const tsx = join(ROOT, 'node_modules/.bin/tsx');

function history(): string {
  if (values.events !== undefined) return resolve(values.events);
  const dir = join(tmpdir(), 'fraud-bench-export');
  const file = join(dir, `events-c${values.cards}-d${values.days}-s${values.seed}.jsonl`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    process.stderr.write(
      `simulating ${values.cards} cards × ${values.days} days (seed ${values.seed}) -> ${file}\n`,
    );
    run(tsx, [
      'models/training/simulate-cli.ts',
      ...['--cards', values.cards, '--days', values.days, '--seed', values.seed, '--out', file],
    ]);
  }
  return file;
}

const events = history();
const modes = values.workers.split(',').map((w) => (w.trim() === '0' ? 0 : 1));
const runs = Number(values.runs);
const out = join(tmpdir(), 'fraud-bench-export', `out-${process.pid}`);
process.stderr.write(`export of ${events}, ${availableParallelism()} cores\n`);
process.stderr.write(
  'workers  events     wall s  events/s wall  CPU s   events/CPU-s  reader/worker CPU s  events/critical-path-s  load(1m) before\n',
);
for (let i = 0; i < runs; i += 1) {
  for (const workers of modes) {
    const load = loadavg()[0] as number;
    run(tsx, [
      ...EXPORT_NODE_FLAGS,
      'models/training/export-features.ts',
      ...['--events', events, '--out-dir', out, '--workers', String(workers)],
    ]);
    const timings = JSON.parse(readFileSync(join(out, 'export-timings.json'), 'utf8')) as ExportTimings;
    const dataset = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8')) as DatasetSummary;
    process.stderr.write(
      `${String(workers).padEnd(9)}${String(dataset.events).padEnd(11)}${timings.totalSeconds.toFixed(2).padEnd(8)}` +
        `${Math.round(timings.eventsPerSecond).toString().padEnd(15)}${timings.cpuSeconds.toFixed(2).padEnd(8)}` +
        `${Math.round(timings.eventsPerCpuSecond).toString().padEnd(14)}` +
        `${`${timings.readerCpuSeconds?.toFixed(2) ?? '-'} / ${timings.cardStageCpuSeconds?.toFixed(2) ?? '-'}`.padEnd(21)}` +
        `${timings.eventsPerBusiestThreadSecond === undefined ? '-'.padEnd(24) : Math.round(timings.eventsPerBusiestThreadSecond).toString().padEnd(24)}` +
        `${load.toFixed(2)}\n`,
    );
  }
}
