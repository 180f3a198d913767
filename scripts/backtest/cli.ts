/**
 * `npm run backtest -- --events PATH [--policy FILE] [--model DIR] [--baseline current]`
 *
 * Replays a labelled history (`/v1/events` JSONL, `.gz` or a directory, read by
 * `models/training/event-source.ts`) through the scoring functions in memory and compares a
 * candidate (the given policy and/or model) with the baseline (what is deployed: the default
 * model and `functions/score/policy.json`). Prints a side-by-side summary and writes
 * `reports/backtest-<time>.html` plus `…-changes.jsonl` with every transaction whose decision
 * changes.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import type { OnnxModelRunner } from '#adapters/onnx-model-runner';
import { DEFAULT_MAX_BAD_FRACTION, formatBadLines, readEvents } from '../../models/training/event-source';
import { reportPath, writeReport } from '../report/page';
import { type Arm, CURRENT_MODEL_DIR, CURRENT_POLICY, loadArm, ROOT } from './arm';
import { replayHistory } from './replay';
import { htmlReport, terminalSummary } from './report';
import { BacktestTally } from './tally';

export const USAGE = `usage: npm run backtest -- --events PATH [--policy FILE] [--model DIR] [--baseline current] [--out FILE] [--max-bad-fraction F]

  --events PATH          labelled history: /v1/events JSON lines, .gz, or a directory of them
  --policy FILE          candidate decision policy (default: the baseline's)
  --model DIR            candidate model directory with model.onnx and model.json (default: the baseline's)
  --baseline current     what to compare with: the deployed model and policy (the only choice today)
  --out FILE             HTML report path (default reports/backtest-<time>.html)
  --max-bad-fraction F   share of bad input lines tolerated before refusing (default ${DEFAULT_MAX_BAD_FRACTION})`;

/** Bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface BacktestOptions {
  events: string;
  policy?: string;
  model?: string;
  out?: string;
  maxBadFraction?: number;
  /** Progress bar on stderr. @default true */
  progress?: boolean;
}

export function parseBacktestArgs(argv: string[]): BacktestOptions {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        events: { type: 'string' },
        policy: { type: 'string' },
        model: { type: 'string' },
        baseline: { type: 'string', default: 'current' },
        out: { type: 'string' },
        'max-bad-fraction': { type: 'string' },
      },
      strict: true,
    }) as { values: Record<string, string | undefined> });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!values.events) throw new UsageError('--events is required');
  if (values.baseline !== 'current')
    throw new UsageError(`--baseline must be "current", got "${values.baseline}"`);
  const fraction = values['max-bad-fraction'] === undefined ? undefined : Number(values['max-bad-fraction']);
  if (fraction !== undefined && !(fraction >= 0 && fraction <= 1))
    throw new UsageError(`--max-bad-fraction must be in [0, 1], got ${values['max-bad-fraction']}`);
  return {
    events: values.events,
    policy: values.policy,
    model: values.model,
    out: values.out,
    maxBadFraction: fraction,
  };
}

export interface BacktestResult {
  tally: BacktestTally;
  arms: Arm[];
  summary: string;
  reportFile: string;
  changesFile: string;
  eventsPerSecond: number;
  eventsPerCpuSecond: number;
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const started = performance.now();
  const source = await readEvents(options.events, { maxBadFraction: options.maxBadFraction });
  if (source.source.badLineCount > 0)
    process.stderr.write(`${formatBadLines({ ...source.source, badLines: source.badLines })}\n`);
  if (source.source.labels === 0)
    process.stderr.write(
      'backtest: the history has no label events; every transaction counts as legitimate\n',
    );

  const models = new Map<string, OnnxModelRunner>();
  const arms = [
    await loadArm('baseline', CURRENT_MODEL_DIR, CURRENT_POLICY, models),
    await loadArm(
      'candidate',
      resolve(options.model ?? CURRENT_MODEL_DIR),
      resolve(options.policy ?? CURRENT_POLICY),
      models,
    ),
  ];
  if (!options.model && !options.policy)
    process.stderr.write('backtest: no --policy or --model given; the candidate is the baseline\n');

  const out = options.out ?? reportPath(ROOT, 'backtest');
  const changesFile = `${out.replace(/\.html$/, '')}-changes.jsonl`;
  const changes: string[] = [];
  const tally = new BacktestTally(
    arms.map((a) => a.name),
    (change) => changes.push(JSON.stringify(change)),
  );
  const bar =
    options.progress === false
      ? undefined
      : new SingleBar({
          format: 'backtest [{bar}] {percentage}% | {value}/{total} events | {eta}s left',
          stream: process.stderr,
          noTTYOutput: true,
          notTTYSchedule: 5000,
        });
  bar?.start(source.events.length, 0);
  const replayStarted = performance.now();
  const cpuStarted = process.cpuUsage();
  await replayHistory(source.events, source.times, arms, (row) => tally.add(row), {
    onProgress: (done) => bar?.update(done),
  });
  bar?.stop();
  const replaySeconds = (performance.now() - replayStarted) / 1000;
  const eventsPerSecond = source.events.length / replaySeconds;
  // Per CPU-second too: on a shared machine the wall-clock rate says more about the neighbours.
  const cpu = process.cpuUsage(cpuStarted);
  const eventsPerCpuSecond = source.events.length / ((cpu.user + cpu.system) / 1e6);

  writeFileSync(changesFile, changes.length > 0 ? `${changes.join('\n')}\n` : '');
  const run = {
    source: options.events,
    events: source.events.length,
    badLines: source.source.badLineCount,
    seconds: (performance.now() - started) / 1000,
    replaySeconds,
    eventsPerSecond,
    eventsPerCpuSecond,
    changesFile,
  };
  const summary = terminalSummary(tally, arms, run);
  writeReport(out, htmlReport(tally, arms, run));
  return { tally, arms, summary, reportFile: out, changesFile, eventsPerSecond, eventsPerCpuSecond };
}

async function main(argv: string[]): Promise<void> {
  const options = parseBacktestArgs(argv);
  const result = await runBacktest(options);
  process.stdout.write(`${result.summary}\n  report: ${result.reportFile}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`backtest: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`backtest failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
