/**
 * The neural service's pre-traffic check, as an ECS deployment lifecycle hook
 * (`POST_TEST_TRAFFIC_SHIFT`): once the new (green) tasks hold all of the ALB's *test*
 * traffic and none of production's, replay the neural model's golden cases
 * (`models/fraud-seq/<version>/replay.jsonl`) through the test listener with the score
 * function's own client and sequence code. Every probability must match the trainer's within
 * the card's tolerance; a task that serves another model, a broken graph, a changed runtime or
 * a protocol change never receives a payment.
 *
 * ECS runs the hook again while it answers `IN_PROGRESS` (after `callBackDelay` seconds) and
 * passes `hookDetails` back, so the wait for readiness is bounded by `readyAttempts` without
 * keeping a Lambda running; `FAILED` rolls the deployment back (AWS: ECS developer guide,
 * "Lambda hooks for Amazon ECS service deployments").
 */
import { z } from 'zod';
import { HttpNeuralScorer } from '#adapters/neural-scorer';
import { ConfigError, describeFirstIssue, ReplaySetError } from '#domain/errors';
import { type RingStep, ringFromStored, sequenceTensor } from '#domain/sequence';
import { type Env, readNumber, readOptionalString, readString } from '#shared/config';

/** What the hook answers ECS. */
export interface EcsHookResult {
  hookStatus: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';
  /** Seconds until ECS calls again (`IN_PROGRESS` only). */
  callBackDelay?: number;
  /** Handed back to the next call (`IN_PROGRESS` only). */
  hookDetails?: Record<string, unknown>;
}

/** The parts of ECS's hook payload this hook reads; everything else is logged only. */
export interface EcsHookEvent {
  lifecycleStage?: string;
  executionId?: string;
  hookDetails?: { readyAttempt?: unknown } & Record<string, unknown>;
  [key: string]: unknown;
}

/** Settings of the hook, from its environment. */
export interface NeuralReplayConfig {
  /** The ALB's test listener, e.g. `http://internal-neural-….elb.amazonaws.com:8081`. */
  testUrl: string;
  /** Triton model name. */
  model: string;
  /** The model version the new tasks must serve. */
  version: string;
  /** The replay set bundled with the hook. */
  replayPath: string;
  /** Largest accepted |probability − expected|: the card's `replay.tolerance`. */
  tolerance: number;
  /** Readiness checks before giving up (each `callBackDelaySeconds` apart). */
  readyAttempts: number;
  callBackDelaySeconds: number;
  /** Budget of one inference call through the test listener, ms. */
  callBudgetMs: number;
  /** Replay calls in flight at once. */
  concurrency: number;
}

export function loadNeuralReplayConfig(env: Env): NeuralReplayConfig {
  const testUrl = readOptionalString(env, 'NEURAL_TEST_URL');
  const version = readOptionalString(env, 'NEURAL_MODEL_VERSION');
  if (!testUrl) throw new ConfigError('NEURAL_TEST_URL is required (the ALB test listener)');
  if (!version) throw new ConfigError('NEURAL_MODEL_VERSION is required');
  return Object.freeze({
    testUrl,
    model: readString(env, 'NEURAL_MODEL', 'fraud-seq'),
    version,
    replayPath: readString(env, 'REPLAY_PATH', 'neural-replay.jsonl'),
    tolerance: readNumber(env, 'REPLAY_TOLERANCE', 1e-4, { min: 0, max: 1 }),
    readyAttempts: readNumber(env, 'READY_ATTEMPTS', 20, { min: 1, max: 200 }),
    callBackDelaySeconds: readNumber(env, 'CALLBACK_DELAY_SECONDS', 15, { min: 1, max: 300 }),
    callBudgetMs: readNumber(env, 'CALL_BUDGET_MS', 2000, { min: 10, max: 30_000 }),
    concurrency: readNumber(env, 'REPLAY_CONCURRENCY', 8, { min: 1, max: 64 }),
  });
}

/** One line of the neural model's `replay.jsonl`, as the trainer writes it. */
const neuralCaseSchema = z.object({
  transactionId: z.string().min(1),
  request: z.object({
    transactionId: z.string(),
    merchantId: z.string(),
    mcc: z.string(),
    amount: z.number(),
    currency: z.string(),
    country: z.string(),
    channel: z.enum(['card_present', 'contactless', 'ecommerce', 'moto']),
    timestamp: z.string(),
    deviceId: z.string().optional(),
  }),
  ring: z.array(z.unknown()),
  score: z.number(),
});
/** A replay case with its ring decoded (`ringFromStored`) once, at parse time. */
export type NeuralReplayCase = Omit<z.infer<typeof neuralCaseSchema>, 'ring'> & { ring: RingStep[] };

