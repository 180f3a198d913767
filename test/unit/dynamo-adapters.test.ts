/** What dynalite cannot produce on demand: unprocessed keys, write conflicts, throttled batch writes. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createDynamoClients } from '#adapters/dynamo-client';
import {
  DynamoFeatureStore,
  DynamoFeatureWriter,
  FeatureStoreError,
  UpdateConflictError,
} from '#adapters/dynamo-feature-store';
import { BulkWriteError, bulkWrite } from '#adapters/feature-bulk-loader';

const documents = createDynamoClients({ endpoint: 'http://127.0.0.1:9' }).documents;
const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

describe('DynamoFeatureStore with a mocked client', () => {
  it('retries unprocessed keys once, then succeeds', async () => {
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { t: [] }, UnprocessedKeys: { t: { Keys: [{ pk: 'card#c' }] } } })
      .resolvesOnce({ Responses: { t: [{ pk: 'card#c', total: [1, 5], updatedAt: 0 }] } });
    const found = await new DynamoFeatureStore(documents, 't', () => 10).get('c', 'm');
    expect(found.card?.total).toEqual([1, 5]);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.t).toMatchObject({
      ConsistentRead: false,
    });
  });

  it('fails after one retry when keys stay unprocessed', async () => {
    ddb
      .on(BatchGetCommand)
      .resolves({ Responses: { t: [] }, UnprocessedKeys: { t: { Keys: [{ pk: 'card#c' }] } } });
    await expect(new DynamoFeatureStore(documents, 't').get('c', 'm')).rejects.toBeInstanceOf(
      FeatureStoreError,
    );
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
  });
});

describe('DynamoFeatureWriter with a mocked client', () => {
  const event = {
    type: 'authorization' as const,
    eventId: 'e1',
    transactionId: 't1',
    cardId: 'c',
    merchantId: 'm',
    mcc: '5411',
    amount: 100,
    currency: 'EUR',
    country: 'DE',
    channel: 'ecommerce' as const,
    timestamp: '2026-11-20T12:00:00.000Z',
    outcome: 'approved' as const,
  };

  it('gives up with UpdateConflictError when the item keeps changing under it', async () => {
    ddb.on(GetCommand).resolves({ Item: { pk: 'card#c', v: 3 } });
    ddb
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'conflict', $metadata: {} }));
    const writer = new DynamoFeatureWriter(documents, 't', { maxConflictRetries: 3 });
    await expect(writer.apply(event)).rejects.toBeInstanceOf(UpdateConflictError);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(3);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: '#v = :expected',
      ExpressionAttributeValues: expect.objectContaining({ ':expected': 3, ':v': 4 }),
    });
  });
});

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
