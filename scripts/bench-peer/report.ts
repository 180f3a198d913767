/**
 * What `npm run bench:peer` reports: the comparison table (one row per concurrency, figures as a
 * range when several rounds ran, like the issue's table, and the throughput ratio this project
 * ÷ peer), every cell, and the report file with the setup and what the peer skips.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR, ROOT } from '../local/app';
import { type CellResult, summarize } from './load';
import type { PeerBenchOptions } from './options';
import type { ParityReport } from './parity';
import type { SeededState } from './population';
import { PYTHON } from './processes';

/** What the peer does not do that the project does (printed with every result). */
export const PEER_SKIPS = [
  'reason codes (the project scores the row plus one perturbed row per non-default feature, up to 22 rows, in one inference call)',
  'idempotency (the project reads a stored answer in the same BatchGetItem and stores each answer with a conditional write; see docs/scoring-path.md)',
  'PAN check and strict schema validation with machine-readable errors (the peer checks only the fields it reads)',
  'the decision policy rules (the peer applies the model card thresholds only)',
  'the feature freshness check, the feature-read timeout budget, metrics, structured logs, tracing and Server-Timing',
  'keep-alive (gunicorn sync workers close the connection after each answer, so every request opens a new one)',
];

const fmt = (values: number[], digits: number): string => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo.toFixed(digits) === hi.toFixed(digits)
    ? lo.toFixed(digits)
    : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`;
};

function figures(cells: readonly CellResult[]): string {
  const s = cells.map(summarize);
  const rps = fmt(
    s.map((x) => x.rps),
    0,
  );
  const latency = `${fmt(
    s.map((x) => x.p50),
    1,
  )} / ${fmt(
    s.map((x) => x.p99),
    1,
  )}`;
  // Bad answers are not in the throughput; say how many there were, right in the table.
  const count = (key: 'non200' | 'degraded' | 'failed') => cells.reduce((n, c) => n + c[key], 0);
  const bad = [
    [count('degraded'), 'degraded'],
    [count('non200'), 'non-200'],
    [count('failed'), 'unanswered'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, label]) => `${n} ${label}`);
  return `${rps} · ${latency}${bad.length > 0 ? ` (${bad.join(', ')})` : ''}`;
}

/** The markdown table; `ours` and `peer` name the two targets in `cells`. */
export function comparisonTable(
  cells: readonly CellResult[],
  ours: string,
  peer: string,
  peerLabel: string,
): string {
  const levels = [...new Set(cells.map((c) => c.concurrency))].sort((a, b) => a - b);
  const rows = levels.map((level) => {
    const mine = cells.filter((c) => c.concurrency === level && c.target === ours);
    const theirs = cells.filter((c) => c.concurrency === level && c.target === peer);
    // Ratios per round, pairing the cells of the same round in order.
    const ratios = mine
      .map((m, i) => {
        const t = theirs[i];
        return t ? summarize(m).rps / summarize(t).rps : Number.NaN;
      })
      .filter((r) => Number.isFinite(r));
    const ratio = ratios.length > 0 ? fmt(ratios, 2) : 'n/a';
    return `| ${level} | ${mine.length ? figures(mine) : 'n/a'} | ${theirs.length ? figures(theirs) : 'n/a'} | ${ratio} |`;
  });
  return [
    `| concurrency | this project (rps · p50/p99 ms) | ${peerLabel} (rps · p50/p99 ms) | throughput ratio |`,
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** Every cell in run order, with its error counts. */
export function cellsTable(cells: readonly CellResult[]): string {
  const rows = cells.map((c) => {
    const s = summarize(c);
    const answered = c.latencies.length;
    return `| ${c.target} | ${c.concurrency} | ${c.seconds.toFixed(1)} | ${answered} | ${s.rps.toFixed(1)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${c.non200} | ${c.degraded} | ${c.failed} |`;
  });
  return [
    '| target | concurrency | seconds | answers | good rps | p50 ms | p99 ms | non-200 | degraded | no answer |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The commit measured, and whether the work tree differed from it. */
function gitRevision(): string {
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return `${result.stdout.trim() || 'unknown'}${dirty.stdout.trim() ? ' (with uncommitted changes)' : ''}`;
}

/** Writes `reports/bench-peer-<time>.md`: the table, the setup, what the peer skips, every cell; returns its path. */
export function writeReport(input: {
  opts: PeerBenchOptions;
  model: Record<string, unknown>;
  parity: ParityReport;
  state: SeededState;
  table: string;
  cells: CellResult[];
  peerLabel: string;
  loads: number[];
  stackReady: string;
}): string {
  const { opts, parity, state } = input;
  const card = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'model.json'), 'utf8'));
  const python = spawnSync(
    PYTHON,
    [
      '-c',
      'import sys, flask, boto3, sklearn, gunicorn; print(sys.version.split()[0], flask.__version__, boto3.__version__, sklearn.__version__, gunicorn.__version__)',
    ],
    {
      encoding: 'utf8',
    },
  )
    .stdout.trim()
    .split(' ');
  const totals = input.cells.reduce(
    (t, c) => ({
      non200: t.non200 + c.non200,
      degraded: t.degraded + c.degraded,
      failed: t.failed + c.failed,
    }),
    { non200: 0, degraded: 0, failed: 0 },
  );
  const when = new Date().toISOString();
  const lines = [
    `# Peer benchmark, ${when}`,
    '',
    `\`npm run bench:peer -- --seconds ${opts.seconds} --concurrency ${opts.levels.join(',')} --rounds ${opts.rounds}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; code at ${gitRevision()}. The load generator runs on the same machine.`,
    '',
    input.table,
    '',
    `1-minute load average during the cells: ${Math.min(...input.loads).toFixed(1)}–${Math.max(...input.loads).toFixed(1)} on ${cpus().length} cores${Math.max(...input.loads) > cpus().length ? ' (the machine was busy with other work: treat the figures as noisy)' : ''}.`,
    '',
    `Throughput counts 200 answers with \`degraded: []\`; latency percentiles cover every answer. Across all cells: ${totals.non200} non-200, ${totals.degraded} degraded, ${totals.failed} without an answer.`,
    '',
    '## Setup',
    '',
    `- **This project**: \`npm start -- --in-memory --neural off --cards ${opts.population.cards} --days ${opts.population.days} --seed ${opts.population.seed}${opts.stackArgs.length ? ` ${opts.stackArgs.join(' ')}` : ''}\` as its own process (fraud-gbdt ${card.version}: ${card.training.hyperparameters.trees} trees, ${card.training.hyperparameters.leaves} leaves). It said: “${input.stackReady}”.`,
    `- **Peer** (\`scripts/bench-peer/peer/\`): Flask ${python[1]} + boto3 ${python[2]} + scikit-learn ${python[3]} under gunicorn ${python[4]} (${input.peerLabel}, one OpenMP thread each; they close the connection after each answer), Python ${python[0]}, its own dynalite process. Model: HistGradientBoostingClassifier with fraud-gbdt's hyperparameters, ${String(input.model.trees)} trees and ${String(input.model.leaves)} leaves (fraud-gbdt: ${card.training.hyperparameters.trees} / ${card.training.hyperparameters.leaves}), trained on ${String(input.model.rows)} simulated rows.`,
    `- **Same data**: the peer's dynalite holds the ${state.items.length} items \`npm start\` seeds (same simulator, seed and window from ${state.windowStart}, folded by \`FeatureAccumulator\` and written by \`bulkWrite\`). The request mix is the seeded cards' next authorizations (5,000, cycled), the same sequence for both targets, each with a distinct transaction id; ${state.ambiguousCards.size} cards and ${state.ambiguousMerchants.size} merchants with an event while the stack was seeding are left out.`,
    `- **Load**: one Node closed-loop generator (keep-alive \`http.Agent\`), ${opts.seconds} s per cell after a ${opts.warmup} s warm-up per target, concurrency ${opts.levels.join(', ')}, ${opts.rounds} round(s), targets alternating cell by cell.`,
    `- **Parity** (checked before measuring): ${parity.cases} requests (including an unknown card, an unknown merchant, no device and a new device): ${parity.exact} of ${parity.values} feature values identical to \`featureVector\`, ${parity.ulp} within one ulp (glibc and V8 \`log1p\` differ in the last bit on a few amounts), 0 mismatches; the stack's score equals fraud-gbdt on the same vectors for ${parity.stackScores - parity.stackMismatches.length} of ${parity.stackScores}, so both stores hold the same state (${parity.retries} degraded answers were asked again with a fresh id).`,
    '',
    '## What the peer skips',
    '',
    ...PEER_SKIPS.map((s) => `- ${s}`),
    '',
    '## Every cell, in run order',
    '',
    cellsTable(input.cells),
    '',
  ];
  const dir = join(ROOT, 'reports');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-peer-${when.replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, lines.join('\n'));
  return file;
}
