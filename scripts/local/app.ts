/**
 * The whole stack on one machine, each part in its own process so that it uses the machine:
 *
 *   primary (this process)  ─ cluster ─▶ front workers × N: the real score and events functions
 *                                           behind an API Gateway stand-in (`http-front.ts`)
 *   dynalite process          ◀── DynamoDB API ── workers and the updater
 *   queue process             ◀── accepted events ── workers; the SQS stand-in, delivers batches to
 *   updater process (niced)   ◀── SQS batches ── the queue process; the real feature updater
 *   neural process            ◀── Open Inference Protocol ── workers (unless `neural: 'off'`)
 *
 * The tables are created from the shared key definitions. Used by `npm start`, the benchmarks
 * and the e2e and fault tests. Only processes started here are signalled, by their own handles.
 */
import type { ChildProcess } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism, setPriority } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '#adapters/dynamo-client';
import { bulkDelete } from '#adapters/feature-bulk-loader';
import type { EventQueue } from '#domain/event-queue';
import { DEFAULT_MAX_FUTURE_SKEW_MS } from '#domain/event-time';
import type { NeuralMode } from '#domain/neural';
import { FEATURE_TABLE, IDEMPOTENCY_TABLE } from '#shared/table-schema';
import {
  BASELINE_FUNCTION_VERSION,
  CANARY_FUNCTION_VERSION,
  type CanaryRouting,
  type CanarySpec,
  canaryRouting,
  writeRouting,
} from './canary';
import { ensureTable } from './dynamo-local';
import { listenBalanced } from './front-balancer';
import type { FrontWorkerConfig } from './front-worker';
import { HttpEventQueue } from './http-event-queue';
import type { LocalQueueStats } from './local-queue';
import type { PrimedMessage, PrimeMessage, PrimingRequest } from './prime';
import { primingEventKeys, type UpdaterPriming, updaterPrimingEvents } from './prime-updater';
import {
  forkTs,
  freePort,
  OutputCapture,
  ROOT,
  SCORING_PATH_NODE_FLAGS,
  stopChild,
  TS_EXEC_ARGV,
  whenMessage,
  whenReady,
} from './processes';
import type { QueueProcessConfig } from './queue-process';

export { ROOT };
export const DEFAULT_MODEL_DIR = join(ROOT, 'models', 'fraud-gbdt', '1.0.0');
export const DEFAULT_POLICY = join(ROOT, 'functions', 'score', 'policy.json');
/** The neural model's card directory; its Triton repository is `triton/` inside it. */
export const DEFAULT_NEURAL_MODEL_DIR = join(ROOT, 'models', 'fraud-seq', '1.0.0');

/** What `npm start` seeds by default; `npm run simulate` continues the same population. */
export const SEED_DEFAULTS = { cards: 500, days: 14, seed: 7 } as const;

const DAY_MS = 86_400_000;
/** First day (`YYYY-MM-DD`) of a seeded window of `days` days that ends with today (UTC). */
export function seededWindowStart(now: number, days: number): string {
  return new Date(Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS).toISOString().slice(0, 10);
}

