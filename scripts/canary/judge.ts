/**
 * `npm run canary:judge`: the canary judge over the local stack's own metrics, through the same
 * port as in AWS (`CanarySeriesSource`, here the EMF adapter), printing the verdict table.
 *
 *   npm run canary:judge -- [--metrics DIR] [--since ISO | --minutes N] [--until ISO]
 *                           [--baseline FV --canary FV] [--model-dir DIR] [--stage NAME]
 *                           [--judge-stage dev|prod] [--config FILE] [--html] [--json]
 *
 * The function versions, the canary's model directory (whose card bins the histograms), the
 * stage and the window's start come from the routing file the stack wrote
 * (`<metrics dir>/routing.json`) unless flags say otherwise; the window ends now. Exit code:
 * 0 pass, 1 fail, 2 inconclusive, 3 usage or input error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EmfJudgeSource, type JudgeModelCard } from '#adapters/emf-judge-source';
import { type JudgeConfig, type JudgeConfigOverrides, judgeConfig } from '#domain/judge/config';
import { judgeCanary } from '#domain/judge/judge';
import type { JudgeWindow } from '#domain/judge/ports';
import { formatVerdict } from '#domain/judge/report';
import type { Verdict, VerdictOutcome } from '#domain/judge/types';
import { DEFAULT_MODEL_DIR } from '../local/app';
import { type CanaryRouting, readRouting } from '../local/canary';
import { ROOT } from '../local/processes';
import { type Block, reportPath, writeReport } from '../report/page';

/** Exit code of each verdict. */
export const EXIT_CODES: Readonly<Record<VerdictOutcome, number>> = { pass: 0, fail: 1, inconclusive: 2 };
const USAGE_EXIT = 3;

export interface LocalJudgeOptions {
  readonly metricsDir: string;
  readonly window: JudgeWindow;
  readonly stage: string;
  /** Function versions (`functionVersion` dimension). */
  readonly baseline: string;
  readonly canary: string;
  readonly config: JudgeConfig;
  /** The canary's model directory: its card bins both versions' histograms. */
  readonly modelDir: string;
}

