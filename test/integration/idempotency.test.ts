import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { scoreTransaction } from '#domain/score';
import { ConflictError } from '#shared/http';
import { idempotentScore, type ScoreFn } from '../../functions/score/handler';
import { lambdaContext } from '../../scripts/local/api-gateway';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { scoringDeps, validRequest } from '../support/fakes';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const quiet = () => ({
  logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
  metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
});

function idempotent(score: ScoreFn, client = dynamo.client) {
  const wrapped = idempotentScore(score, {
    persistence: new DynamoDBPersistenceLayer({ tableName: dynamo.idempotencyTable, awsSdkV3Client: client }),
    ttlSeconds: 3600,
    ...quiet(),
  });
  wrapped.registerContext(lambdaContext('score', 10_000));
  return wrapped.score;
}

describe('idempotent scoring (Powertools persistence on the embedded server)', () => {
  it('returns the stored answer for a retried transactionId without scoring again', async () => {
    const inner = jest.fn((request) => scoreTransaction(scoringDeps(), request));
    const score = idempotent(inner);
    const request = { ...validRequest, transactionId: 'idem-1' };
    const first = await score(request);
    const second = await score({ ...request });
    expect(inner).toHaveBeenCalledTimes(1);
    expect(second.response).toEqual(first.response);
    expect(second.replayed).toBe(true);
    expect(first.replayed).toBeUndefined();
  });

  it('refuses the same transactionId with a different body with 409 IDEMPOTENCY_MISMATCH', async () => {
    const score = idempotent((request) => scoreTransaction(scoringDeps(), request));
    await score({ ...validRequest, transactionId: 'idem-2' });
    const attempt = score({ ...validRequest, transactionId: 'idem-2', amount: 999_999 });
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(score({ ...validRequest, transactionId: 'idem-2', amount: 1 })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_MISMATCH',
      statusCode: 409,
    });
  });

  it('still scores when the idempotency store is unreachable', async () => {
    const unreachable = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const inner = jest.fn((request) => scoreTransaction(scoringDeps(), request));
    const outcome = await idempotent(inner, unreachable)({ ...validRequest, transactionId: 'idem-3' });
    expect(outcome.response.transactionId).toBe('idem-3');
    expect(inner).toHaveBeenCalledTimes(1);
    unreachable.destroy();
  });
});