export interface LocalStackOptions {
  /** HTTP port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Persist dynalite data in this folder; in memory when unset. */
  readonly dataDir?: string;
  /** Use an already running DynamoDB-compatible endpoint instead of starting dynalite (tables created if missing). */
  readonly dynamoEndpoint?: string;
  /** Model directory (`model.onnx` + `model.json`). @default models/fraud-gbdt/1.0.0 */
  readonly modelDir?: string;
  /** Decision policy file. @default functions/score/policy.json */
  readonly policyPath?: string;
  readonly stage?: string;
  /** Feature read budget (ms). @default 60 */
  readonly featureTimeoutMs?: number;
  /** Answer write budget (ms). @default 100 */
  readonly idempotencyTimeoutMs?: number;
  /** Powertools log level for the handlers. @default 'WARN' */
  readonly logLevel?: string;
  /**
   * Front worker processes. @default {@link defaultWorkerCount}: one per core
   */
  readonly workers?: number;
  /**
   * Requests of the feature updater that dynalite runs at once (its background lane, see
   * `startDynalite`); the rest wait their turn so that score reads do not queue behind them.
   * @default 2
   */
  readonly updaterInFlight?: number;
  /**
   * Scheduling niceness of the updater process (0 normal, 19 lowest): on a busy machine the
   * front workers and dynalite get the CPU first, and events lag instead of answers.
   * @default 10
   */
  readonly updaterNice?: number;
  /**
   * How long the local queue gathers events for a fuller batch before it delivers them to the
   * updater: the event source's batching window (`maxBatchingWindowSeconds`, 1 s in the dev
   * stage). Events are applied up to this much later; the updater's work per event falls.
   * @default 0 (`npm start -- --event-batch-window-ms N` sets it; 250 ms measured no better on 2 cores)
   */
  readonly eventBatchWindowMs?: number;
  /** Forward the children's output to this process's stdout/stderr (it is always captured). @default false */
  readonly forwardOutput?: boolean;
  /**
   * How far ahead of the clock an event may be dated before `/v1/events` refuses it.
   * @default 300000 (5 min, as in AWS)
   */
  readonly maxFutureSkewMs?: number;
  /**
   * Archive every answer and accepted event here (`<kind>/dt=YYYY-MM-DD/` gzip JSON lines, the S3
   * layout); none when unset.
   * @default - no archive
   */
  readonly archiveDir?: string;
  /**
   * The neural model: `off`, `shadow` (called and measured, never deciding) or `live`. Unless
   * `off`, the neural twin runs in its own process and the workers call it over HTTP.
   * @default 'off' (`npm start` passes `live`)
   */
  readonly neural?: NeuralMode;
  /** The neural card directory (`model.json` + `triton/`). @default models/fraud-seq/1.0.0 */
  readonly neuralModelDir?: string;
  /** The neural call budget in ms. @default 15 */
  readonly neuralBudgetMs?: number;
  /**
   * An already running neural service to call instead of starting the twin (fault tests start
   * and signal their own).
   * @default - the stack starts the twin
   */
  readonly neuralUrl?: string;
  /** Consecutive neural failures that open the breaker. @default 5 (the client's) */
  readonly neuralBreakerFailures?: number;
  /** Open time of the neural breaker before a half-open probe. @default 5000 (the client's) */
  readonly neuralHalfOpenMs?: number;
  /** A tree model scored in shadow (model.onnx + model.json); none when unset. */
  readonly shadowModelDir?: string;
  /** Share of answers with a shadow whose pair is logged. @default 0.01 */
  readonly shadowLogSample?: number;
  /**
   * A canary version of the score function beside the baseline (`--canary`, see `canary.ts`):
   * requests split by weight, versions `1` and `2`; needs `metricsDir` for its routing file.
   * @default - one version (`$LATEST`)
   */
  readonly canary?: CanarySpec;
  /**
   * Write the workers' EMF metric lines to `*.jsonl` files here (and, with a canary, the routing
   * state `routing.json`), for `npm run canary:judge`.
   * @default - no metric files
   */
  readonly metricsDir?: string;
}

export interface LocalStack {
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly featureTable: string;
  /** Sends events through the same path as `POST /v1/events` (queue → updater process). */
  readonly queue: EventQueue;
  /** Process ids of what the stack started (the dynalite one only when it started dynalite). */
  readonly pids: {
    readonly dynamo?: number;
    /** The SQS stand-in the workers hand accepted events to. */
    readonly queue: number;
    readonly updater: number;
    readonly workers: readonly number[];
    /** The neural twin, when the stack started one. */
    readonly neural?: number;
  };
  /** The neural twin's base URL, when the stack started one. */
  readonly neuralUrl?: string;
  /** The canary routing (also in `<metricsDir>/routing.json`), when a canary serves. */
  readonly routing?: CanaryRouting;
  /** Everything the stack's processes printed (logs), for assertions. */
  output(): string;
  /** Resolves once every accepted event has been applied (or dead-lettered). */
  drainEvents(): Promise<LocalQueueStats>;
  /**
   * Sends every front worker the same priming requests and resolves with each worker's report
   * once all are through (`prime.ts`: through the instance that will serve, its answers left
   * out of the archive; its events, on priming cards, applied by the updater and then deleted
   * again; with metric files a copy is primed instead, its events dropped).
   */
  prime(requests: readonly PrimingRequest[]): Promise<PrimedMessage[]>;
  /** Has the feature updater apply `count` priming events of its own, then deletes what they wrote (`prime-updater.ts`). */
  primeUpdater(count: number): Promise<UpdaterPriming>;
  /** Stops dynalite only (for degradation tests); the HTTP front keeps serving. */
  stopDynamo(): Promise<void>;
  close(): Promise<void>;
  countItems(): Promise<number>;
}

