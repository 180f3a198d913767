/**
 * `npm run score:batch -- --in PATH --out PATH [--history PATH] [--model DIR] [--policy FILE]`
 *
 * Scores a file of `/v1/score` requests (JSON lines, or CSV with a header row naming the
 * request fields) through the score function's own path: each line is validated by the API's
 * body parser (size, depth, raw card numbers, schema) and scored by `scoreTransaction` with
 * the deployed model and policy, against the feature state an optional history (`/v1/events`
 * JSONL, `.gz` or a directory) had built up just before the request's time.
 *
 * Every input line gives one output line, in input order: `{"line":N,"response":{…}}` (the
 * API's answer) or `{"line":N,"error":{"code","message","field?"}}` (the API's error), so
 * nothing is lost and every problem names its line.
 */

import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { InMemoryScoringStore } from '#adapters/in-memory-scoring-store';
import { scoreRequestSchema, type ValidScoreRequest } from '#domain/contract';
import { FraudScoringError } from '#domain/errors';
import type { ScoreOutcome } from '#domain/score';
import { parseBody } from '#shared/http';
import { formatBadLines, readEvents } from '../models/training/event-source';
import { CURRENT_MODEL_DIR, CURRENT_POLICY, loadArm, scoreWith } from './backtest/arm';

export const USAGE = `usage: npm run score:batch -- --in PATH --out PATH [--history PATH] [--model DIR] [--policy FILE] [--format jsonl|csv]

  --in PATH        score requests: JSON lines (one /v1/score body per line) or CSV with a header row
  --out PATH       JSON lines out, one per input line: {"line","response"} or {"line","error"}
  --history PATH   /v1/events history (JSONL, .gz or directory) that builds the features before each request
  --model DIR      model directory (default: the deployed one)
  --policy FILE    decision policy (default: functions/score/policy.json)
  --format F       input format; by default .csv means CSV and anything else JSON lines`;

/** Bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One input record: its 1-based line and its body as the API would receive it. */
export interface InputRecord {
  readonly line: number;
  readonly body: string;
}

/** Numeric request fields: CSV cells are text, the API takes these as JSON numbers. */
const NUMERIC_FIELDS = new Set(['amount']);

/** Splits CSV text into records of cells (RFC 4180: quoted cells, doubled quotes, newlines inside quotes). */
export function csvRecords(text: string): { line: number; cells: string[] }[] {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let touched = false;
  const endRecord = () => {
    cells.push(cell);
    if (touched || cells.length > 1 || cell !== '') records.push({ line: recordLine, cells });
    cells = [];
    cell = '';
    touched = false;
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line += 1;
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
      touched = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      touched = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      endRecord();
      line += 1;
      recordLine = line;
    } else {
      cell += c;
    }
  }
  if (cell !== '' || cells.length > 0 || touched) endRecord();
  return records;
}

/** Reads the input file into records whose `body` is JSON text, whatever the format. */
export function readInput(path: string, format: 'jsonl' | 'csv'): InputRecord[] {
  const text = readFileSync(path, 'utf8');
  if (format === 'jsonl') {
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.map((body, i) => ({ line: i + 1, body }));
  }
  const [header, ...rows] = csvRecords(text);
  if (header === undefined) return [];
  const columns = header.cells.map((c) => c.trim());
  return rows.map(({ line, cells }) => {
    const object: Record<string, string | number> = {};
    columns.forEach((column, k) => {
      const value = cells[k];
      if (value === undefined || value === '') return;
      const number = Number(value);
      object[column] =
        NUMERIC_FIELDS.has(column) && value.trim() !== '' && Number.isFinite(number) ? number : value;
    });
    // More cells than columns would silently drop data: keep them so the schema names them.
    cells.slice(columns.length).forEach((value, k) => {
      object[`column_${columns.length + k + 1}`] = value;
    });
    return { line, body: JSON.stringify(object) };
  });
}

/** The API's error body for a failed line (unknown failures as the API answers them: no details). */
function errorOf(error: unknown): { code: string; message: string; field?: string } {
  if (error instanceof FraudScoringError && error.code) {
    const field = (error as { field?: string }).field;
    return { code: error.code, message: error.message, ...(field ? { field } : {}) };
  }
  return { code: 'INTERNAL_ERROR', message: (error as Error)?.message ?? String(error) };
}

export interface ScoreBatchOptions {
  in: string;
  out: string;
  history?: string;
  model?: string;
  policy?: string;
  format?: 'jsonl' | 'csv';
  /** Progress bar on stderr. @default true */
  progress?: boolean;
  /** Requests in flight at once. @default 1024 */
  window?: number;
}

export interface ScoreBatchResult {
  lines: number;
  scored: number;
  errors: number;
  decisions: Record<string, number>;
  seconds: number;
  linesPerSecond: number;
  /** The first errors, for the terminal. */
  firstErrors: string[];
}

