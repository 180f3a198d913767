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
 *
 * This file runs those steps; the flags are `options.ts`, the peer's model `peer-model.ts`, the
 * parity check `parity.ts`, the table and the report file `report.ts`.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createDynamoClients } from '#adapters/dynamo-client';
import { bulkWrite } from '#adapters/feature-bulk-loader';
import type { ScoreRequest } from '#domain/types';
import { FEATURE_TABLE } from '#shared/table-schema';
import { DEFAULT_MODEL_DIR, ROOT } from '../local/app';
import { ensureTable } from '../local/dynamo-local';
import { type CellResult, runCell, summarize } from './load';
import { options } from './options';
import { checkParity, parityCases } from './parity';
import { PEER_DIR, peerModel } from './peer-model';
import { requestMix, seededState } from './population';
import {
  ensurePythonPackages,
  freePort,
  PEER_PACKAGES,
  startDynaliteProcess,
  startLocalStack,
  startPeer,
  stopAll,
} from './processes';
import { comparisonTable, writeReport } from './report';

const PEER_TABLE = 'peer-features';
const OURS = 'this project';
const PEER = 'peer';

const log = (line: string) => process.stderr.write(`[bench:peer] ${line}\n`);

async function main(): Promise<void> {
  const opts = options();
  const run = `pb${Date.now().toString(36)}`;
  ensurePythonPackages(log);
  const model = peerModel(log);
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