/** Parses `replay.jsonl`; a bad line is an error naming its number. */
export function parseNeuralReplay(text: string): NeuralReplayCase[] {
  const cases: NeuralReplayCase[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ReplaySetError(`replay line ${index + 1}: not JSON (${(error as Error).message})`);
    }
    const parsed = neuralCaseSchema.safeParse(value);
    if (!parsed.success)
      throw new ReplaySetError(`replay line ${index + 1}: ${describeFirstIssue(parsed.error)}`);
    const ring = ringFromStored(parsed.data.ring);
    if (!ring) throw new ReplaySetError(`replay line ${index + 1}: ring is not a stored sequence ring`);
    cases.push({ ...parsed.data, ring });
  });
  if (cases.length === 0) throw new ReplaySetError('the replay set is empty');
  return cases;
}

/** A probability outside the tolerance, or a call that failed. */
export interface NeuralMismatch {
  transactionId: string;
  expected: number;
  got?: number;
  error?: string;
}

/** The log calls the hook makes (Powertools' Logger has them). */
export type HookLogger = Record<
  'info' | 'warn' | 'error',
  (message: string, data: Record<string, unknown>) => void
>;

export interface NeuralReplayDeps {
  logger: HookLogger;
  /** The settings, or a loader called inside the hook so an error in them is a `FAILED`. */
  config: NeuralReplayConfig | (() => NeuralReplayConfig);
  /** Reads the replay file. */
  readReplayFile: (path: string) => Promise<string>;
  /** `fetch`, injectable for tests. @default globalThis.fetch */
  fetch?: typeof fetch;
}

const LOGGED_EXAMPLES = 5;

export function createNeuralReplayHook(deps: NeuralReplayDeps) {
  const fetchFn = deps.fetch ?? globalThis.fetch;
  return async function neuralReplayHook(event: EcsHookEvent): Promise<EcsHookResult> {
    const { logger } = deps;
    let config: NeuralReplayConfig;
    let cases: NeuralReplayCase[];
    try {
      config = typeof deps.config === 'function' ? deps.config() : deps.config;
      cases = parseNeuralReplay(await deps.readReplayFile(config.replayPath));
    } catch (error) {
      logger.error('neural replay cannot run', { error: (error as Error).message });
      return { hookStatus: 'FAILED' };
    }
    const context = {
      lifecycleStage: event.lifecycleStage,
      executionId: event.executionId,
      version: config.version,
    };

    const attempt = Number(event.hookDetails?.readyAttempt ?? 0) + 1;
    const readiness = await modelReady(fetchFn, config);
    if (readiness !== 'ready') {
      if (attempt >= config.readyAttempts) {
        logger.error('neural replay: the new tasks never became ready', { ...context, attempt, readiness });
        return { hookStatus: 'FAILED' };
      }
      logger.info('neural replay: waiting for readiness', { ...context, attempt, readiness });
      return {
        hookStatus: 'IN_PROGRESS',
        callBackDelay: config.callBackDelaySeconds,
        hookDetails: { readyAttempt: attempt },
      };
    }

    const mismatches = await replay(cases, config);
    if (mismatches.length > 0) {
      logger.error('neural replay failed', {
        ...context,
        cases: cases.length,
        mismatches: mismatches.length,
        tolerance: config.tolerance,
        examples: mismatches.slice(0, LOGGED_EXAMPLES),
      });
      return { hookStatus: 'FAILED' };
    }
    logger.info('neural replay passed', { ...context, cases: cases.length, tolerance: config.tolerance });
    return { hookStatus: 'SUCCEEDED' };
  };
}

/** `ready`, or why not: the model's own readiness endpoint through the test listener. */
async function modelReady(fetchFn: typeof fetch, config: NeuralReplayConfig): Promise<string> {
  const path = `/v2/models/${encodeURIComponent(config.model)}/versions/${encodeURIComponent(config.version)}/ready`;
  try {
    const response = await fetchFn(new URL(path, config.testUrl), {
      signal: AbortSignal.timeout(config.callBudgetMs),
    });
    await response.arrayBuffer();
    return response.status === 200 ? 'ready' : `HTTP ${response.status}`;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Every case through the score function's client; the mismatches. */
async function replay(
  cases: readonly NeuralReplayCase[],
  config: NeuralReplayConfig,
): Promise<NeuralMismatch[]> {
  const scorer = new HttpNeuralScorer({
    baseUrl: config.testUrl,
    model: config.model,
    version: config.version,
    budgetMs: config.callBudgetMs,
    // The hook judges every case; a breaker would turn one failure into many.
    breakerFailures: Number.MAX_SAFE_INTEGER,
    maxSockets: config.concurrency,
  });
  const mismatches: NeuralMismatch[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++] as NeuralReplayCase;
      const input = sequenceTensor(c.ring, c.request, Date.parse(c.request.timestamp));
      try {
        const got = await scorer.score(input);
        if (!(Math.abs(got - c.score) <= config.tolerance))
          mismatches.push({ transactionId: c.transactionId, expected: c.score, got });
      } catch (error) {
        mismatches.push({
          transactionId: c.transactionId,
          expected: c.score,
          error: (error as Error).message,
        });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(config.concurrency, cases.length) }, worker));
  } finally {
    scorer.close();
  }
  return mismatches;
}
