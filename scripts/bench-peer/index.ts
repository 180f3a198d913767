/**
 * `npm run bench:peer`: the local stack against the service a Python team would write from the
 * same design in an afternoon (`peer/`: Flask + boto3 + scikit-learn under gunicorn with 2 sync
 * workers, its own dynalite), on this machine, with one load generator.
 *
 *   npm run bench:peer -- [--seconds 20] [--concurrency 1,4,16] [--rounds 1] [--warmup 3]
 *                         [--cards 500] [--days 14] [--seed 7] [--parity 40] [--workers 2]
 *                         [--stack-args='--workers 2']   (extra npm start flags; note the =)
 *
 * Steps: install the peer's Debian packages if missing; train (or reuse) the peer's model, a
 * HistGradientBoostingClassifier of fraud-gbdt's size, cached in `scripts/bench-peer/.cache/`;
 * start the local stack with `npm start -- --in-memory` and wait for its URL; start the peer's
 * dynalite and load it with the items `npm start` seeds (same simulator, seed, window and
 * folding code); start the peer; check parity (refuses to measure if it fails): the peer's
 * 21 features equal the project's `featureVector` on every check request, and the stack's
 * score equals fraud-gbdt on that same vector (so both stores hold the same state); warm up;
 * then alternate the targets cell by cell at each concurrency. Prints the table and writes
 * `reports/bench-peer-<time>.md`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDynamoClients } from '#adapters/dynamo-client';
import { bulkWrite } from '#adapters/feature-bulk-loader';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import { FEATURE_NAMES, FEATURE_SPEC_VERSION } from '#domain/features';
import type { ScoreRequest } from '#domain/types';
import { FEATURE_TABLE } from '#shared/table-schema';
import { DEFAULT_MODEL_DIR, ROOT, SEED_DEFAULTS } from '../local/app';
import { ensureTable } from '../local/dynamo-local';
import { type CellResult, runCell, summarize } from './load';
import {
  expectedFeatures,
  type Population,
  requestMix,
  type SeededState,
  seededState,
  trainingTable,
} from './population';
import {
  ensurePythonPackages,
  freePort,
  PEER_PACKAGES,
  PYTHON,
  startDynaliteProcess,
  startLocalStack,
  startPeer,
  stopAll,
} from './processes';
import { cellsTable, comparisonTable } from './report';

const HERE = __dirname;
const PEER_DIR = join(HERE, 'peer');
const CACHE_DIR = join(HERE, '.cache');
const PEER_TABLE = 'peer-features';
const OURS = 'this project';
const PEER = 'peer';
/** The peer's model is trained on its own simulated population (not the benchmark's). */
const TRAINING = { cards: 4000, days: 14, seed: 42, maxRows: 80_000 } as const;

/** What the peer does not do that the project does (printed with every result). */
export const PEER_SKIPS = [
  'reason codes (the project scores the row plus one perturbed row per non-default feature, up to 22 rows, in one inference call)',
  'idempotency (the project reads a stored answer in the same BatchGetItem and stores each answer with a conditional write; see docs/scoring-path.md)',
  'PAN check and strict schema validation with machine-readable errors (the peer checks only the fields it reads)',
  'the decision policy rules (the peer applies the model card thresholds only)',
  'the feature freshness check, the feature-read timeout budget, metrics, structured logs, tracing and Server-Timing',
  'keep-alive (gunicorn sync workers close the connection after each answer, so every request opens a new one)',
];

const log = (line: string) => process.stderr.write(`[bench:peer] ${line}\n`);

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

