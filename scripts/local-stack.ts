/**
 * `npm start`: runs the stack locally and seeds demo data by replaying simulated events
 * through the real feature-updater code.
 *
 *   npm start -- [--port 3000] [--in-memory] [--data-dir .local-data] [--dynamodb-endpoint URL]
 *                [--model DIR] [--policy FILE] [--workers N] [--cards 300] [--days 14] [--reseed] [--verbose]
 *                [--event-skew-seconds N] [--neural off|shadow|live] [--shadow-model DIR] [--no-archive]
 *                [--canary DIR_OR_VERSION:PERCENT [--canary-policy FILE]] [--metrics] [--prime N]
 *                [--event-batch-window-ms 0]
 *
 * Answers and accepted events are archived under `<data dir>/archive/` (the S3 layout; see
 * docs/archive.md) unless `--no-archive` or `--in-memory` is given.
 *
 * `--canary` serves a second version beside the baseline with weighted routing (see
 * `local/canary.ts`); it and `--metrics` write the workers' EMF metric lines under
 * `<data dir>/metrics/` (a temporary folder with `--in-memory`), which `npm run canary:judge` reads.
 *
 * Before it prints the URL, each front worker is primed with `--prime` score and event requests
 * (default 1000; 0 skips it) through a private copy of its front (see `local/prime.ts`).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { createDynamoClients } from '#adapters/dynamo-client';
import { bulkWrite, FeatureAccumulator } from '#adapters/feature-bulk-loader';
import { NEURAL_MODES, type NeuralMode } from '#domain/neural';
import type { TransactionEvent } from '#domain/types';
import { simulate } from '../models/training/simulator';
import {
  DEFAULT_MODEL_DIR,
  DEFAULT_POLICY,
  ROOT,
  SEED_DEFAULTS,
  seededWindowStart,
  startLocalStack,
} from './local/app';
import { type CanarySpec, CanarySpecError, modelVersionOf, parseCanarySpec } from './local/canary';
import { primingRequests } from './local/priming-requests';
import { portTaken, sdkNodeWarningOnce } from './local/processes';

/**
 * `npm run simulate` replays the seeded population's stream at a fixed rate, so its simulated
 * clock runs days ahead of ours; `npm start` accepts such events unless told otherwise
 * (`--event-skew-seconds 300` behaves like AWS).
 */
const SIMULATION_SKEW_SECONDS = 90 * 86_400;

/** The most recent events go through the real updater; older history is bulk-loaded (see README). */
const LIVE_REPLAY_MS = 6 * 3_600_000;
/**
 * Events the feature updater applies to cards of its own, and deletes again, while the workers
 * prime (`local/prime-updater.ts`); `--prime 0` skips both.
 */
const UPDATER_PRIMING_EVENTS = 500;
/** Priming requests per front worker (`--prime`): what took a cold stack out of degraded answers at 100 rps. */
const DEFAULT_PRIMING_REQUESTS = 1000;
/**
 * The local queue's batching window (`--event-batch-window-ms`); AWS: 1 s in dev, 2 s in prod. 0 here:
 * 250 ms gave larger batches but no fewer degraded answers at 100 rps on 2 cores (4 alternated runs).
 */
