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
 */
import { Agent, type RequestOptions, request } from 'node:http';
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { type NeuralFailureKind, NeuralUnavailableError } from '#domain/errors';
import type { NeuralScorer } from '#domain/neural';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH, type SequenceInput } from '#domain/sequence';
import {
  FP32_BYTES,
  fp32ToBytes,
  INFERENCE_HEADER_CONTENT_LENGTH,
  type InferenceBodyError,
  inferenceHeaderLength,
  TENSOR_ENCODINGS,
  type TensorEncoding,
} from '#shared/open-inference';

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

/** The response of one inference call, before validation. */
interface RawResponse {
  status: number;
  body: Buffer;
  /** `Inference-Header-Content-Length`, when the body carries binary tensors. */
  headerLength?: string | string[];
}

const ROW_VALUES = SEQUENCE_STEPS * SEQUENCE_WIDTH;

/**
 * The JSON part of every binary request: the same for every call (one row), so it is encoded
 * once; only the tensor bytes after it change.
 */
const BINARY_REQUEST_HEADER = Buffer.from(
  JSON.stringify({
    inputs: [
      {
        name: 'sequence',
        shape: [1, SEQUENCE_STEPS, SEQUENCE_WIDTH],
        datatype: 'FP32',
        parameters: { binary_data_size: ROW_VALUES * FP32_BYTES },
      },
    ],
    outputs: [{ name: 'score', parameters: { binary_data: true } }],
  }),
);

/** One inference call's body and headers: what the client sends and the benchmark replays. */
export interface InferRequest {
  readonly body: Buffer;
  readonly headers: Record<string, string | number>;
}

/**
 * The request for one `[1, SEQUENCE_STEPS, SEQUENCE_WIDTH]` row in `encoding`: the binary tensor
 * extension (the JSON header encoded once, then the raw FP32 bytes, the score asked back as
 * bytes) or JSON numbers.
 */
export function encodeInferRequest(data: Float32Array, encoding: TensorEncoding): InferRequest {
  if (encoding === 'binary') {
    const body = Buffer.concat([BINARY_REQUEST_HEADER, fp32ToBytes(data)]);
    return {
      body,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        [INFERENCE_HEADER_CONTENT_LENGTH]: BINARY_REQUEST_HEADER.length,
      },
    };
  }
  const body = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'sequence',
          shape: [1, SEQUENCE_STEPS, SEQUENCE_WIDTH],
          datatype: 'FP32',
          data: Array.from(data),
        },
      ],
      outputs: [{ name: 'score' }],
    }),
  );
  return { body, headers: { 'content-type': 'application/json', 'content-length': body.length } };
}

interface ResponseOutput {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: { binary_data_size?: unknown };
}

/**
 * One call's budget and its caller's abort, released when the call settles: when either runs
 * out first, the call's requests in flight are destroyed.
 *
 * Why not `AbortSignal.timeout` (and `AbortSignal.any` with the caller's signal): its timer
 * outlives the call. Every call's timer fired `budgetMs` after a request long answered, woke
 * the event loop and built a `DOMException` (stack trace included) for an abort nobody
 * listened to: ~70 µs of CPU per call in a sequential probe against the twin (client CPU per
 * call 374 µs, against 233 µs with a cleared timer), and one more wake-up of the score process
 * per request on the box the neural service shares. Why no `AbortController` either: a signal
 * handed to `http.request` costs an `AbortController`, its `AbortSignal`, and an abort listener
 * added to and removed from it per call (5 % of the client's profile in `bench:neural --parts
 * tail`); the deadline destroys its requests itself.
 */
class CallDeadline {
  private readonly timer: NodeJS.Timeout;
  private readonly caller?: AbortSignal;
  private readonly onCallerAbort?: () => void;
  /** Destroys each request in flight under this deadline (warm-up sends several). */
  private readonly inFlight = new Set<(reason: Error) => void>();
  /** Why the call was stopped, once it was. */
  private reason?: Error;
  /** The budget ran out (as opposed to the caller aborting). */
  timedOut = false;

