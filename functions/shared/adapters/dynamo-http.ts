/**
 * The scoring path's DynamoDB calls as signed HTTP requests of DynamoDB's JSON protocol, with the
 * AWS SDK's own parts resolved once instead of per call.
 *
 * Why: through the SDK, one BatchGetItem cost the calling process ~0.9 ms of CPU against ~0.3 ms
 * for the same request signed by the SDK's signer and sent over the same keep-alive HTTP agent
 * (measured side by side, 4 callers against one dynalite; see docs/performance.md). Most of the
 * difference is per-call work whose result never changes within a process: the endpoint rule set,
 * the auth-scheme and identity resolution, the schema walk of an input that is already DynamoDB's
 * wire format (the store writes attribute values by hand), the middleware chain, the invocation
 * id. Two calls per answer made it about 40 % of a front worker's CPU.
 *
 * What stays the SDK's: the client's configuration (region, credentials provider chain with its
 * caching and refresh, endpoint rules incl. FIPS and dual-stack). SigV4 signing is
 * `dynamo-signer.ts`'s: the same headers as the SDK's signer (`@smithy/signature-v4`) gives these
 * requests, tested against it, for a sixth of its CPU (`npm run bench`, the SigV4 rows). What is
 * this file's, and tested against a server: the JSON protocol (request headers, error `__type`),
 * timeouts, aborts, and the SDK's standard retry semantics for two attempts (which errors,
 * jittered back-off, a retry quota so a failing table is not hit twice as hard).
 *
 * `DYNAMODB_CLIENT=sdk` (see {@link createScoringCaller}) puts the SDK client back, unchanged.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynamoClientOptions, rawClient, sendAbortable } from './dynamo-client';
import { DynamoSigner } from './dynamo-signer';

/** The operations of the scoring path, and of the local feature updater's marker writer. */
export type DynamoOperation = 'BatchGetItem' | 'PutItem' | 'GetItem' | 'BatchWriteItem';

/**
 * One DynamoDB call: the operation's input as DynamoDB's JSON protocol has it (attribute values
 * as `{ S: … }`, `{ N: "…" }`; no binary), and its output parsed the same way.
 */
export interface DynamoCaller {
  call<Output>(operation: DynamoOperation, input: object, signal?: AbortSignal): Promise<Output>;
  /** Releases the kept-alive sockets. */
  destroy(): void;
}

/**
 * A DynamoDB error answer, named as the SDK names it (`ConditionalCheckFailedException`,
 * `ProvisionedThroughputExceededException`, …), with the answer's other fields (`Item` of a
 * failed condition with `ReturnValuesOnConditionCheckFailure`).
 */
export class DynamoServiceError extends Error {
  constructor(
    name: string,
    message: string,
    readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string },
    readonly fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = name;
  }

  /** The item a failed condition returned (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). */
  get Item(): unknown {
    return this.fields.Item;
  }
}

/** Error names the SDK's standard retry strategy treats as throttling (longer back-off). */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'BandwidthLimitExceeded',
  'SlowDown',
  'ThrottledException',
  'TransactionInProgressException',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);
/** Transient error names and socket error codes the SDK retries. */
const TRANSIENT = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

/** The SDK's standard retry quota: 500 tokens, 5 per retry (10 after a timeout), 1 back per success. */
const RETRY_QUOTA = { capacity: 500, cost: 5, timeoutCost: 10, refund: 1 } as const;
/** Back-off bases of the standard strategy: a random delay up to 2 × base before the second attempt. */
const BACKOFF_MS = { default: 100, throttling: 500 } as const;

/** A conditional write lost: by name, as both the SDK's exception and {@link DynamoServiceError} carry it. */
export function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

type Retry = 'no' | 'transient' | 'throttling';

function retryOf(error: unknown): Retry {
  if (!(error instanceof Error) || error.name === 'AbortError') return 'no';
  if (THROTTLING.has(error.name)) return 'throttling';
  const status = error instanceof DynamoServiceError ? error.$metadata.httpStatusCode : undefined;
  if (status === 429) return 'throttling';
  if (status !== undefined && TRANSIENT_STATUS.has(status)) return 'transient';
  const code = (error as { code?: string }).code;
  return TRANSIENT.has(error.name) || (code !== undefined && TRANSIENT.has(code)) ? 'transient' : 'no';
}

function timeoutError(message: string): Error {
  const error = new Error(message);
  error.name = 'TimeoutError';
  return error;
}