const LOCAL_EVENT_BATCH_WINDOW_MS = 0;

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm start -- [--port N] [--in-memory] [--data-dir DIR] [--dynamodb-endpoint URL] [--model DIR] [--policy FILE] [--workers N] [--cards N] [--days N] [--reseed] [--verbose] [--event-skew-seconds N] [--neural off|shadow|live] [--shadow-model DIR] [--no-archive] [--canary DIR_OR_VERSION:PERCENT] [--canary-policy FILE] [--metrics] [--prime N] [--event-batch-window-ms N]\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3000' },
      'in-memory': { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: `${ROOT}/.local-data` },
      'dynamodb-endpoint': { type: 'string' },
      model: { type: 'string' },
      policy: { type: 'string' },
      workers: { type: 'string' },
      cards: { type: 'string', default: String(SEED_DEFAULTS.cards) },
      days: { type: 'string', default: String(SEED_DEFAULTS.days) },
      seed: { type: 'string', default: String(SEED_DEFAULTS.seed) },
      reseed: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'event-skew-seconds': { type: 'string', default: String(SIMULATION_SKEW_SECONDS) },
      'no-archive': { type: 'boolean', default: false },
      neural: { type: 'string', default: 'live' },
      'shadow-model': { type: 'string' },
      canary: { type: 'string' },
      'canary-policy': { type: 'string' },
      metrics: { type: 'boolean', default: false },
      prime: { type: 'string', default: String(DEFAULT_PRIMING_REQUESTS) },
      'event-batch-window-ms': { type: 'string', default: String(LOCAL_EVENT_BATCH_WINDOW_MS) },
    },
  });
  const neural = values.neural as NeuralMode;
  if (!(NEURAL_MODES as readonly string[]).includes(neural))
    usage(`--neural must be one of ${NEURAL_MODES.join(', ')}, got ${values.neural}`);
  const skewSeconds = Number(values['event-skew-seconds']);
  if (!Number.isFinite(skewSeconds) || skewSeconds < 0)
    usage(`--event-skew-seconds must be ≥ 0, got ${values['event-skew-seconds']}`);
  const port = Number(values.port);
  const cards = Number(values.cards);
  const days = Number(values.days);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    usage(`--port must be 0–65535, got ${values.port}`);
  if (!Number.isInteger(cards) || cards < 1) usage(`--cards must be a positive integer, got ${values.cards}`);
  if (!Number.isInteger(days) || days < 1 || days > 60) usage(`--days must be 1–60, got ${values.days}`);
  const priming = Number(values.prime);
  if (!Number.isInteger(priming) || priming < 0 || priming > 10_000)
    usage(`--prime must be 0–10000 (requests per front worker), got ${values.prime}`);
  const eventBatchWindowMs = Number(values['event-batch-window-ms']);
  if (!Number.isInteger(eventBatchWindowMs) || eventBatchWindowMs < 0 || eventBatchWindowMs > 300_000)
    usage(`--event-batch-window-ms must be 0–300000, got ${values['event-batch-window-ms']}`);
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 16))
    usage(`--workers must be 1–16, got ${values.workers}`);
  const endpoint = values['dynamodb-endpoint'];
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint))
    usage(`--dynamodb-endpoint must be an http(s) URL, got ${endpoint}`);
  for (const [flag, path] of [
    ['--model', values.model && join(values.model, 'model.json')],
    ['--policy', values.policy],
    ['--shadow-model', values['shadow-model'] && join(values['shadow-model'], 'model.json')],
  ] as const) {
    if (path && !existsSync(path)) usage(`${flag}: ${path} does not exist`);
  }

  if (values['canary-policy'] !== undefined && values.canary === undefined)
    usage('--canary-policy needs --canary (e.g. --canary models/fraud-gbdt/1.0.0:10)');
  const baseline = {
    modelDir: values.model ? resolve(values.model) : DEFAULT_MODEL_DIR,
    policyPath: values.policy ? resolve(values.policy) : DEFAULT_POLICY,
  };
  let canary: CanarySpec | undefined;
  try {
    canary =
      values.canary === undefined
        ? undefined
        : parseCanarySpec(values.canary, baseline, values['canary-policy']);
  } catch (error) {
    if (error instanceof CanarySpecError) usage(error.message);
    throw error;
  }
  // The neural combination is fitted on one tree model: a canary serving another cannot stack on it.
  if (canary && neural !== 'off' && modelVersionOf(canary.modelDir) !== modelVersionOf(baseline.modelDir))
    usage(
      '--canary with another model version needs --neural off (the neural combination is fitted on the baseline tree model)',
    );
  const metricsDir =
    canary || values.metrics
      ? values['in-memory']
        ? mkdtempSync(join(tmpdir(), 'fraud-metrics-'))
        : join(values['data-dir'], 'metrics')
      : undefined;

  // Before anything starts: a taken port would otherwise fail only after seeding and priming.
  if (port !== 0 && (await portTaken(port)))
    usage(`port ${port} on 127.0.0.1 is already in use (another stack?): stop it, or pass --port N`);

  const started = Date.now();
  const sdkWarning = sdkNodeWarningOnce(process.env, process.version);
  if (sdkWarning) process.stderr.write(sdkWarning);
  process.stderr.write(
    endpoint
      ? `using the DynamoDB-compatible server at ${endpoint}…\n`
      : `starting dynalite (${values['in-memory'] ? 'in memory' : `data in ${values['data-dir']}`})…\n`,
  );
  const stack = await startLocalStack({
    port,
    dataDir: values['in-memory'] ? undefined : values['data-dir'],
    dynamoEndpoint: endpoint,
    modelDir: values.model && resolve(values.model),
    policyPath: values.policy && resolve(values.policy),
    workers,
    logLevel: values.verbose ? 'INFO' : 'WARN',
    forwardOutput: true,
    maxFutureSkewMs: skewSeconds * 1000,
    archiveDir: values['no-archive'] || values['in-memory'] ? undefined : join(values['data-dir'], 'archive'),
    neural,
    shadowModelDir: values['shadow-model'] && resolve(values['shadow-model']),
    canary,
    metricsDir,
    eventBatchWindowMs,
  });

  const existing = await stack.countItems();
  let sampleCard = 'card_000001';
  if (existing === 0 || values.reseed) {
    const now = Date.now();
    const start = seededWindowStart(now, days);
    const events: TransactionEvent[] = [];
    for (const event of simulate({ cards, days, seed: Number(values.seed), start })) {
      if (Date.parse(event.timestamp) > now) continue;
      if (event.type === 'authorization') {
        const { sim: _truth, ...plain } = event;
        events.push(plain);
      } else {
        events.push(event);
      }
    }
    sampleCard = events.find((e) => e.type === 'authorization')?.cardId ?? sampleCard;
    // History is folded with the same domain functions and bulk-written (fast); the last
    // hours are replayed through the real queue → feature-updater path, like live traffic.
    const cutoff = now - LIVE_REPLAY_MS;
    const history = new FeatureAccumulator();
    const live = events.filter((event) => {
      if (Date.parse(event.timestamp) >= cutoff) return true;
      history.add(event);
      return false;
    });
    const { documents } = createDynamoClients({ endpoint: stack.dynamoEndpoint, requestTimeoutMs: 5000 });
    const items = history.items(now, 180 * 86_400);
    const bar = new SingleBar({
      format: 'seeding  [{bar}] {percentage}% | {value}/{total} {unit} | {eta}s left',
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 3000,
    });
    bar.start(items.length, 0, { unit: 'items (history)' });
    await bulkWrite(documents, stack.featureTable, items, { onProgress: (n) => bar.update(n) });
    bar.stop();
    bar.start(live.length, 0, { unit: 'events (live, via the updater)' });
    for (let i = 0; i < live.length; i += 50) {
      await stack.queue.send(live.slice(i, i + 50));
      await stack.drainEvents();
      bar.update(Math.min(i + 50, live.length));
    }
    bar.stop();
    documents.destroy();
    process.stderr.write(
      `seeded ${events.length} events for ${cards} cards over ${days} days (${history.events} bulk-loaded, ${live.length} through the updater)\n`,
    );
  } else {
    process.stderr.write(`using ${existing} existing feature items (pass --reseed to replace them)\n`);
  }

  if (priming > 0) {
    // The same population as the seed and `npm run simulate`, continued past now.
    const now = Date.now();
    const stream = simulate({
      cards,
      days: days + 2,
      seed: Number(values.seed),
      start: seededWindowStart(now, days),
    });
    const requests = primingRequests(stream, now, priming);
    process.stderr.write(
      `priming ${stack.pids.workers.length} front workers with ${requests.length} score and event requests each (--prime 0 skips it)…\n`,
    );
    const [reports, updater] = await Promise.all([
      stack.prime(requests),
      stack.primeUpdater(UPDATER_PRIMING_EVENTS).catch((error: Error) => error),
    ]);
    process.stderr.write(
      updater instanceof Error
        ? `the feature updater could not prime (${updater.message}); it starts cold\n`
        : `feature updater primed in ${(updater.ms / 1000).toFixed(1)} s (${updater.events} events on priming cards${updater.failed > 0 ? `, ${updater.failed} failed` : ''}; their ${updater.removed} items deleted again)\n`,
    );
    for (const report of reports) {
      const answers = Object.entries(report.statuses)
        .map(([answer, n]) => `${answer} × ${n}`)
        .join(', ');
      process.stderr.write(
        report.error
          ? `front worker ${report.pid} could not prime (${report.error}); it serves cold\n`
          : `front worker ${report.pid} primed in ${(report.ms / 1000).toFixed(1)} s (${answers})${report.firstFailure ? `; first failure: ${report.firstFailure}` : ''}\n`,
      );
    }
  }

  const example = {
    transactionId: `demo-${Date.now()}`,
    cardId: sampleCard,
    merchantId: 'm_00001',
    mcc: '5411',
    amount: 4599,
    currency: 'EUR',
    country: 'DE',
    channel: 'card_present',
    timestamp: new Date().toISOString(),
  };
  process.stdout.write(
    [
      '',
      `Fraud Scoring Stack is running at ${stack.url}  (ready in ${((Date.now() - started) / 1000).toFixed(1)} s; ${stack.pids.workers.length} front workers, dynalite, the feature updater${stack.neuralUrl ? ` and the neural twin (${neural}, ${stack.neuralUrl})` : ''} in their own processes)`,
      '',
      'Score a payment:',
      `  curl -s -X POST ${stack.url}/v1/score -H 'content-type: application/json' \\`,
      `    -d '${JSON.stringify(example)}'`,
      '  (add -i to see Server-Timing: neural;dur=… is the neural call, shadow_wait;dur=… what shadows added)',
      '',
      ...(stack.routing
        ? [
            `Canary: ${(stack.routing.weight * 100).toFixed(1)} % of /v1/score to version ${stack.routing.canary.functionVersion} (model ${stack.routing.canary.modelVersion}, policy ${stack.routing.canary.policyPath}),`,
            `  the rest to version ${stack.routing.baseline.functionVersion} (model ${stack.routing.baseline.modelVersion}). Judge it: npm run canary:judge${metricsDir === join(ROOT, '.local-data', 'metrics') ? '' : ` -- --metrics ${metricsDir}`}`,
            '',
          ]
        : []),
      ...(metricsDir ? [`Metrics (EMF lines): ${metricsDir}`, ''] : []),
      `API contract: ${stack.url}/openapi.json    Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nstopping…\n');
    await stack.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`local stack failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
