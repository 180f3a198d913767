/**
 * One place that builds DynamoDB clients with the settings the scoring path needs:
 * keep-alive connections, tight timeouts and at most one fast retry. Created once at module
 * scope by each handler, never per invocation.
 */

import { Agent as HttpAgent } from 'node:http';
import { Agent } from 'node:https';
import {
  type BatchGetItemCommand,
  DynamoDBClient,
  type GetItemCommand,
  type PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface DynamoClientOptions {
  /**
   * AWS region.
   * @default - the SDK's resolution (AWS_REGION, which Lambda sets; then the profile);
   *   `us-east-1` for a local endpoint, which ignores it
   */
  readonly region?: string;
  /** Local endpoint (dynalite) for the local stack and tests; unset in AWS. */
  readonly endpoint?: string;
  /** TCP connect timeout in ms. @default 200 */
  readonly connectionTimeoutMs?: number;
  /** Whole-request timeout in ms. @default 500 */
  readonly requestTimeoutMs?: number;
  /** Total attempts including the first. @default 2 */
  readonly maxAttempts?: number;
}

/**
 * SDK middleware the project's clients run without, each measured per call with
 * `npm run profile` (see docs/performance.md):
 * - `loggerMiddleware`: even with the SDK's no-op logger it copies every input and output
 *   through the schema's sensitive-data filter, a deep walk of each feature item, to log nothing;
 * - `getUserAgentMiddleware`: builds and escapes the same `User-Agent` string on every call
 *   (DynamoDB does not need it; the request still carries Node's default);
 * - `recursionDetectionMiddleware`: reads the environment and the invoke store to copy the X-Ray
 *   trace id into a header, which serves Lambda-to-Lambda loop detection, not DynamoDB.
 * Signing, host and length headers, retries, serialization and endpoint resolution stay.
 */
export const DROPPED_MIDDLEWARE = [
  'loggerMiddleware',
  'getUserAgentMiddleware',
  'recursionDetectionMiddleware',
] as const;

/**
 * The request handler of the scoring client: a call's abort signal reaches it on the request
 * (see {@link sendAbortable}) instead of through `send`'s options, which would defeat the
 * cached middleware stack.
 */
class SignalRequestHandler extends NodeHttpHandler {
  override handle(...[request, options]: Parameters<NodeHttpHandler['handle']>) {
    const signal = (request as { [REQUEST_SIGNAL]?: AbortSignal })[REQUEST_SIGNAL];
    return super.handle(
      request,
      signal && !options?.abortSignal ? { ...options, abortSignal: signal } : options,
    );
  }
}

/** Where {@link sendAbortable} leaves a call's signal, keyed by the command's input object. */
const callSignals = new WeakMap<object, AbortSignal>();
const REQUEST_SIGNAL = Symbol('fraud-scoring.abortSignal');
/** Clients built by {@link createScoringClient}: the only ones whose stack carries the signal. */
const signalClients = new WeakSet<DynamoDBClient>();

/**
 * Moves the call's signal onto each attempt's HTTP request. In the `deserialize` step, the last
 * before the request handler, so it runs after the retry middleware's clone and the signer's
 * for every attempt.
 */
const signalToRequest: MiddlewareOf<DynamoDBClient> = (next) =>
  async function signalToRequestMiddleware(args) {
    const signal = callSignals.get(args.input as object);
    if (signal && args.request && typeof args.request === 'object')
      (args.request as { [REQUEST_SIGNAL]?: AbortSignal })[REQUEST_SIGNAL] = signal;
    return next(args);
  };
type MiddlewareOf<C extends DynamoDBClient> = Parameters<C['middlewareStack']['add']>[0];

/** An SDK client without {@link DROPPED_MIDDLEWARE}; `scoring` adds the cached stack and the signal (see {@link createScoringClient}). */
export function rawClient(options: DynamoClientOptions, scoring = false): DynamoDBClient {
  const agentOptions = { keepAlive: true, maxSockets: 50 };
  const handlerOptions = {
    connectionTimeout: options.connectionTimeoutMs ?? 200,
    requestTimeout: options.requestTimeoutMs ?? 500,
    // Without this, smithy 4.x only logs when requestTimeout passes and the request hangs on.
    throwOnRequestTimeout: true,
    httpsAgent: new Agent(agentOptions),
    httpAgent: new HttpAgent(agentOptions),
  };
  const client = new DynamoDBClient({
    region: options.region ?? (options.endpoint ? 'us-east-1' : undefined),
    endpoint: options.endpoint,
    maxAttempts: options.maxAttempts ?? 2,
    // A local endpoint needs credentials of some kind; dynalite ignores them.
    ...(options.endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    ...(scoring ? { cacheMiddleware: true } : {}),
    requestHandler: scoring ? new SignalRequestHandler(handlerOptions) : new NodeHttpHandler(handlerOptions),
  });
  for (const name of DROPPED_MIDDLEWARE) client.middlewareStack.remove(name);
  if (scoring) {
    client.middlewareStack.add(signalToRequest, {
      step: 'deserialize',
      priority: 'low',
      name: 'signalToRequestMiddleware',
    });
    signalClients.add(client);
  }
  return client;
}

/**
 * The raw client (the scoring store, which (un)marshals its few attributes by hand, and table
 * set-up) and a document client over it (the feature writers), without the middleware in
 * {@link DROPPED_MIDDLEWARE}.
 */
export function createDynamoClients(options: DynamoClientOptions = {}): {
  client: DynamoDBClient;
  documents: DynamoDBDocumentClient;
} {
  const client = rawClient(options);
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, documents };
}

/**
 * The scoring store's own raw client: as {@link createDynamoClients}' raw client, and with the
 * SDK's `cacheMiddleware`, so that each call reuses its command's resolved middleware stack
 * instead of building and sorting it again (~150 µs of CPU per call measured under load, see
 * docs/performance.md). The SDK caches only for `send` calls without options, so a deadline's
 * signal goes through {@link sendAbortable}. Never put a document client over it: a cached
 * document-client handler is bound to the first command it was resolved for.
 */
export function createScoringClient(options: DynamoClientOptions = {}): DynamoDBClient {
  return rawClient(options, true);
}

/**
 * `client.send(command)` that the signal really cancels: on a {@link createScoringClient}
 * client through the request (keeping the cached stack), on any other client through `send`'s
 * options.
 */
export function sendAbortable<Output>(
  client: DynamoDBClient,
  command: DynamoCommand,
  signal: AbortSignal | undefined,
): Promise<Output> {
  // One call per command type: `send`'s overloads do not take the union.
  const send = client.send.bind(client) as (
    command: DynamoCommand,
    options?: { abortSignal?: AbortSignal },
  ) => Promise<Output>;
  if (signal && signalClients.has(client)) callSignals.set(command.input, signal);
  else if (signal) return send(command, { abortSignal: signal });
  return send(command);
}

/** The commands of the scoring path. */
type DynamoCommand = BatchGetItemCommand | PutItemCommand | GetItemCommand;
