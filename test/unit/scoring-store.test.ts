import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createDynamoClients } from '#adapters/dynamo-client';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { FeatureStoreError } from '#domain/errors';

const documents = mockClient(DynamoDBDocumentClient);
const NOW = Date.parse('2026-11-23T10:00:00Z');
const store = () =>
  new DynamoScoringStore(createDynamoClients({ endpoint: 'http://127.0.0.1:9' }).documents, {
    featureTableName: 'features',
    answerTableName: 'answers',
    clock: () => NOW,
  });
const answer = {
  requestHash: 'h1',
  response: {
    transactionId: 'tx',
    score: 0.1,
    decision: 'approve' as const,
    reasons: [],
    model: null,
    policyVersion: 'p',
    degraded: [],
  },
  expiresAt: NOW / 1000 + 60,
};
const answerItem = {
  id: 'answer#tx',
  expiration: answer.expiresAt,
  requestHash: 'h1',
  response: JSON.stringify(answer.response),
};

beforeEach(() => documents.reset());

describe('DynamoScoringStore with a mocked client', () => {
  it('reads features and the stored answer in one BatchGetItem, the answer strongly consistent', async () => {
    // prepare
    documents.on(BatchGetCommand).resolves({
      Responses: { features: [{ pk: 'card#c', updatedAt: NOW - 5 }], answers: [answerItem] },
    });
    // act
    const found = await store().read({ cardId: 'c', merchantId: 'm', transactionId: 'tx' });
    // assert
    const calls = documents.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(1);
    const items = calls[0]?.args[0].input.RequestItems ?? {};
    expect(items.answers).toMatchObject({ Keys: [{ id: 'answer#tx' }], ConsistentRead: true });
    expect(items.features?.Keys).toEqual([{ pk: 'card#c' }, { pk: 'merchant#m' }]);
    expect(found.answer).toEqual(answer);
    expect(found.ageMs.card).toBe(5);
  });

  it('does not read the answer table when idempotency is off', async () => {
    // prepare
    documents.on(BatchGetCommand).resolves({ Responses: { features: [] } });
    // act
    await store().read({ cardId: 'c', merchantId: 'm' });
    // assert
    expect(Object.keys(documents.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems ?? {})).toEqual(
      ['features'],
    );
  });

  it('ignores an expired answer that TTL has not deleted yet', async () => {
    // prepare
    documents.on(BatchGetCommand).resolves({
      Responses: { features: [], answers: [{ ...answerItem, expiration: NOW / 1000 - 1 }] },
    });
    // act
    const found = await store().read({ cardId: 'c', merchantId: 'm', transactionId: 'tx' });
    // assert
    expect(found.answer).toBeUndefined();
  });

  it('retries unprocessed keys once, then fails', async () => {
    // prepare
    documents.on(BatchGetCommand).resolves({
      Responses: {},
      UnprocessedKeys: { answers: { Keys: [{ id: 'answer#tx' }] } },
    });
    // act
    const read = store().read({ cardId: 'c', merchantId: 'm', transactionId: 'tx' });
    // assert
    await expect(read).rejects.toBeInstanceOf(FeatureStoreError);
    expect(documents.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('stores an answer with a condition that lets only expired answers be replaced', async () => {
    // prepare
    documents.on(PutCommand).resolves({});
    // act
    const result = await store().saveAnswer('tx', answer);
    // assert
    expect(result).toEqual({ stored: true });
    const input = documents.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(#id) OR #exp < :now');
    expect(input?.ExpressionAttributeValues).toEqual({ ':now': NOW / 1000 });
    expect(input?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('returns the winner from the condition failure itself, without another read (DynamoDB)', async () => {
    // prepare
    documents
      .on(PutCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: marshall(answerItem) }),
      );
    // act
    const result = await store().saveAnswer('tx', { ...answer, requestHash: 'other' });
    // assert
    expect(result).toEqual({ stored: false, existing: answer });
    expect(documents.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('reads the winner back when the server does not return it (dynalite)', async () => {
    // prepare
    documents
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    documents.on(GetCommand).resolves({ Item: answerItem });
    // act
    const result = await store().saveAnswer('tx', answer);
    // assert
    expect(result).toEqual({ stored: false, existing: answer });
    expect(documents.commandCalls(GetCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });
});