const FEATURE_TABLE_NAME = 'local-features';
const IDEMPOTENCY_TABLE_NAME = 'local-idempotency';

/**
 * Front workers when none are asked for: one per core. On a busy 2-core machine one worker
 * answered more than two (dynalite and the clients wait less for a CPU), but on a quiet one two
 * workers answer 40 % more at concurrency 16 (422 against 302 rps, `bench:peer` side by side,
 * 2026-12-01 11:43 UTC) and one worker cannot use the second core: the default serves the quiet
 * case, `--workers 1` the other (docs/performance.md, "Concurrency 4: where a request waited").
 */
export function defaultWorkerCount(cores: number = availableParallelism()): number {
  return Math.max(1, cores);
}

/** Starts dynalite in its own process, with a background lane for the updater. */
async function startDynaliteProcess(
  dataDir: string | undefined,
  backgroundInFlight: number,
  capture: OutputCapture,
): Promise<{ child: ChildProcess; endpoint: string; backgroundEndpoint: string }> {
  const child = forkTs(
    'dynalite-process.ts',
    { path: dataDir, backgroundInFlight },
    capture,
    SCORING_PATH_NODE_FLAGS,
  );
  const { port, backgroundPort } = await whenReady(child, 'dynalite');
  return {
    child,
    endpoint: `http://127.0.0.1:${port}`,
    backgroundEndpoint: `http://127.0.0.1:${backgroundPort}`,
  };
}

/** Lowers a child's scheduling priority; a platform that refuses leaves it as it is. */
function renice(child: ChildProcess, nice: number, capture: OutputCapture): void {
  if (child.pid === undefined || nice === 0) return;
  try {
    setPriority(child.pid, nice);
  } catch (error) {
    capture.note(`could not lower the priority of process ${child.pid}: ${(error as Error).message}\n`);
  }
}

/** Forks the front workers; the primary listens for them (`listenBalanced`, once they are ready). */
async function startFrontWorkers(
  count: number,
  config: FrontWorkerConfig,
  capture: OutputCapture,
): Promise<Worker[]> {
  cluster.setupPrimary({
    exec: join(__dirname, 'front-worker.ts'),
    execArgv: [...TS_EXEC_ARGV, ...SCORING_PATH_NODE_FLAGS],
    silent: true,
    cwd: ROOT,
  });
  const workers = Array.from({ length: count }, () => {
    const worker = cluster.fork({ LOCAL_STACK_CONFIG: JSON.stringify(config) });
    capture.attach(worker.process);
    return worker;
  });
  await Promise.all(workers.map((worker, i) => whenReady(worker, `front worker ${i + 1}`)));
  return workers;
}

