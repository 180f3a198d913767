/**
 * `npm run data:simulate -- --cards N --days D --seed S --out FILE`
 *
 * Writes the simulated event stream ({@link simulate}) as JSON lines, one event per line,
 * with a progress bar (simulated days) and a one-line summary on stderr. The output is a
 * pure function of the arguments, so a file can be regenerated instead of stored.
 */
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import type { Label } from '#domain/types';
import {
  DEFAULT_FRAUD_RATE,
  DEFAULT_START,
  FRAUD_PATTERNS,
  type FraudPattern,
  MIN_MERCHANTS,
  parseStartDate,
  type SimulationOptions,
  simulate,
} from './simulator';

const DAY_MS = 86_400_000;

/** Bad command-line input; reported without a stack trace and exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parsed command line. */
export interface SimulateCliArgs {
  options: Required<Pick<SimulationOptions, 'cards' | 'days' | 'seed' | 'start' | 'merchants' | 'fraudRate'>>;
  out: string;
  help: boolean;
}

export const USAGE = `Usage: npm run data:simulate -- --out FILE [options]

Writes a deterministic simulated stream of authorization and label events as JSON lines.

Options:
  --out FILE          output file (required; parent directories are created)
  --cards N           number of cards (default 2000)
  --days D            length of the window in days (default 28)
  --seed S            PRNG seed, integer 0..4294967295 (default 42)
  --start YYYY-MM-DD  first day of the window, UTC (default ${DEFAULT_START})
  --merchants M       number of merchants, >= ${MIN_MERCHANTS} (default max(50, cards/20))
  --fraud-rate R      target fraud share of authorizations, (0, 0.2] (default ${DEFAULT_FRAUD_RATE})
  -h, --help          show this help
`;

function parseInteger(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  // Strict digits only: Number('1e3') or parseInt('12abc') would silently accept typos.
  if (!/^\d+$/.test(raw))
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`);
  }
  return value;
}

/**
 * Parses and validates the command line (without the node and script paths).
 *
 * @throws UsageError with a message naming the offending option
 */
export function parseSimulateArgs(argv: string[]): SimulateCliArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        cards: { type: 'string' },
        days: { type: 'string' },
        seed: { type: 'string' },
        start: { type: 'string' },
        merchants: { type: 'string' },
        'fraud-rate': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const str = (key: string) => values[key] as string | undefined;
  const help = values.help === true;
  const cards = parseInteger('cards', str('cards'), 2000, 1, 1_000_000);
  const days = parseInteger('days', str('days'), 28, 1, 366);
  const seed = parseInteger('seed', str('seed'), 42, 0, 0xffffffff);
  const merchants = parseInteger(
    'merchants',
    str('merchants'),
    Math.max(50, Math.floor(cards / 20)),
    MIN_MERCHANTS,
    1_000_000,
  );
  const start = str('start') ?? DEFAULT_START;
  try {
    parseStartDate(start);
  } catch {
    throw new UsageError(`--start must be an ISO date YYYY-MM-DD, got ${JSON.stringify(start)}`);
  }
  const rawRate = str('fraud-rate');
  const fraudRate = rawRate === undefined ? DEFAULT_FRAUD_RATE : Number(rawRate);
  if (rawRate !== undefined && (rawRate.trim() === '' || !(fraudRate > 0 && fraudRate <= 0.2))) {
    throw new UsageError(`--fraud-rate must be a number in (0, 0.2], got ${JSON.stringify(rawRate)}`);
  }
  const out = str('out');
  if (!help && (out === undefined || out.trim() === '')) throw new UsageError('--out FILE is required');
  return { options: { cards, days, seed, start, merchants, fraudRate }, out: out ?? '', help };
}

/** Counts for the final summary. */
interface Summary {
  events: number;
  authorizations: number;
  fraud: number;
  declined: number;
  patterns: Record<FraudPattern, number>;
  labels: Record<Label, number>;
}

function formatSummary(s: Summary, seconds: number, out: string): string {
  const rate = s.authorizations === 0 ? 0 : (100 * s.fraud) / s.authorizations;
  const patterns = FRAUD_PATTERNS.map((p) => `${p}=${s.patterns[p]}`).join(' ');
  const labels = Object.entries(s.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return (
    `simulated events=${s.events} authorizations=${s.authorizations} declined=${s.declined} ` +
    `fraud=${s.fraud} (${rate.toFixed(2)} %) [${patterns}] labels: ${labels} ` +
    `elapsed=${seconds.toFixed(1)}s -> ${out}`
  );
}

/** Lines are batched into one write to keep per-call stream overhead off the hot path. */
const BATCH_LINES = 1000;

/**
 * Runs the command. Resolves to the process exit code: 0 on success, 2 on bad arguments,
 * 1 when the simulation or the write fails. Writes only to stderr and the output file.
 */
export async function runSimulateCli(argv: string[]): Promise<number> {
  let args: SimulateCliArgs;
  try {
    args = parseSimulateArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  const { options, out } = args;
  const startedAt = process.hrtime.bigint();
  const bar = new SingleBar(
    { format: 'simulating |{bar}| {value}/{total} days | {events} events | {duration}s', hideCursor: true },
    Presets.shades_classic,
  );
  const summary: Summary = {
    events: 0,
    authorizations: 0,
    fraud: 0,
    declined: 0,
    patterns: { card_testing: 0, account_takeover: 0, bust_out: 0 },
    labels: { chargeback: 0, confirmed_fraud: 0, confirmed_legitimate: 0 },
  };
  try {
    // Only when missing: Node 20's recursive mkdir never settles for some paths (e.g. under /proc).
    if (!existsSync(dirname(out))) await mkdir(dirname(out), { recursive: true });
    const stream = createWriteStream(out, { encoding: 'utf8' });
    // Without a listener an 'error' while we are not awaiting would crash the process;
    // the failure is surfaced by the next once()/finished() instead.
    let streamError: Error | undefined;
    stream.on('error', (error) => {
      streamError = error;
    });
    await once(stream, 'open');
    bar.start(options.days, 0, { events: 0 });
    const startMs = parseStartDate(options.start);
    // ISO timestamps of one format compare lexicographically, so the day boundary check
    // needs no Date.parse per event.
    let day = 0;
    let boundary = new Date(startMs + DAY_MS).toISOString();
    let batch: string[] = [];
    const flush = async () => {
      if (streamError) throw streamError;
      const ok = stream.write(`${batch.join('\n')}\n`);
      batch = [];
      if (!ok) await once(stream, 'drain');
    };
    for (const event of simulate(options)) {
      while (day < options.days && event.timestamp >= boundary) {
        day++;
        boundary = new Date(startMs + (day + 1) * DAY_MS).toISOString();
        bar.update(day, { events: summary.events });
      }
      summary.events++;
      if (event.type === 'authorization') {
        summary.authorizations++;
        if (event.outcome === 'declined') summary.declined++;
        if (event.sim.pattern !== 'legit') {
          summary.fraud++;
          summary.patterns[event.sim.pattern]++;
        }
      } else {
        summary.labels[event.label]++;
      }
      batch.push(JSON.stringify(event));
      if (batch.length >= BATCH_LINES) await flush();
    }
    if (batch.length > 0) await flush();
    bar.update(options.days, { events: summary.events });
    bar.stop();
    stream.end();
    await finished(stream);
    if (streamError) throw streamError;
  } catch (error) {
    bar.stop();
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return 1;
  }
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  process.stderr.write(`${formatSummary(summary, seconds, out)}\n`);
  return 0;
}

if (require.main === module) {
  runSimulateCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
