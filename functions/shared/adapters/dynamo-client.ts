/**
 * One place that builds DynamoDB clients with the settings the scoring path needs:
 * keep-alive connections, tight timeouts and at most one fast retry. Created once at module
 * scope by each handler, never per invocation.
 */

import { Agent as HttpAgent } from 'node:http';
import { Agent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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

function rawClient(options: DynamoClientOptions): DynamoDBClient {
  const agentOptions = { keepAlive: true, maxSockets: 50 };
  const client = new DynamoDBClient({
    region: options.region ?? (options.endpoint ? 'us-east-1' : undefined),
    endpoint: options.endpoint,
    maxAttempts: options.maxAttempts ?? 2,
    // A local endpoint needs credentials of some kind; dynalite ignores them.
    ...(options.endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 200,
      requestTimeout: options.requestTimeoutMs ?? 500,
      // Without this, smithy 4.x only logs when requestTimeout passes and the request hangs on.
      throwOnRequestTimeout: true,
      httpsAgent: new Agent(agentOptions),
      httpAgent: new HttpAgent(agentOptions),
    }),
  });
  for (const name of DROPPED_MIDDLEWARE) client.middlewareStack.remove(name);
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