function options() {
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

/** Trains the peer's model once per (trainer, hyperparameters, features, sklearn) and caches it. */
function peerModel(): { path: string; size: Record<string, unknown> } {
  const card = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'model.json'), 'utf8'));
  const sklearn = spawnSync(PYTHON, ['-c', 'import sklearn; print(sklearn.__version__)'], {
    encoding: 'utf8',
  });
  const key = createHash('sha256')
    .update(readFileSync(join(PEER_DIR, 'train.py')))
    .update(JSON.stringify(card.training.hyperparameters))
    .update(JSON.stringify(TRAINING))
    .update(FEATURE_SPEC_VERSION)
    .update(sklearn.stdout)
    .digest('hex')
    .slice(0, 16);
  const dir = join(CACHE_DIR, `model-${key}`);
  const path = join(dir, 'model.pkl');
  const sizeFile = join(dir, 'size.json');
  if (existsSync(path) && existsSync(sizeFile)) {
    log(`peer model: cached ${path}`);
    return { path, size: JSON.parse(readFileSync(sizeFile, 'utf8')) };
  }
  mkdirSync(dir, { recursive: true });
  log(
    `peer model: exporting features (${TRAINING.cards} cards, ${TRAINING.days} days, seed ${TRAINING.seed})`,
  );
  const table = trainingTable(TRAINING);
  const csv = join(dir, 'features.csv');
  writeFileSync(csv, table.csv);
  log(`peer model: training on ${table.rows} rows (${table.positives} fraud) with /usr/bin/python3`);
  const result = spawnSync(
    PYTHON,
    [
      join(PEER_DIR, 'train.py'),
      '--features',
      csv,
      '--card',
      join(DEFAULT_MODEL_DIR, 'model.json'),
      '--out',
      `${path}.tmp`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`training the peer's model failed (${result.status})`);
  spawnSync('mv', [`${path}.tmp`, path]);
  writeFileSync(sizeFile, result.stdout);
  return { path, size: JSON.parse(result.stdout) };
}

interface ParityReport {
  cases: number;
  values: number;
  exact: number;
  /** Values that differ by at most one unit in the last place (libm vs V8 `log1p`). */
  ulp: number;
  mismatches: string[];
  stackScores: number;
  stackMismatches: string[];
  /** Answers asked again because they came back degraded (feature read over budget). */
  retries: number;
}

/** Largest gap counted as "one ulp" between two doubles of this size. */
function withinUlp(a: number, b: number): boolean {
  return Math.abs(a - b) <= Number.EPSILON * Math.max(1, Math.abs(a), Math.abs(b));
}

async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Peer features vs the project's `featureVector`; stack score vs fraud-gbdt on that vector. */
/**
 * Posts until an answer is not degraded (at most 3 tries, a fresh transaction id each): on a
 * busy machine the stack's 60 ms feature budget can run out, and a default-feature answer
 * says nothing about parity. Every retry is counted in the report.
 */
async function undegraded(
  url: string,
  request: ScoreRequest,
  onRetry: () => void,
): Promise<{ status: number; json: Record<string, unknown> }> {
  let answer = await postJson(url, request);
  for (let attempt = 1; attempt < 3; attempt += 1) {
    const degraded = answer.json.degraded;
    if (answer.status !== 200 || (Array.isArray(degraded) && degraded.length === 0)) break;
    onRetry();
    answer = await postJson(url, { ...request, transactionId: `${request.transactionId}-retry${attempt}` });
  }
  return answer;
}

