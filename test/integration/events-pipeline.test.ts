/**
 * `POST /v1/events` on the local stack (real handlers, the updater process with its local queue,
 * dynalite): a batch on one card and merchant is applied whole, and a future-dated event is
 * refused without touching the features.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '#adapters/dynamo-client';
import { cardFromItem, merchantFromItem } from '#adapters/feature-items';
import { type LocalStack, startLocalStack } from '../../scripts/local/app';
import { authorizationEvent } from '../support/events';

let stack: LocalStack;
let documents: ReturnType<typeof createDynamoClients>['documents'];
beforeAll(async () => {
  stack = await startLocalStack();
  documents = createDynamoClients({ endpoint: stack.dynamoEndpoint }).documents;
});
afterAll(async () => {
  documents.destroy();
  await stack.close();
});

let seq = 0;
function authorization(cardId: string, merchantId: string, ms: number) {
  seq += 1;
  return authorizationEvent({
    eventId: `evt-pipe-${seq}`,
    transactionId: `tx-pipe-${seq}`,
    cardId,
    merchantId,
    amount: 1000,
    timestamp: new Date(ms).toISOString(),
  });
}

async function post(body: unknown) {
  const response = await fetch(`${stack.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    json: (await response.json()) as Record<string, { code?: string; field?: string }>,
  };
}

async function item(pk: string) {
  const { Item } = await documents.send(new GetCommand({ TableName: stack.featureTable, Key: { pk } }));
  return Item ?? {};
}

describe('POST /v1/events on the local stack', () => {
  it('applies all of a batch of 25 events on one card and merchant (was 503 after 7)', async () => {
    // prepare
    const now = Date.now();
    const events = Array.from({ length: 25 }, (_, i) =>
      authorization('card_pipe25', 'm_pipe25', now - i * 1000),
    );
    // act
    const accepted = await post({ events });
    const again = await post({ events });
    // assert
    expect(accepted.status).toBe(202);
    expect(again.status).toBe(202);
    const drained = await stack.drainEvents();
    expect(drained.deadLettered).toBe(0);
    expect(cardFromItem(await item('card#card_pipe25')).total).toEqual([25, 25_000]);
    expect(merchantFromItem(await item('merchant#m_pipe25')).h1.reduce((s, b) => s + b[1], 0)).toBe(25);
  });

  it('refuses an authorization dated two hours ahead and leaves the features as they were', async () => {
    // prepare
    const now = Date.now();
    await post(authorization('card_future', 'm_future', now - 60_000));
    await stack.drainEvents();
    const before = await item('card#card_future');
    expect(before).toBeDefined();
    // act
    const refused = await post(authorization('card_future', 'm_future', now + 2 * 3_600_000));
    // assert
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: 'EVENT_IN_FUTURE', field: 'timestamp' });
    await stack.drainEvents();
    expect(await item('card#card_future')).toEqual(before);
  });
});