function abortError(signal: AbortSignal): Error {
  const error = new Error('Request aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

/** What {@link SignedHttpCaller} is built from: all resolved once, from the SDK client's configuration. */
export interface SignedHttpCallerParts {
  readonly endpoint: URL;
  /** The request's headers, signed: {@link DynamoSigner} (the same headers as the SDK's signer). */
  readonly signer: Pick<DynamoSigner, 'sign'>;
  /** TCP connect timeout in ms. */
  readonly connectionTimeoutMs: number;
  /** Socket idle timeout in ms, per attempt. */
  readonly requestTimeoutMs: number;
  /** Total attempts including the first. */
  readonly maxAttempts: number;
  /** Random number in [0, 1), for the back-off jitter. @default Math.random */
  readonly random?: () => number;
}

/**
 * DynamoDB's JSON protocol over one keep-alive agent: sign, send, parse. See the file's comment
 * for what is the SDK's and what is not.
 */
export class SignedHttpCaller implements DynamoCaller {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private quota: number = RETRY_QUOTA.capacity;

  constructor(private readonly parts: SignedHttpCallerParts) {
    const https = parts.endpoint.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: 50 };
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.send = https ? httpsRequest : httpRequest;
  }

  /** Where the calls go. */
  get endpoint(): URL {
    return this.parts.endpoint;
  }

  /** Builds it from a client's configuration: region, credentials, endpoint rules and hash. */
  static async fromClient(
    client: DynamoDBClient,
    options: Pick<SignedHttpCallerParts, 'connectionTimeoutMs' | 'requestTimeoutMs' | 'maxAttempts'>,
  ): Promise<SignedHttpCaller> {
    const config = client.config;
    const region = await config.region();
    const custom = config.endpoint ? await config.endpoint() : undefined;
    const endpoint = config.endpointProvider(
      {
        Region: region,
        UseFIPS: await config.useFipsEndpoint(),
        UseDualStack: await config.useDualstackEndpoint(),
        Endpoint: custom
          ? `${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ''}${custom.path}`
          : undefined,
        // The regional endpoint: account-based endpoints need the account id of the identity,
        // known only per call, and the regional one serves every account.
        AccountIdEndpointMode: 'disabled',
      },
      {},
    ).url;
    const signer = new DynamoSigner({
      region,
      // The client's provider chain, memoized and refreshed by the SDK before expiry.
      credentials: config.credentials,
      endpoint,
    });
    return new SignedHttpCaller({ endpoint, signer, ...options });
  }

  async call<Output>(operation: DynamoOperation, input: object, signal?: AbortSignal): Promise<Output> {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const output = await this.attempt<Output>(operation, body, signal);
        this.quota = Math.min(RETRY_QUOTA.capacity, this.quota + RETRY_QUOTA.refund);
        return output;
      } catch (error) {
        const retry = retryOf(error);
        const cost = (error as Error).name === 'TimeoutError' ? RETRY_QUOTA.timeoutCost : RETRY_QUOTA.cost;
        if (retry === 'no' || attempt >= this.parts.maxAttempts || this.quota < cost) throw error;
        this.quota -= cost;
        const base = retry === 'throttling' ? BACKOFF_MS.throttling : BACKOFF_MS.default;
        // Rejects with an `AbortError` as soon as the signal aborts, as an attempt in flight does.
        await delay(Math.floor((this.parts.random ?? Math.random)() * base * 2 ** attempt), undefined, {
          signal,
        });
      }
    }
  }

  private async attempt<Output>(
    operation: DynamoOperation,
    body: string,
    signal?: AbortSignal,
  ): Promise<Output> {
    const headers = await this.parts.signer.sign(`DynamoDB_20120810.${operation}`, body);
    if (signal?.aborted) throw abortError(signal);
    const response = await this.exchange(headers, body, signal);
    const parsed = response.text.length > 0 ? (JSON.parse(response.text) as Record<string, unknown>) : {};
    if (response.status === 200) return parsed as Output;
    const type = String(parsed.__type ?? '');
    const name = type.slice(type.lastIndexOf('#') + 1) || `HTTP ${response.status}`;
    const message = String(parsed.message ?? parsed.Message ?? name);
    throw new DynamoServiceError(
      name,
      message,
      { httpStatusCode: response.status, requestId: response.requestId },
      parsed,
    );
  }

  /**
   * One HTTP exchange: the connect and idle timeouts of the SDK's handler, and the caller's abort.
   * The abort is a listener of this call's own that destroys the request, not `http.request`'s
   * `signal` option: that one also watches the request's end with `eos` (listeners on the request
   * and its socket, added and removed per call): ~25 µs more per put against dynalite, interleaved.
   */
  private exchange(
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; text: string; requestId?: string }> {
    const { endpoint, connectionTimeoutMs, requestTimeoutMs } = this.parts;
    return new Promise((resolve, reject) => {
      const req = this.send(
        {
          agent: this.agent,
          protocol: endpoint.protocol,
          hostname: endpoint.hostname,
          port: endpoint.port || undefined,
          path: endpoint.pathname,
          method: 'POST',
          headers,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', fail);
          res.on('end', () => {
            signal?.removeEventListener('abort', onAbort);
            resolve({
              status: res.statusCode ?? 0,
              text:
                chunks.length === 1
                  ? (chunks[0] as Buffer).toString('utf8')
                  : Buffer.concat(chunks).toString('utf8'),
              requestId: res.headers['x-amzn-requestid'] as string | undefined,
            });
          });
        },
      );
      function onAbort(): void {
        req.destroy(abortError(signal as AbortSignal));
      }
      function fail(error: Error): void {
        signal?.removeEventListener('abort', onAbort);
        reject(signal?.aborted ? abortError(signal) : error);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.setTimeout(requestTimeoutMs, () =>
        req.destroy(timeoutError(`no answer from DynamoDB for ${requestTimeoutMs} ms`)),
      );
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(
          () => req.destroy(timeoutError(`could not connect to DynamoDB within ${connectionTimeoutMs} ms`)),
          connectionTimeoutMs,
        );
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.end(body);
    });
  }

  destroy(): void {
    this.agent.destroy();
  }
}

