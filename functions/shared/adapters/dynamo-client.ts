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
  region?: string;
  /** Local endpoint (dynalite) for the local stack and tests; unset in AWS. */
  endpoint?: string;
  /** TCP connect timeout in ms. @default 200 */
  connectionTimeoutMs?: number;
  /** Whole-request timeout in ms. @default 500 */
  requestTimeoutMs?: number;
  /** Total attempts including the first. @default 2 */
  maxAttempts?: number;
}

/** The raw client (for Powertools idempotency) and a document client over it (for our adapters). */
export function createDynamoClients(options: DynamoClientOptions = {}): {
  client: DynamoDBClient;
  documents: DynamoDBDocumentClient;
} {
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
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, documents };
}
