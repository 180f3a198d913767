/** dynalite on a random port with the project's tables, for integration tests. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients, createScoringClient } from '#adapters/dynamo-client';
import { createScoringCaller, type DynamoCaller } from '#adapters/dynamo-http';
import { FEATURE_TABLE, IDEMPOTENCY_TABLE } from '#shared/table-schema';
import { ensureTable, startDynalite } from '../../scripts/local/dynamo-local';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** The score function's own client (cached middleware stack; see `createScoringClient`). */
  scoringClient: DynamoDBClient;
  /** The score function's default caller: signed HTTP (see `dynamo-http.ts`). */
  scoringCaller: DynamoCaller;
  documents: DynamoDBDocumentClient;
  featureTable: string;
  idempotencyTable: string;
  close(): Promise<void>;
}

let counter = 0;

export async function startTestDynamo(): Promise<TestDynamo> {
  const server = await startDynalite();
  const { client, documents } = createDynamoClients({ endpoint: server.endpoint, requestTimeoutMs: 5000 });
  const scoringClient = createScoringClient({ endpoint: server.endpoint, requestTimeoutMs: 5000 });
  const scoringCaller = await createScoringCaller({ endpoint: server.endpoint, requestTimeoutMs: 5000 });
  counter += 1;
  const featureTable = `features-${counter}`;
  const idempotencyTable = `idempotency-${counter}`;
  await ensureTable(client, featureTable, FEATURE_TABLE);
  await ensureTable(client, idempotencyTable, IDEMPOTENCY_TABLE);
  return {
    endpoint: server.endpoint,
    client,
    scoringClient,
    scoringCaller,
    documents,
    featureTable,
    idempotencyTable,
    close: async () => {
      client.destroy();
      scoringClient.destroy();
      scoringCaller.destroy();
      await server.close();
    },
  };
}
