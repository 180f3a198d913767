/**
 * The neural service client: one Open Inference Protocol (KServe v2) request per score, over
 * a keep-alive connection pool, inside a strict time budget, behind a circuit breaker.
 *
 * Why this shape: the score function must answer within its SLA whatever the neural service
 * does. Every call is bounded by `budgetMs` (connect, queue, inference and body included);
 * after `breakerFailures` consecutive failures the breaker opens and calls fail at once,
 * costing nothing, until `halfOpenAfterMs` has passed; then one probe call goes through
 * (half-open) and its outcome closes or reopens the breaker. The breaker is cockatiel's
 * (maintained, typed, half-open sampling built in). Tensors travel in the protocol's binary
 * tensor data extension by default (`#shared/open-inference`): 3,300 raw bytes instead of ~9 KB
 * of JSON numbers to print here and parse there on every call.
 *
 * The request and response codec is `./neural-codec`; the call's budget is the scoring path's
 * one deadline primitive, `Deadline` in `#domain/deadline`.
 */
import { Agent, type RequestOptions, request } from 'node:http';
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { Deadline } from '#domain/deadline';
import { type NeuralFailureKind, NeuralUnavailableError } from '#domain/errors';
import type { NeuralScorer } from '#domain/neural';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH, type SequenceInput } from '#domain/sequence';
import {
  INFERENCE_HEADER_CONTENT_LENGTH,
  TENSOR_ENCODINGS,
  type TensorEncoding,
} from '#shared/open-inference';
import { decodeScore, encodeInferRequest, type InferRequest, type RawResponse } from './neural-codec';

/** Client settings (from the score function's config). */
export interface NeuralScorerOptions {
  /** Base URL of the service, e.g. `http://neural.internal:8000`. */
  baseUrl: string;
  /** @default 'fraud-seq' */
  model?: string;
  /** Triton model version; the latest when absent. */
  version?: string;
  /** Whole-call budget in milliseconds. @default 15 */
  budgetMs?: number;
  /** Consecutive failures that open the breaker. @default 5 */
  breakerFailures?: number;
  /** How long the breaker stays open before a half-open probe. @default 5000 */
  halfOpenAfterMs?: number;
  /** Pooled sockets at most. @default 32 */
  maxSockets?: number;
  /**
   * `binary`: the input as raw little-endian FP32 bytes and the score asked back as bytes (the
   * protocol's binary tensor data extension, which Triton speaks); `json`: JSON numbers both
   * ways, for a server without the extension. @default 'binary'
   */
  tensorEncoding?: TensorEncoding;
}

/** Breaker states as metric values: 0 closed, 1 open, 2 half-open (isolated counts as open). */
export type BreakerStateName = 'closed' | 'open' | 'half_open';

/** Counters for metrics; read them, never write them. */
export interface NeuralScorerStats {
  calls: number;
  successes: number;
  /** Failures by kind (timeouts, breaker-open rejections, transport, HTTP status, protocol). */
  failures: Record<NeuralFailureKind, number>;
  breakerState: BreakerStateName;
  /** Times the breaker opened. */
  breakerOpened: number;
}

function stateName(state: CircuitState): BreakerStateName {
  if (state === CircuitState.Closed) return 'closed';
  if (state === CircuitState.HalfOpen) return 'half_open';
  return 'open';
}

/** What {@link HttpNeuralScorer.warmUp} did. */
export interface NeuralWarmUp {
  ok: boolean;
  /** Milliseconds the warm-up took. */
  ms: number;
  /** Why it failed, when it did. */
  error?: string;
}

export class HttpNeuralScorer implements NeuralScorer {
  readonly stats: NeuralScorerStats = {
    calls: 0,
    successes: 0,
    failures: { timeout: 0, breaker_open: 0, transport: 0, http_status: 0, protocol: 0, aborted: 0 },
    breakerState: 'closed',
    breakerOpened: 0,
  };
  private readonly agent: Agent;
  /** `http.request` options of every call, built once (no URL parsed per call). */
  private readonly target: RequestOptions;
  private readonly budgetMs: number;
  private readonly model: string;
  private readonly encoding: TensorEncoding;
  /** Why a call ran out of its budget: built once, called only when one does. */
  private readonly budgetExceeded: () => Error;
  private readonly breaker;

