/** `npm run bench:peer`'s flags: see `index.ts` for what they mean. */
import { parseArgs } from 'node:util';
import { SEED_DEFAULTS } from '../local/app';
import type { Population } from './population';

/** Prints `message` and the usage, and exits 2. */
function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run bench:peer -- [--seconds N] [--concurrency 1,4,16] [--rounds N] [--warmup N] [--cards N] [--days N] [--seed N] [--parity N] [--workers N] [--stack-args='FLAGS']\n`,
  );
  process.exit(2);
}

function positiveInt(name: string, value: string | undefined, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    usage(`--${name} must be an integer in 1–${max}, got ${value}`);
  return n;
}

/** The command line, checked: every number within its range, or the usage and exit 2. */
export function options() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '1,4,16' },
      rounds: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '3' },
      cards: { type: 'string', default: String(SEED_DEFAULTS.cards) },
      days: { type: 'string', default: String(SEED_DEFAULTS.days) },
      seed: { type: 'string', default: String(SEED_DEFAULTS.seed) },
      parity: { type: 'string', default: '40' },
      workers: { type: 'string', default: '2' },
      'stack-args': { type: 'string', default: '' },
    },
  });
  const levels = (values.concurrency ?? '').split(',').map((v) => positiveInt('concurrency', v.trim(), 256));
  return {
    seconds: positiveInt('seconds', values.seconds, 600),
    levels: [...new Set(levels)],
    rounds: positiveInt('rounds', values.rounds, 10),
    warmup: Number(values.warmup) >= 0 ? Number(values.warmup) : usage('--warmup must be ≥ 0'),
    population: {
      cards: positiveInt('cards', values.cards, 100_000),
      days: positiveInt('days', values.days, 60),
      seed: Number(values.seed),
    } satisfies Population,
    parity: Math.max(30, positiveInt('parity', values.parity, 1000)),
    workers: positiveInt('workers', values.workers, 16),
    stackArgs: (values['stack-args'] ?? '').split(/\s+/).filter(Boolean),
  };
}

/** The checked command line. */
export type PeerBenchOptions = ReturnType<typeof options>;