const COMMANDS = {
  BatchGetItem: BatchGetItemCommand,
  PutItem: PutItemCommand,
  GetItem: GetItemCommand,
  BatchWriteItem: BatchWriteItemCommand,
};

/** The same calls through an SDK client (`DYNAMODB_CLIENT=sdk`, and tests that mock the SDK). */
export function sdkCaller(client: DynamoDBClient): DynamoCaller {
  return {
    call<Output>(operation: DynamoOperation, input: object, signal?: AbortSignal): Promise<Output> {
      const Command = COMMANDS[operation] as new (
        input: object,
      ) => InstanceType<(typeof COMMANDS)['GetItem']>;
      return sendAbortable<Output>(client, new Command(input), signal);
    },
    destroy: () => client.destroy(),
  };
}

/** `dynamo` itself, or calls through it when it is an SDK client (what the store and writer accept). */
export function asCaller(dynamo: DynamoCaller | DynamoDBClient): DynamoCaller {
  return 'call' in dynamo ? dynamo : sdkCaller(dynamo);
}

/**
 * A caller built on its first call: for set-up code that cannot await (the feature updater's
 * Lambda entry is bundled as CommonJS, without top-level await).
 */
export function lazyCaller(build: () => Promise<DynamoCaller>): DynamoCaller {
  let building: Promise<DynamoCaller> | undefined;
  let built: DynamoCaller | undefined;
  return {
    call<Output>(operation: DynamoOperation, input: object, signal?: AbortSignal): Promise<Output> {
      if (built) return built.call<Output>(operation, input, signal);
      building ??= build().then((caller) => {
        built = caller;
        return caller;
      });
      return building.then((caller) => caller.call<Output>(operation, input, signal));
    },
    destroy: () => {
      void building?.then((caller) => caller.destroy());
    },
  };
}

/** Which client the scoring path uses: `http` (signed HTTP, the default) or `sdk`. */
export type ScoringClientKind = 'http' | 'sdk';

/**
 * The scoring store's caller: {@link SignedHttpCaller} built from a scoring client's
 * configuration, or (`kind: 'sdk'`) that client itself.
 */
export async function createScoringCaller(
  options: DynamoClientOptions & { readonly kind?: ScoringClientKind } = {},
): Promise<DynamoCaller> {
  // Only the SDK kind sends through this client (cached stack, signal on the request); the signed
  // caller reads its configuration.
  const sdk = options.kind === 'sdk';
  const client = rawClient(options, sdk);
  if (sdk) return sdkCaller(client);
  return SignedHttpCaller.fromClient(client, {
    connectionTimeoutMs: options.connectionTimeoutMs ?? 200,
    requestTimeoutMs: options.requestTimeoutMs ?? 500,
    maxAttempts: options.maxAttempts ?? 2,
  });
}