  constructor(options: NeuralScorerOptions) {
    this.model = options.model ?? 'fraud-seq';
    const path = `/v2/models/${encodeURIComponent(this.model)}${
      options.version ? `/versions/${encodeURIComponent(options.version)}` : ''
    }/infer`;
    const url = new URL(path, options.baseUrl);
    if (url.protocol !== 'http:') throw new Error(`neural service URL must be http:, got ${options.baseUrl}`);
    this.encoding = options.tensorEncoding ?? 'binary';
    if (!TENSOR_ENCODINGS.includes(this.encoding))
      throw new Error(`tensor encoding must be binary or json, got ${this.encoding}`);
    this.budgetMs = options.budgetMs ?? 15;
    if (!(this.budgetMs > 0)) throw new Error(`neural budget must be > 0 ms, got ${this.budgetMs}`);
    const budgetMs = this.budgetMs;
    this.budgetExceeded = () =>
      new DOMException(`neural call exceeded its ${budgetMs} ms budget`, 'TimeoutError');
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 32, keepAliveMsecs: 10_000 });
    this.target = {
      method: 'POST',
      agent: this.agent,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || 80,
      path: url.pathname + url.search,
    };
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.halfOpenAfterMs ?? 5_000,
      breaker: new ConsecutiveBreaker(options.breakerFailures ?? 5),
    });
    this.breaker.onStateChange((state) => {
      this.stats.breakerState = stateName(state);
      if (state === CircuitState.Open) this.stats.breakerOpened += 1;
    });
  }

  /** The breaker's current state. */
  get breakerState(): BreakerStateName {
    return stateName(this.breaker.state);
  }

  async score(input: SequenceInput, signal?: AbortSignal): Promise<number> {
    this.stats.calls += 1;
    if (input.data.length !== SEQUENCE_STEPS * SEQUENCE_WIDTH) {
      return this.fail(new NeuralUnavailableError('protocol', `input has ${input.data.length} values`));
    }
    const deadline = new Deadline(this.budgetMs, this.budgetExceeded, signal);
    try {
      const score = await this.breaker.execute(() => this.infer(input, deadline));
      this.stats.successes += 1;
      return score;
    } catch (error) {
      if (error instanceof NeuralUnavailableError) return this.fail(error);
      if (error instanceof BrokenCircuitError) {
        return this.fail(
          new NeuralUnavailableError('breaker_open', 'neural circuit breaker is open', { cause: error }),
        );
      }
      const kind: NeuralFailureKind = deadline.timedOut
        ? 'timeout'
        : deadline.aborted
          ? 'aborted'
          : 'transport';
      return this.fail(new NeuralUnavailableError(kind, (error as Error).message, { cause: error }));
    } finally {
      deadline.clear();
    }
  }

  /**
   * Opens `connections` pooled keep-alive connections, each with one real inference of an empty
   * (all-zero) sequence, so that the first scored request pays neither the TCP connect nor the
   * service's and this client's first-call paths. Run it at init. It bypasses the breaker and
   * the stats and has its own `timeoutMs`: a service that is down at init must neither fail
   * init nor open the breaker (requests then degrade on their own). Never rejects.
   */
  async warmUp(timeoutMs = 2_000, connections = 1): Promise<NeuralWarmUp> {
    const started = performance.now();
    const zero: SequenceInput = { data: new Float32Array(SEQUENCE_STEPS * SEQUENCE_WIDTH), length: 1 };
    const deadline = new Deadline(
      timeoutMs,
      () => new DOMException(`neural call exceeded its ${timeoutMs} ms budget`, 'TimeoutError'),
    );
    try {
      await Promise.all(Array.from({ length: connections }, () => this.infer(zero, deadline)));
      return { ok: true, ms: performance.now() - started };
    } catch (error) {
      return { ok: false, ms: performance.now() - started, error: (error as Error).message };
    } finally {
      deadline.clear();
    }
  }

  private fail(error: NeuralUnavailableError): never {
    this.stats.failures[error.kind] += 1;
    throw error;
  }

  private async infer(input: SequenceInput, deadline: Deadline): Promise<number> {
    let response: RawResponse;
    try {
      response = await this.post(encodeInferRequest(input.data, this.encoding), deadline);
    } catch (error) {
      if (deadline.timedOut) {
        throw new NeuralUnavailableError('timeout', `neural call exceeded its ${deadline.ms} ms budget`, {
          cause: error,
        });
      }
      if (deadline.aborted)
        throw new NeuralUnavailableError('aborted', 'neural call aborted', { cause: error });
      throw new NeuralUnavailableError('transport', `neural call failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.status !== 200) {
      throw new NeuralUnavailableError(
        'http_status',
        `neural service answered ${response.status}: ${response.body.toString('utf8', 0, 200)}`,
      );
    }
    return decodeScore(response);
  }

  private post(outgoing: InferRequest, deadline: Deadline): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      let untrack = () => {};
      const settle =
        <T>(done: (value: T) => void) =>
        (value: T) => {
          untrack();
          done(value);
        };
      const req = request({ ...this.target, headers: outgoing.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on(
          'end',
          settle(() =>
            resolve({
              status: res.statusCode ?? 0,
              body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
              headerLength: res.headers[INFERENCE_HEADER_CONTENT_LENGTH],
            }),
          ),
        );
        res.on('error', settle(reject));
      });
      req.on('error', settle(reject));
      untrack = deadline.track((reason) => req.destroy(reason));
      req.end(outgoing.body);
    });
  }

  /** Closes pooled sockets (tests, shutdown). */
  close(): void {
    this.agent.destroy();
  }
}