/** Peer features vs the project's `featureVector`; stack score vs fraud-gbdt on that vector. */
async function checkParity(
  cases: ScoreRequest[],
  state: SeededState,
  peerUrl: string,
  stackUrl: string,
  run: string,
): Promise<ParityReport> {
  const model = await OnnxModelRunner.load(DEFAULT_MODEL_DIR);
  const report: ParityReport = {
    cases: cases.length,
    values: 0,
    exact: 0,
    ulp: 0,
    mismatches: [],
    stackScores: 0,
    stackMismatches: [],
    retries: 0,
  };
  const retried = () => {
    report.retries += 1;
  };
  const describe = (answer: { status: number; json: unknown }) =>
    `${answer.status} ${JSON.stringify(answer.json).slice(0, 200)}`;
  for (const [i, template] of cases.entries()) {
    const request = { ...template, transactionId: `${run}-parity-${i}` };
    const expected = expectedFeatures(state, request);
    const peer = await undegraded(`${peerUrl}/v1/features`, request, retried);
    const got = peer.json.features as number[] | undefined;
    if (peer.status !== 200 || !Array.isArray(got) || got.length !== expected.length) {
      report.mismatches.push(`case ${i}: peer answered ${describe(peer)}`);
      continue;
    }
    if ((peer.json.degraded as unknown[]).length > 0) {
      report.mismatches.push(`case ${i}: peer features degraded 3 times: ${describe(peer)}`);
      continue;
    }
    expected.forEach((value, k) => {
      report.values += 1;
      const other = got[k] as number;
      if (other === value) report.exact += 1;
      else if (withinUlp(value, other)) report.ulp += 1;
      else
        report.mismatches.push(
          `case ${i} (${request.cardId}, ${request.merchantId}): ${FEATURE_NAMES[k]} = ${other}, expected ${value}`,
        );
    });
    const peerScore = await undegraded(`${peerUrl}/v1/score`, request, retried);
    const score = peerScore.json.score;
    if (peerScore.status !== 200 || typeof score !== 'number' || score < 0 || score > 1) {
      report.mismatches.push(`case ${i}: peer /v1/score answered ${describe(peerScore)}`);
    }
    const [want] = await model.score([expected]);
    const stack = await undegraded(`${stackUrl}/v1/score`, request, retried);
    report.stackScores += 1;
    const stackScore = stack.json.score;
    if (
      stack.status !== 200 ||
      typeof stackScore !== 'number' ||
      Math.abs(stackScore - (want as number)) > 2e-6
    ) {
      report.stackMismatches.push(
        `case ${i} (${request.cardId}): stack answered ${describe(stack)}; fraud-gbdt on the expected features gives ${want}`,
      );
    }
  }
  return report;
}

/** The check cases: the first requests of the mix, plus an unknown card, an unknown merchant, no device and a new device. */
function parityCases(mix: ScoreRequest[], count: number): ScoreRequest[] {
  const plain = mix.slice(0, count);
  const [a, b, c, d] = mix.slice(count, count + 4) as [
    ScoreRequest,
    ScoreRequest,
    ScoreRequest,
    ScoreRequest,
  ];
  const { deviceId: _dropped, ...noDevice } = c;
  return [
    ...plain,
    { ...a, cardId: 'card_bench_unknown' },
    { ...b, merchantId: 'm_bench_unknown' },
    noDevice,
    { ...d, deviceId: 'dev-bench-new' },
  ];
}

