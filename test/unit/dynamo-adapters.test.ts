/**
 * What dynalite cannot produce on demand: throttled batch writes (unprocessed keys of the
 * scoring store's reads: `scoring-store.test.ts`). (Write
 * conflicts of the feature writers: `transactional-feature-writer.test.ts` and the
 * integration tests.)
 */
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createDynamoClients, type DynamoClientOptions } from '#adapters/dynamo-client';
import { bulkDelete, bulkWrite } from '#adapters/feature-bulk-loader';
import { BulkWriteError } from '#domain/errors';

const documents = createDynamoClients({ endpoint: 'http://127.0.0.1:9' }).documents;
const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

describe('bulkWrite with a mocked client', () => {
  const items = Array.from({ length: 30 }, (_, i) => ({ pk: `card#${i}` }));

  it('retries unprocessed items until they are written', async () => {
    // prepare
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { t: [{ PutRequest: { Item: { pk: 'card#0' } } }] } })
      .resolves({});
    const progress: number[] = [];
    // act
    const written = await bulkWrite(documents, 't', items, {
      sleep: async () => {},
      onProgress: (n) => progress.push(n),
    });
    // assert
    expect(written).toBe(30);
    expect(progress).toEqual([25, 30]);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });

  it('fails loudly when items stay unprocessed', async () => {
    // prepare
    ddb
      .on(BatchWriteCommand)
      .resolves({ UnprocessedItems: { t: [{ PutRequest: { Item: { pk: 'card#0' } } }] } });
    // act
    const result = bulkWrite(documents, 't', items, { sleep: async () => {}, maxRetries: 2 });
    // assert
    await expect(result).rejects.toBeInstanceOf(BulkWriteError);
  });
});

describe('bulkDelete with a mocked client', () => {
  it('sends the keys as DeleteRequests in batches of 25 and retries unprocessed ones', async () => {
    // prepare
    const keys = Array.from({ length: 30 }, (_, i) => ({ pk: `card#${i}` }));
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { t: [{ DeleteRequest: { Key: { pk: 'card#0' } } }] } })
      .resolves({});
    // act
    const deleted = await bulkDelete(documents, 't', keys, { sleep: async () => {} });
    // assert
    expect(deleted).toBe(30);
    const sent = ddb.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems?.t ?? []);
    expect(sent.map((batch) => batch.length)).toEqual([25, 1, 5]);
    expect(sent[0]?.[0]).toEqual({ DeleteRequest: { Key: { pk: 'card#0' } } });
    expect(sent.flat().every((request) => 'DeleteRequest' in request)).toBe(true);
  });
});

describe('createDynamoClients region', () => {
  const saved = process.env.AWS_REGION;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = saved;
  });

  /** The region the SDK client resolves for these options; the client is destroyed after. */
  async function resolvedRegion(options: DynamoClientOptions): Promise<string> {
    const { client } = createDynamoClients(options);
    try {
      return await client.config.region();
    } finally {
      client.destroy();
    }
  }

  it('uses the Lambda region (AWS_REGION) when no region is given, not a hard-coded one', async () => {
    // prepare
    process.env.AWS_REGION = 'eu-west-1';
    // act
    const region = await resolvedRegion({});
    // assert
    expect(region).toBe('eu-west-1');
  });

  it('uses an explicit region', async () => {
    // prepare
    delete process.env.AWS_REGION;
    // act
    const region = await resolvedRegion({ region: 'ap-southeast-2' });
    // assert
    expect(region).toBe('ap-southeast-2');
  });

  it('uses a placeholder region for a local endpoint', async () => {
    // prepare
    delete process.env.AWS_REGION;
    // act
    const region = await resolvedRegion({ endpoint: 'http://127.0.0.1:9' });
    // assert
    expect(region).toBe('us-east-1');
  });
});
