/**
 * The scoring store against a mocked raw client: what goes on the wire (keys, consistency,
 * the conditional put) and how the hand unmarshalling reads what comes back.
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { fromItem } from '#adapters/attribute-values';
import { createDynamoClients, DROPPED_MIDDLEWARE } from '#adapters/dynamo-client';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { FeatureStoreError } from '#domain/errors';
import { featureVector } from '#domain/features';

const dynamo = mockClient(DynamoDBClient);
const NOW = Date.parse('2026-11-23T10:00:00Z');
const store = () =>
  new DynamoScoringStore(createDynamoClients({ endpoint: 'http://127.0.0.1:9' }).client, {
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

beforeEach(() => dynamo.reset());

describe('DynamoScoringStore with a mocked client', () => {
  it('reads features and the stored answer in one BatchGetItem, the answer strongly consistent', async () => {
    // prepare
    dynamo.on(BatchGetItemCommand).resolves({
      Responses: {
        features: [marshall({ pk: 'card#c', updatedAt: NOW - 5, total: [2, 30] })],
        answers: [marshall(answerItem)],
      },
    });
    // act
    const found = await store().read({ cardId: 'c', merchantId: 'm', transactionId: 'tx' });
    // assert
    const calls = dynamo.commandCalls(BatchGetItemCommand);
    expect(calls).toHaveLength(1);
    const items = calls[0]?.args[0].input.RequestItems ?? {};
    expect(items.answers).toMatchObject({ Keys: [{ id: { S: 'answer#tx' } }], ConsistentRead: true });
    expect(items.features?.Keys).toEqual([{ pk: { S: 'card#c' } }, { pk: { S: 'merchant#m' } }]);
    expect(items.features?.ConsistentRead).toBe(false);
    expect(found.answer).toEqual(answer);
    expect(found.ageMs).toEqual({ card: 5, merchant: undefined });
    expect(found.card?.total).toEqual([2, 30]);
    expect(found.merchant).toBeUndefined();
  });

  it('does not read the answer table when idempotency is off', async () => {
    // prepare
    dynamo.on(BatchGetItemCommand).resolves({ Responses: { features: [] } });
    // act
    await store().read({ cardId: 'c', merchantId: 'm' });
    // assert
    expect(
      Object.keys(dynamo.commandCalls(BatchGetItemCommand)[0]?.args[0].input.RequestItems ?? {}),
    ).toEqual(['features']);
  });

  it('ignores an expired answer that TTL has not deleted yet', async () => {
    // prepare
    dynamo.on(BatchGetItemCommand).resolves({
      Responses: { features: [], answers: [marshall({ ...answerItem, expiration: NOW / 1000 - 1 })] },
    });
    // act
    const found = await store().read({ cardId: 'c', merchantId: 'm', transactionId: 'tx' });
    // assert
    expect(found.answer).toBeUndefined();
  });

  it('ignores an item in the answer table that is not a stored answer', async () => {
    // prepare
    dynamo.on(BatchGetItemCommand).resolves({
      Responses: { features: [], answers: [marshall({ id: 'answer#tx', expiration: NOW / 1000 + 60 })] },
    });
    // act
    const found = await store().read({ cardId: 'c', merchantId: 'm', transactionId: 'tx' });
    // assert
    expect(found.answer).toBeUndefined();
  });

  it('retries unprocessed keys once with the same projection and consistency, then succeeds', async () => {
    // prepare
    dynamo
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { features: [marshall({ pk: 'merchant#m', updatedAt: NOW })] },
        UnprocessedKeys: {
          features: { Keys: [{ pk: { S: 'card#c' } }] },
          answers: { Keys: [{ id: { S: 'answer#tx' } }] },
        },
      })
      .resolvesOnce({
        Responses: { features: [marshall({ pk: 'card#c', updatedAt: NOW - 7 })], answers: [] },
      });
    // act
    const found = await store().read({ cardId: 'c', merchantId: 'm', transactionId: 'tx' });
    // assert
    const retry = dynamo.commandCalls(BatchGetItemCommand)[1]?.args[0].input.RequestItems ?? {};
    expect(retry.features).toMatchObject({ Keys: [{ pk: { S: 'card#c' } }], ConsistentRead: false });
    expect(retry.features?.ProjectionExpression).toContain('#updatedAt');
    expect(retry.answers).toEqual({ Keys: [{ id: { S: 'answer#tx' } }], ConsistentRead: true });
    expect(found.ageMs).toEqual({ card: 7, merchant: 0 });
    expect(found.answer).toBeUndefined();
  });

  it('retries unprocessed keys once, then fails', async () => {
    // prepare
    dynamo.on(BatchGetItemCommand).resolves({
      Responses: {},
      UnprocessedKeys: { answers: { Keys: [{ id: { S: 'answer#tx' } }] } },
    });
    // act
    const read = store().read({ cardId: 'c', merchantId: 'm', transactionId: 'tx' });
    // assert
    await expect(read).rejects.toBeInstanceOf(FeatureStoreError);
    expect(dynamo.commandCalls(BatchGetItemCommand)).toHaveLength(2);
  });

  it('passes a store failure through to the caller', async () => {
    // prepare
    dynamo.on(BatchGetItemCommand).rejects(new Error('socket hang up'));
    // act
    const read = store().read({ cardId: 'c', merchantId: 'm' });
    // assert
    await expect(read).rejects.toThrow('socket hang up');
  });

  it('stores an answer with a condition that lets only expired answers be replaced', async () => {
    // prepare
    dynamo.on(PutItemCommand).resolves({});
    // act
    const result = await store().saveAnswer('tx', answer);
    // assert
    expect(result).toEqual({ stored: true });
    const input = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input?.Item).toEqual(marshall(answerItem));
    expect(input?.ConditionExpression).toBe('attribute_not_exists(#id) OR #exp < :now');
    expect(input?.ExpressionAttributeNames).toEqual({ '#id': 'id', '#exp': 'expiration' });
    expect(input?.ExpressionAttributeValues).toEqual({ ':now': { N: String(NOW / 1000) } });
    expect(input?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('returns the winner from the condition failure itself, without another read (DynamoDB)', async () => {
    // prepare
    dynamo
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: marshall(answerItem) }),
      );
    // act
    const result = await store().saveAnswer('tx', { ...answer, requestHash: 'other' });
    // assert
    expect(result).toEqual({ stored: false, existing: answer });
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('reads the winner back when the server does not return it (dynalite)', async () => {
    // prepare
    dynamo
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    dynamo.on(GetItemCommand).resolves({ Item: marshall(answerItem) });
    // act
    const result = await store().saveAnswer('tx', answer);
    // assert
    expect(result).toEqual({ stored: false, existing: answer });
    expect(dynamo.commandCalls(GetItemCommand)[0]?.args[0].input).toMatchObject({
      Key: { id: { S: 'answer#tx' } },
      ConsistentRead: true,
    });
  });

  it('reports a race whose winner has vanished as no existing answer', async () => {
    // prepare
    dynamo
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    dynamo.on(GetItemCommand).resolves({});
    // act
    const result = await store().saveAnswer('tx', answer);
    // assert
    expect(result).toEqual({ stored: false, existing: undefined });
  });
});

describe('a corrupted feature item', () => {
  it('reads as missing values and empty lists, so the answer is scored on what is left, never a throw or a NaN', async () => {
    // prepare
    dynamo.on(BatchGetItemCommand).resolves({
      Responses: {
        features: [
          {
            pk: { S: 'card#c' },
            updatedAt: { N: String(NOW) },
            firstSeen: { N: 'not a number' },
            lastSeen: { N: '1e400' },
            total: { SS: ['1', '2'] },
            countries: { S: '2:DE,1;9:FR' },
            devices: { B: new Uint8Array([1, 2]) },
            merchants: { L: [{ S: 'm' }, { N: '99999999999999999999' }] },
            hours: { S: '1,2,3' },
            recent: { S: 'zzzzzzzzzzzz' },
            m5: { S: 'aorc,1,rs;' },
            h1: { NS: ['1'] },
            d1: { M: { a: { N: '1' } } },
            seq: { S: '1,2,3' },
          },
          { pk: { S: 'merchant#m' }, h1: { S: 'x' }, d1: { S: 'aorc,1,2,3,4' }, firstSeen: { N: '5' } },
        ],
      },
    });
    // act
    const found = await store().read({ cardId: 'c', merchantId: 'm' });
    // assert
    expect(found.card).toEqual({
      firstSeen: Number.POSITIVE_INFINITY,
      lastSeen: Number.NEGATIVE_INFINITY,
      total: [0, 0],
      countries: [],
      devices: [],
      merchants: [],
      hours: new Array(24).fill(0),
      recent: [],
      m5: [],
      h1: [],
      d1: [],
      seq: undefined,
    });
    expect(found.merchant).toEqual({ firstSeen: 5, lastSeen: Number.NEGATIVE_INFINITY, h1: [], d1: [] });
    const request = {
      cardId: 'c',
      merchantId: 'm',
      mcc: '5411',
      amount: 100,
      country: 'DE',
      channel: 'ecommerce' as const,
    };
    expect(
      featureVector({ card: found.card, merchant: found.merchant }, request, NOW).every(Number.isFinite),
    ).toBe(true);
  });
});

describe('hand unmarshalling', () => {
  // Every shape the feature writers store: numbers, strings, lists, maps, booleans, null.
  // Numbers within ±1e15, where every integral double is safe (the marshaller refuses others).
  // Names the writers never use and the SDK's marshaller cannot take (it reads `constructor`).
  const name = fc.string({ minLength: 1 }).filter((key) => key !== 'constructor' && key !== '__proto__');
  const storable = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.double({ min: -1e15, max: 1e15, noNaN: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(name, tie('value'), { maxKeys: 4 }),
    ),
  }));

  it('reads back exactly what the SDK marshaller wrote, for any storable item', () => {
    fc.assert(
      fc.property(fc.dictionary(name, storable.value, { maxKeys: 6 }), (item) => {
        // prepare
        const raw = marshall(item, { convertEmptyValues: false });
        // act
        const plain = fromItem(raw, true);
        // assert
        expect(plain).toEqual(item);
      }),
    );
  });
});

describe('the DynamoDB clients', () => {
  it('run without the middleware they do not need, and keep signing, retries and serialization', () => {
    // prepare
    const { client, documents } = createDynamoClients({ endpoint: 'http://127.0.0.1:9' });
    // act
    const names = client.middlewareStack.identify().map((entry) => entry.split(' ')[0]);
    // assert
    expect(documents.middlewareStack).toBe(client.middlewareStack);
    for (const dropped of DROPPED_MIDDLEWARE) expect(names).not.toContain(dropped);
    expect(names).toEqual(
      expect.arrayContaining(['serializerMiddleware', 'retryMiddleware', 'httpSigningMiddleware']),
    );
    client.destroy();
  });
});