async function main(): Promise<void> {
  const opts = options();
  const run = `pb${Date.now().toString(36)}`;
  ensurePythonPackages(log);
  const model = peerModel();
  log(`peer model: ${JSON.stringify(model.size)}`);

  // 1. The local stack, as a user starts it; its own `now` lies between these two times.
  const notBefore = Date.now();
  const stackPort = await freePort();
  log(
    `starting the local stack: npm start -- --in-memory --neural off --port ${stackPort} ${opts.stackArgs.join(' ')}`,
  );
  const stack = await startLocalStack({
    root: ROOT,
    port: stackPort,
    ...opts.population,
    extraArgs: opts.stackArgs,
  });
  log(`local stack says: ${stack.readyLine}`);
  const notAfter = Date.now();
  log(`local stack at ${stack.url} (ready in ${((notAfter - notBefore) / 1000).toFixed(1)} s)`);

  // 2. The peer's dynalite, loaded with the same items.
  const state = seededState(opts.population, notBefore, notAfter);
  const dynamo = await startDynaliteProcess({ root: ROOT, port: await freePort() });
  const { client, documents } = createDynamoClients({ endpoint: dynamo.endpoint, requestTimeoutMs: 10_000 });
  await ensureTable(client, PEER_TABLE, FEATURE_TABLE);
  await bulkWrite(documents, PEER_TABLE, state.items);
  documents.destroy();
  log(
    `peer dynalite at ${dynamo.endpoint}: ${state.items.length} items from ${state.events} events (window from ${state.windowStart}; ${state.ambiguousCards.size} cards left out of the mix as possibly seeded differently)`,
  );

  // 3. The peer.
  const peer = await startPeer({
    dir: PEER_DIR,
    port: await freePort(),
    workers: opts.workers,
    env: {
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      FEATURE_TABLE: PEER_TABLE,
      MODEL_PATH: model.path,
      MODEL_CARD: join(DEFAULT_MODEL_DIR, 'model.json'),
      // One OpenMP thread per worker, as any team serving scikit-learn under gunicorn learns to
      // set: with two, a one-row predict waits at OpenMP barriers whenever the machine is busy
      // (measured here: p99 2.5 s with two threads, 4 ms with one).
      OMP_NUM_THREADS: '1',
    },
  });
  log(`peer at ${peer.url}`);

  // 4. Parity, before any figure is taken.
  const mix = requestMix(opts.population, state, notAfter, 5000);
  const parity = await checkParity(parityCases(mix, opts.parity), state, peer.url, stack.url, run);
  log(
    `parity: ${parity.cases} requests, ${parity.values} feature values: ${parity.exact} exact, ${parity.ulp} within one ulp, ${parity.mismatches.length} mismatches, ${parity.retries} degraded answers asked again; stack scores equal to fraud-gbdt on the same vectors: ${parity.stackScores - parity.stackMismatches.length}/${parity.stackScores}`,
  );
  if (parity.mismatches.length > 0 || parity.stackMismatches.length > 0) {
    for (const line of [...parity.mismatches, ...parity.stackMismatches].slice(0, 20)) log(`  ${line}`);
    throw new Error(
      'parity check failed: the two targets would not compute the same thing; nothing measured',
    );
  }

  // 5. Warm-up, then the cells, alternating the targets so drifting noise hits both.
  const targets: Record<string, string> = { [OURS]: stack.url, [PEER]: peer.url };
  const bodies = (label: string) => (i: number) =>
    JSON.stringify({ ...(mix[i % mix.length] as ScoreRequest), transactionId: `${run}-${label}-${i}` });
  if (opts.warmup > 0) {
    for (const [name, url] of Object.entries(targets)) {
      await runCell({
        target: name,
        url,
        concurrency: 4,
        durationMs: opts.warmup * 1000,
        body: bodies(`warm-${name === OURS ? 'o' : 'p'}`),
      });
    }
  }
  const cells: CellResult[] = [];
  /** 1-minute load average after each cell: other work on the machine skews both targets. */
  const loads: number[] = [];
  for (let round = 0; round < opts.rounds; round += 1) {
    for (const [index, concurrency] of opts.levels.entries()) {
      const order = (index + round) % 2 === 0 ? [OURS, PEER] : [PEER, OURS];
      for (const name of order) {
        const cell = await runCell({
          target: name,
          url: targets[name] as string,
          concurrency,
          durationMs: opts.seconds * 1000,
          body: bodies(`r${round}c${concurrency}${name === OURS ? 'o' : 'p'}`),
        });
        const s = summarize(cell);
        loads.push(loadavg()[0] as number);
        log(
          `round ${round + 1} c=${concurrency} ${name}: ${s.rps.toFixed(1)} rps, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, non-200 ${cell.non200}, degraded ${cell.degraded}, no answer ${cell.failed} (load average ${loads.at(-1)?.toFixed(1)})`,
        );
        cells.push(cell);
      }
    }
  }

  // 6. The table and the report.
  const peerLabel = `peer, gunicorn ${opts.workers} sync workers`;
  const table = comparisonTable(cells, OURS, PEER, peerLabel);
  process.stdout.write(`\n${table}\n\n`);
  const file = writeReport({
    opts,
    model: model.size,
    parity,
    state,
    table,
    cells,
    peerLabel,
    loads,
    stackReady: stack.readyLine,
  });
  log(`report: ${file}`);
}

function gitRevision(): string {
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return `${result.stdout.trim() || 'unknown'}${dirty.stdout.trim() ? ' (with uncommitted changes)' : ''}`;
}

function writeReport(input: {
  opts: ReturnType<typeof options>;
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

let exiting = false;
async function shutdown(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    await stopAll();
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

main()
  .then(() => shutdown(0))
  .catch((error: unknown) => {
    log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    if (/import|No module/i.test(String(error))) log(`the peer needs Debian's ${PEER_PACKAGES.join(' ')}`);
    void shutdown(1);
  });