export function parseScoreBatchArgs(argv: string[]): ScoreBatchOptions {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        in: { type: 'string' },
        out: { type: 'string' },
        history: { type: 'string' },
        model: { type: 'string' },
        policy: { type: 'string' },
        format: { type: 'string' },
      },
      strict: true,
    }) as { values: Record<string, string | undefined> });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!values.in || !values.out) throw new UsageError('--in and --out are required');
  if (values.format !== undefined && values.format !== 'jsonl' && values.format !== 'csv')
    throw new UsageError(`--format must be jsonl or csv, got ${values.format}`);
  if (resolve(values.in) === resolve(values.out)) throw new UsageError('--out must not be the input file');
  return {
    in: values.in,
    out: values.out,
    history: values.history,
    model: values.model,
    policy: values.policy,
    format: values.format as 'jsonl' | 'csv' | undefined,
  };
}

export async function scoreBatch(options: ScoreBatchOptions): Promise<ScoreBatchResult> {
  const format = options.format ?? (/\.csv$/i.test(options.in) ? 'csv' : 'jsonl');
  const arm = await loadArm('batch', options.model ?? CURRENT_MODEL_DIR, options.policy ?? CURRENT_POLICY);
  const records = readInput(options.in, format);
  const history = options.history ? await readEvents(options.history) : undefined;
  if (history && history.source.badLineCount > 0)
    process.stderr.write(`history: ${formatBadLines({ ...history.source, badLines: history.badLines })}\n`);

  const started = performance.now();
  const results = new Array<string>(records.length);
  const valid: { index: number; request: ValidScoreRequest; ms: number }[] = [];
  const firstErrors: string[] = [];
  let errors = 0;
  const fail = (index: number, error: unknown) => {
    const record = records[index] as InputRecord;
    const body = errorOf(error);
    results[index] = JSON.stringify({ line: record.line, error: body });
    errors += 1;
    if (firstErrors.length < 20)
      firstErrors.push(
        `${options.in}:${record.line}: ${body.code}${body.field ? ` (${body.field})` : ''}: ${body.message}`,
      );
  };
  records.forEach((record, index) => {
    try {
      const request = parseBody(
        { body: record.body, isBase64Encoded: false },
        scoreRequestSchema,
      ) as ValidScoreRequest;
      valid.push({ index, request, ms: Date.parse(request.timestamp) });
    } catch (error) {
      fail(index, error);
    }
  });
  // With a history, requests are scored in time order so each sees only what came before it.
  if (history) valid.sort((a, b) => a.ms - b.ms || a.index - b.index);

  const bar =
    options.progress === false
      ? undefined
      : new SingleBar({
          format: 'score:batch [{bar}] {percentage}% | {value}/{total} lines | {eta}s left',
          stream: process.stderr,
          noTTYOutput: true,
          notTTYSchedule: 5000,
        });
  bar?.start(records.length, errors);
  // In place, with a copy per request's snapshot: the history usually outnumbers the requests.
  const store = new InMemoryScoringStore({ inPlace: true });
  const decisions: Record<string, number> = { approve: 0, review: 0, decline: 0 };
  const window = options.window ?? 1024;
  let next = 0;
  let inFlight: { index: number; outcome: Promise<ScoreOutcome> }[] = [];
  const drain = async () => {
    const settled = await Promise.allSettled(inFlight.map((f) => f.outcome));
    settled.forEach((s, k) => {
      const index = (inFlight[k] as { index: number }).index;
      if (s.status === 'fulfilled') {
        const { response } = s.value;
        decisions[response.decision] = (decisions[response.decision] ?? 0) + 1;
        results[index] = JSON.stringify({ line: (records[index] as InputRecord).line, response });
      } else fail(index, s.reason);
    });
    inFlight = [];
    bar?.update(errors + Object.values(decisions).reduce((a, b) => a + b, 0));
  };
  for (const { index, request, ms } of valid) {
    if (history) {
      while (next < history.events.length && (history.times[next] as number) < ms) {
        store.apply(history.events[next] as Parameters<typeof store.apply>[0], history.times[next] as number);
        next += 1;
      }
    }
    const snapshot = store.snapshot({ cardId: request.cardId, merchantId: request.merchantId }, ms);
    inFlight.push({ index, outcome: scoreWith(arm, snapshot, request) });
    if (inFlight.length >= window) await drain();
  }
  await drain();
  bar?.stop();

  const out = createWriteStream(options.out);
  for (const line of results) if (!out.write(`${line}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  const seconds = (performance.now() - started) / 1000;
  return {
    lines: records.length,
    scored: records.length - errors,
    errors,
    decisions,
    seconds,
    linesPerSecond: records.length / seconds,
    firstErrors,
  };
}

async function main(argv: string[]): Promise<void> {
  const options = parseScoreBatchArgs(argv);
  const result = await scoreBatch(options);
  const lines = [
    `score:batch: ${result.lines} lines from ${options.in} → ${options.out}`,
    `  scored ${result.scored} (${Object.entries(result.decisions)
      .map(([d, n]) => `${d} ${n}`)
      .join(', ')}), errors ${result.errors}`,
    `  ${result.seconds.toFixed(1)} s, ${Math.round(result.linesPerSecond)} lines/s`,
    ...result.firstErrors,
    ...(result.errors > result.firstErrors.length
      ? [`  … and ${result.errors - result.firstErrors.length} more errors (in ${options.out})`]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (result.errors > 0) process.exitCode = 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`score:batch: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`score:batch failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
