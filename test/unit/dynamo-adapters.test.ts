/**
 * What dynalite cannot produce on demand: throttled batch writes (unprocessed keys of the
 * scoring store's reads: `scoring-store.test.ts`). (Write
 * conflicts of the feature writers: `transactional-feature-writer.test.ts` and the
 * integration tests.)
 */
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createDynamoClients } from '#adapters/dynamo-client';
import { bulkWrite } from '#adapters/feature-bulk-loader';
import { BulkWriteError } from '#domain/errors';

const documents = createDynamoClients({ endpoint: 'http://127.0.0.1:9' }).documents;
const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

describe('bulkWrite with a mocked client', () => {
  const items = Array.from({ length: 30 }, (_, i) => ({ pk: `card#${i}` }));

  it('retries unprocessed items until they are written', async () => {
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { t: [{ PutRequest: { Item: { pk: 'card#0' } } }] } })
      .resolves({});
    const progress: number[] = [];
    const written = await bulkWrite(documents, 't', items, {
      sleep: async () => {},
      onProgress: (n) => progress.push(n),
    });
    expect(written).toBe(30);
    expect(progress).toEqual([25, 30]);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });

  it('fails loudly when items stay unprocessed', async () => {
    ddb
      .on(BatchWriteCommand)
      .resolves({ UnprocessedItems: { t: [{ PutRequest: { Item: { pk: 'card#0' } } }] } });
    await expect(
      bulkWrite(documents, 't', items, { sleep: async () => {}, maxRetries: 2 }),
    ).rejects.toBeInstanceOf(BulkWriteError);
  });
});

describe('createDynamoClients region', () => {
  const saved = process.env.AWS_REGION;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = saved;
  });

  it('uses the Lambda region (AWS_REGION) when no region is given, not a hard-coded one', async () => {
    process.env.AWS_REGION = 'eu-west-1';
    const { client } = createDynamoClients({});
    expect(await client.config.region()).toBe('eu-west-1');
    client.destroy();
  });

  it('uses an explicit region, and a placeholder one for a local endpoint', async () => {
    delete process.env.AWS_REGION;
    const explicit = createDynamoClients({ region: 'ap-southeast-2' }).client;
    const local = createDynamoClients({ endpoint: 'http://127.0.0.1:9' }).client;
    expect(await explicit.config.region()).toBe('ap-southeast-2');
    expect(await local.config.region()).toBe('us-east-1');
    explicit.destroy();
    local.destroy();
  });
});