/** Reads the window through the EMF adapter and judges it. */
export async function judgeLocalCanary(options: LocalJudgeOptions): Promise<Verdict> {
  const card = JSON.parse(readFileSync(join(options.modelDir, 'model.json'), 'utf8')) as JudgeModelCard;
  const source = new EmfJudgeSource({ metricsDir: options.metricsDir, stage: options.stage, card });
  const input = await source.read(options.window, options.baseline, options.canary);
  return judgeCanary(input, options.config);
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The judge's settings: the defaults, a stage's `judge.config` block, then a JSON file of overrides. */
async function loadJudgeConfig(stage: string | undefined, file: string | undefined): Promise<JudgeConfig> {
  let stageOverrides: JudgeConfigOverrides = {};
  if (stage !== undefined) {
    const { STAGES } = await import('../../infra/config/stages');
    const config = STAGES[stage];
    if (!config)
      throw new UsageError(`--judge-stage ${stage}: no such stage (${Object.keys(STAGES).join(', ')})`);
    // The stage's `judge.config` block (the overrides the judge in AWS runs with).
    stageOverrides = (config as { judge?: { config?: JudgeConfigOverrides } }).judge?.config ?? {};
  }
  const fileOverrides = file ? (JSON.parse(readFileSync(file, 'utf8')) as JudgeConfigOverrides) : {};
  const merged: Record<string, unknown> = { ...stageOverrides };
  for (const [key, value] of Object.entries(fileOverrides)) {
    const base = merged[key];
    merged[key] =
      base && typeof base === 'object' && typeof value === 'object' ? { ...base, ...value } : value;
  }
  return judgeConfig(merged as JudgeConfigOverrides);
}

/** The HTML page: the verdict, then every test as a table row. */
function htmlBlocks(verdict: Verdict): Block[] {
  const num = (value: number | undefined) =>
    value === undefined || Number.isNaN(value) ? '—' : Number(value.toPrecision(4));
  return [
    { kind: 'pre', text: formatVerdict(verdict).split('\n').slice(0, 2).join('\n') },
    {
      kind: 'table',
      caption: 'Every test: statistic, p-value (Holm-adjusted in the decision family), threshold, samples',
      columns: [
        'test',
        'outcome',
        'statistic',
        'value',
        'p',
        'baseline',
        'canary',
        'n baseline',
        'n canary',
        'threshold',
        'reason',
      ],
      rows: verdict.tests.map((t) => [
        t.test,
        t.outcome,
        t.statistic.name,
        num(t.statistic.value),
        num(t.adjustedPValue ?? t.pValue),
        num(t.baselineValue),
        num(t.canaryValue),
        t.samples.baseline,
        t.samples.canary,
        t.threshold,
        t.reason,
      ]),
    },
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      metrics: { type: 'string', default: join(ROOT, '.local-data', 'metrics') },
      since: { type: 'string' },
      minutes: { type: 'string' },
      until: { type: 'string' },
      baseline: { type: 'string' },
      canary: { type: 'string' },
      'model-dir': { type: 'string' },
      stage: { type: 'string' },
      'judge-stage': { type: 'string' },
      config: { type: 'string' },
      html: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if ((values.baseline === undefined) !== (values.canary === undefined))
    throw new UsageError('--baseline and --canary go together');
  let routing: CanaryRouting | undefined;
  if (values.baseline === undefined || (values.since === undefined && values.minutes === undefined)) {
    routing = readRouting(values.metrics);
  }
  const baseline = values.baseline ?? (routing as CanaryRouting).baseline.functionVersion;
  const canary = values.canary ?? (routing as CanaryRouting).canary.functionVersion;
  const end = values.until ? new Date(values.until) : new Date();
  let start: Date;
  if (values.since !== undefined) start = new Date(values.since);
  else if (values.minutes !== undefined) {
    const minutes = Number(values.minutes);
    if (!(minutes > 0)) throw new UsageError(`--minutes must be > 0, got ${values.minutes}`);
    start = new Date(end.getTime() - minutes * 60_000);
  } else start = new Date((routing as CanaryRouting).startedAt);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || !(start < end))
    throw new UsageError(
      `the window must be two times, start before end (got ${values.since ?? start.toISOString()} → ${values.until ?? end.toISOString()})`,
    );
  const verdict = await judgeLocalCanary({
    metricsDir: values.metrics,
    window: { start, end },
    stage: values.stage ?? routing?.stage ?? 'local',
    baseline,
    canary,
    config: await loadJudgeConfig(values['judge-stage'], values.config),
    modelDir: values['model-dir'] ?? routing?.canary.modelDir ?? DEFAULT_MODEL_DIR,
  });
  process.stdout.write(
    values.json
      ? `${JSON.stringify(verdict, null, 2)}\n`
      : `window ${start.toISOString()} → ${end.toISOString()} (${((end.getTime() - start.getTime()) / 60_000).toFixed(1)} min), metrics ${values.metrics}\n${formatVerdict(verdict)}\n`,
  );
  if (values.html) {
    const file = writeReport(reportPath(ROOT, 'canary-judge'), {
      title: `Canary judge: ${verdict.outcome}`,
      subtitle: `canary ${verdict.canary.functionVersion} (model ${verdict.canary.modelVersion}) vs baseline ${verdict.baseline.functionVersion} (model ${verdict.baseline.modelVersion}), ${start.toISOString()} → ${end.toISOString()}`,
      sections: [{ title: 'Verdict', blocks: htmlBlocks(verdict) }],
    });
    process.stderr.write(`report: ${file}\n`);
  }
  return EXIT_CODES[verdict.outcome];
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`canary:judge: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(USAGE_EXIT);
    },
  );
}