  constructor(
    readonly ms: number,
    caller?: AbortSignal,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.stop(new DOMException(`neural call exceeded its ${ms} ms budget`, 'TimeoutError'));
    }, ms);
    if (!caller) return;
    if (caller.aborted) {
      this.stop(CallDeadline.abortError(caller));
    } else {
      this.caller = caller;
      this.onCallerAbort = () => this.stop(CallDeadline.abortError(caller));
      caller.addEventListener('abort', this.onCallerAbort, { once: true });
    }
  }

  private static abortError(caller: AbortSignal): Error {
    return caller.reason instanceof Error
      ? caller.reason
      : new DOMException('neural call aborted by its caller', 'AbortError');
  }

  private stop(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    for (const destroy of this.inFlight) destroy(reason);
    this.inFlight.clear();
  }

  /**
   * Registers a request in flight: `destroy` runs at once if the call is already stopped, or
   * when it stops. Returns the function that unregisters it (call it when the request settles).
   */
  track(destroy: (reason: Error) => void): () => void {
    if (this.reason) {
      destroy(this.reason);
      return () => {};
    }
    this.inFlight.add(destroy);
    return () => this.inFlight.delete(destroy);
  }

  /** The call was aborted by its caller before the budget ran out. */
  get aborted(): boolean {
    return this.reason !== undefined && !this.timedOut;
  }

  /** Stops the budget timer and forgets the caller's signal (the call has settled). */
  clear(): void {
    clearTimeout(this.timer);
    this.inFlight.clear();
    if (this.onCallerAbort) this.caller?.removeEventListener('abort', this.onCallerAbort);
  }
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
    const deadline = new CallDeadline(this.budgetMs, signal);
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
    const deadline = new CallDeadline(timeoutMs);
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

  private async infer(input: SequenceInput, deadline: CallDeadline): Promise<number> {
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
    return this.parseScore(response);
  }

  /**
   * Validates the protocol response: one FP32 `score` of shape [1, 1] holding a probability, as
   * JSON `data` or (binary extension) as 4 bytes after the JSON header. Whatever the server
   * sends back, the outcome is a score or a `protocol` failure, never a crash.
   */
  private parseScore(response: RawResponse): number {
    const { body } = response;
    const bad = (why: string, cause?: unknown): never => {
      throw new NeuralUnavailableError(
        'protocol',
        `neural response ${why}: ${body.toString('utf8', 0, 200)}`,
        cause === undefined ? undefined : { cause },
      );
    };
    let headerLength = body.length;
    try {
      headerLength = inferenceHeaderLength(response.headerLength, body.length);
    } catch (error) {
      bad((error as InferenceBodyError).message, error);
    }
    let json: { outputs?: ResponseOutput[] } | undefined;
    try {
      json = JSON.parse(body.toString('utf8', 0, headerLength));
    } catch (error) {
      bad('is not JSON', error);
    }
    const outputs = Array.isArray(json?.outputs) ? json.outputs : [];
    // Binary outputs follow the header in the order of the outputs array.
    let offset = headerLength;
    let output: ResponseOutput | undefined;
    let scoreOffset = -1;
    for (const o of outputs) {
      const size = o?.parameters?.binary_data_size;
      if (size !== undefined && !(Number.isSafeInteger(size) && (size as number) >= 0))
        bad('has a bad binary_data_size');
      if (o?.name === 'score') {
        output = o;
        if (size !== undefined) scoreOffset = offset;
      }
      offset += (size as number | undefined) ?? 0;
    }
    if (offset !== body.length) bad(`binary data ends at byte ${offset}, the body at ${body.length}`);
    const shape = output?.shape;
    if (
      output?.datatype !== 'FP32' ||
      !Array.isArray(shape) ||
      shape.length !== 2 ||
      shape[0] !== 1 ||
      shape[1] !== 1
    ) {
      bad('has no FP32 score of shape [1, 1]');
    }
    let score: unknown;
    if (scoreOffset >= 0) {
      if (output?.parameters?.binary_data_size !== FP32_BYTES) bad('has a binary score that is not 4 bytes');
      score = body.readFloatLE(scoreOffset);
    } else {
      const data = output?.data;
      if (!Array.isArray(data) || data.length !== 1) bad('has no FP32 score of shape [1, 1]');
      score = (data as unknown[])[0];
    }
    if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
      throw new NeuralUnavailableError(
        'protocol',
        `neural score ${JSON.stringify(score)} is not a probability`,
      );
    }
    return score;
  }

  private post(outgoing: InferRequest, deadline: CallDeadline): Promise<RawResponse> {
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