/** Primes one front worker and waits for its report. */
function primeWorker(worker: Worker, requests: readonly PrimingRequest[]): Promise<PrimedMessage> {
  const primed = whenMessage<PrimedMessage>(
    worker,
    'primed',
    `front worker ${worker.process.pid}`,
    { verb: 'prime', noun: 'priming' },
    300_000,
  );
  worker.send({ type: 'prime', requests } satisfies PrimeMessage);
  return primed;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stage = options.stage ?? 'local';
  // Inherited by every child: quiet JSON logs, no EMF blobs, no X-Ray locally.
  process.env.POWERTOOLS_LOG_LEVEL = options.logLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED = process.env.POWERTOOLS_METRICS_DISABLED ?? 'true';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
  process.env.AWS_LAMBDA_FUNCTION_NAME = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local';
  const capture = new OutputCapture(options.forwardOutput ?? false);

  let dynamo: ChildProcess | undefined;
  let dynamoEndpoint = options.dynamoEndpoint;
  // An external server has one endpoint for everyone.
  let updaterEndpoint = options.dynamoEndpoint;
  if (!dynamoEndpoint) {
    const started = await startDynaliteProcess(options.dataDir, options.updaterInFlight ?? 2, capture);
    dynamo = started.child;
    dynamoEndpoint = started.endpoint;
    updaterEndpoint = started.backgroundEndpoint;
  }
  const { client, documents } = createDynamoClients({ endpoint: dynamoEndpoint, requestTimeoutMs: 5000 });
  /** Deletes every item priming events can have written (`prime-updater.ts`); resolves with how many keys. */
  const deletePrimingWrites = async (events: Parameters<typeof primingEventKeys>[0]) => {
    const keys = primingEventKeys(events);
    await bulkDelete(
      documents,
      FEATURE_TABLE_NAME,
      keys.map((pk) => ({ pk })),
    );
    return keys.length;
  };
  await ensureTable(client, FEATURE_TABLE_NAME, FEATURE_TABLE);
  await ensureTable(client, IDEMPOTENCY_TABLE_NAME, IDEMPOTENCY_TABLE);

  const updater = forkTs(
    'updater-process.ts',
    { stage, featureTable: FEATURE_TABLE_NAME, dynamoEndpoint: updaterEndpoint },
    capture,
  );
  renice(updater, options.updaterNice ?? 10, capture);
  const updaterUrl = `http://127.0.0.1:${(await whenReady(updater, 'updater')).port}`;
  // The queue at normal priority: accepting an event never waits for the niced updater.
  const queueProcess = forkTs(
    'queue-process.ts',
    { updaterUrl, batchWindowMs: options.eventBatchWindowMs ?? 0 } satisfies QueueProcessConfig,
    capture,
  );
  const queueUrl = `http://127.0.0.1:${(await whenReady(queueProcess, 'queue')).port}`;
  const neuralMode = options.neural ?? 'off';
  const neuralModelDir = options.neuralModelDir ?? DEFAULT_NEURAL_MODEL_DIR;
  let neural: ChildProcess | undefined;
  let neuralUrl = neuralMode === 'off' ? undefined : options.neuralUrl;
  if (neuralMode !== 'off' && !neuralUrl) {
    // On the scoring path too (live mode waits for it): the same GC flag as the workers.
    neural = forkTs(
      'neural-process.ts',
      { repository: join(neuralModelDir, 'triton') },
      capture,
      SCORING_PATH_NODE_FLAGS,
    );
    neuralUrl = `http://127.0.0.1:${(await whenReady(neural, 'neural twin')).port}`;
  }
  const port = options.port || (await freePort());
  const { canary, metricsDir } = options;
  if (canary && !metricsDir) throw new Error('a canary needs metricsDir (its metrics and routing file)');
  const baseline = {
    modelDir: options.modelDir ?? DEFAULT_MODEL_DIR,
    policyPath: options.policyPath ?? DEFAULT_POLICY,
  };
  const scoreEnv: Record<string, string> = {
    ...(options.archiveDir ? { ARCHIVE_DIR: options.archiveDir } : {}),
    STAGE: stage,
    FEATURE_TABLE_NAME,
    IDEMPOTENCY_TABLE_NAME,
    MODEL_DIR: baseline.modelDir,
    POLICY_PATH: baseline.policyPath,
    ...(canary ? { AWS_LAMBDA_FUNCTION_VERSION: BASELINE_FUNCTION_VERSION } : {}),
    FEATURE_TIMEOUT_MS: String(options.featureTimeoutMs ?? 60),
    IDEMPOTENCY_TIMEOUT_MS: String(options.idempotencyTimeoutMs ?? 100),
    POWERTOOLS_TRACE_ENABLED: 'false',
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    NEURAL_MODE: neuralMode,
    ...(neuralUrl
      ? {
          NEURAL_URL: neuralUrl,
          NEURAL_MODEL_DIR: neuralModelDir,
          NEURAL_BUDGET_MS: String(options.neuralBudgetMs ?? 15),
          ...(options.neuralBreakerFailures
            ? { NEURAL_BREAKER_FAILURES: String(options.neuralBreakerFailures) }
            : {}),
          ...(options.neuralHalfOpenMs
            ? { NEURAL_BREAKER_HALF_OPEN_MS: String(options.neuralHalfOpenMs) }
            : {}),
        }
      : {}),
    ...(options.shadowModelDir ? { SHADOW_MODEL_DIR: options.shadowModelDir } : {}),
    SHADOW_LOG_SAMPLE: String(options.shadowLogSample ?? 0.01),
  };
  const workers = await startFrontWorkers(
    options.workers ?? defaultWorkerCount(),
    {
      port,
      stage,
      queueUrl,
      maxFutureSkewMs: options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS,
      archiveDir: options.archiveDir,
      scoreEnv,
      metricsDir,
      canary: canary && {
        weight: canary.weight,
        scoreEnv: {
          ...scoreEnv,
          MODEL_DIR: canary.modelDir,
          POLICY_PATH: canary.policyPath,
          AWS_LAMBDA_FUNCTION_VERSION: CANARY_FUNCTION_VERSION,
        },
      },
    },
    capture,
  );
  const front = await listenBalanced(workers, port);
  // The judged window starts once both versions serve.
  const routing = canary && canaryRouting(stage, baseline, canary);
  if (routing && metricsDir) writeRouting(metricsDir, routing);
  const queue = new HttpEventQueue(queueUrl);

  const stopDynamo = async () => {
    if (dynamo) await stopChild(dynamo);
  };
  const drainEvents = async () => (await (await fetch(`${queueUrl}/drain`)).json()) as LocalQueueStats;
  return {
    url: `http://127.0.0.1:${port}`,
    dynamoEndpoint,
    featureTable: FEATURE_TABLE_NAME,
    queue,
    pids: {
      dynamo: dynamo?.pid,
      queue: queueProcess.pid as number,
      updater: updater.pid as number,
      workers: workers.map((w) => w.process.pid as number),
      neural: neural?.pid,
    },
    neuralUrl,
    routing,
    output: () => capture.output,
    drainEvents,
    prime: async (requests) => {
      const reports = await Promise.all(workers.map((worker) => primeWorker(worker, requests)));
      // Workers that primed the serving instance sent their events to the real queue, on priming
      // cards: once the updater has applied them, what they wrote goes again.
      await drainEvents();
      await deletePrimingWrites(
        requests.flatMap(({ event }) => (event.type === 'authorization' ? [event] : [])),
      );
      return reports;
    },
    primeUpdater: async (count) => {
      const started = performance.now();
      const events = updaterPrimingEvents(count, Date.now());
      const answer = await fetch(`${updaterUrl}/prime`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      if (!answer.ok) throw new Error(`the updater could not prime: ${answer.status} ${await answer.text()}`);
      const { failed } = (await answer.json()) as { failed: number };
      const removed = await deletePrimingWrites(events);
      return { events: events.length, failed, removed, ms: performance.now() - started };
    },
    stopDynamo,
    countItems: async () => {
      let count = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(
          new ScanCommand({ TableName: FEATURE_TABLE_NAME, Select: 'COUNT', ExclusiveStartKey: start }),
        );
        count += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
      return count;
    },
    close: async () => {
      queue.close();
      front.close();
      await Promise.all([
        ...workers.map((w) => stopChild(w.process)),
        stopChild(queueProcess),
        stopChild(updater),
        ...(neural ? [stopChild(neural)] : []),
      ]);
      await stopDynamo();
      client.destroy();
    },
  };
}
