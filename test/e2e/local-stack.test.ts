/**
 * The local stack over HTTP, called as the payment service would: real handlers in the front
 * workers, dynalite and the updater in their own processes.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '#adapters/dynamo-client';
import { DEFAULT_MODEL_DIR, type LocalStack, startLocalStack } from '../../scripts/local/app';

const PAN = '5500005555555559';
const now = () => new Date().toISOString();
let seq = 0;
const nextId = (prefix: string) => {
  seq += 1;
  return `${prefix}-${Date.now()}-${seq}`;
};

function scoreBody(overrides: Record<string, unknown> = {}) {
  return {
    transactionId: nextId('tx'),
    cardId: 'card_e2e',
    merchantId: 'm_e2e',
    mcc: '5411',
    amount: 2599,
    currency: 'EUR',
    country: 'DE',
    channel: 'ecommerce',
    deviceId: 'dev-e2e',
    timestamp: now(),
    ...overrides,
  };
}

/** Loosely typed response JSON: the tests assert its shape. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
type ApiJson = Record<string, any>;

async function post(stack: LocalStack, path: string, body: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as ApiJson,
  };
}

/** Polls until `condition` holds (at most 5 s). */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 50) {
    if (waited > 5000) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function authorization(overrides: Record<string, unknown> = {}) {
  const id = nextId('auth');
  return {
    type: 'authorization',
    eventId: `evt-${id}`,
    transactionId: id,
    cardId: 'card_e2e',
    merchantId: 'm_e2e',
    mcc: '5411',
    amount: 1500,
    currency: 'EUR',
    country: 'DE',
    channel: 'ecommerce',
    deviceId: 'dev-e2e',
    timestamp: new Date(Date.now() - 60_000).toISOString(),
    outcome: 'approved',
    ...overrides,
  };
}

describe('local stack (healthy)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    // Generous budgets: these tests are about the contract; budgets under load are the fault suite's.
    stack = await startLocalStack({ logLevel: 'INFO', featureTimeoutMs: 1000, idempotencyTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('scores a payment with the model, reasons and a Server-Timing header', async () => {
    const { status, json, headers } = await post(stack, '/v1/score', scoreBody());
    expect(status).toBe(200);
    expect(json).toMatchObject({ decision: expect.stringMatching(/approve|review|decline/), degraded: [] });
    expect(json.score).toBeGreaterThanOrEqual(0);
    expect(json.model).toMatchObject({ name: 'fraud-gbdt' });
    expect(headers.get('server-timing')).toMatch(/total;dur=/);
  });

  it('takes events, counts a duplicated event once, and the next score sees them', async () => {
    const cardId = nextId('card');
    const events = Array.from({ length: 3 }, (_, i) => authorization({ cardId, merchantId: `m_${i}` }));
    const accepted = await post(stack, '/v1/events', { events });
    expect(accepted.status).toBe(202);
    expect(accepted.json.accepted).toBe(3);
    const again = await post(stack, '/v1/events', events[0]);
    expect(again.status).toBe(202);
    // The updater applies events asynchronously in its own process, as SQS + Lambda do.
    const drained = await stack.drainEvents();
    expect(drained.deadLettered).toBe(0);

    const { documents } = createDynamoClients({ endpoint: stack.dynamoEndpoint });
    const { Item } = await documents.send(
      new GetCommand({ TableName: stack.featureTable, Key: { pk: `card#${cardId}` } }),
    );
    documents.destroy();
    expect(Item?.total).toEqual([3, 4500]);

    const scored = await post(stack, '/v1/score', scoreBody({ cardId, merchantId: 'm_new' }));
    const reasons = scored.json.reasons.map((r: { feature?: string }) => r.feature);
    expect(scored.status).toBe(200);
    expect(reasons.some((f: string | undefined) => f?.startsWith('card_'))).toBe(true);
  });

  it('answers a retried transactionId identically and refuses a changed body with 409', async () => {
    const body = scoreBody();
    const first = await post(stack, '/v1/score', body);
    const retry = await post(stack, '/v1/score', body);
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual(first.json);
    const changed = await post(stack, '/v1/score', { ...body, amount: body.amount + 1 });
    expect(changed.status).toBe(409);
    expect(changed.json.error.code).toBe('IDEMPOTENCY_MISMATCH');
  });

  it.each([
    ['{"broken"', 'INVALID_JSON', undefined],
    [{ ...scoreBody(), currency: 'euro' }, 'INVALID_FIELD', 'currency'],
    [{ ...scoreBody(), channel: undefined }, 'MISSING_FIELD', 'channel'],
    [{ ...scoreBody(), cvv: '123' }, 'UNKNOWN_FIELD', undefined],
  ])('answers 400 with a machine-readable code (%#)', async (body, code, field) => {
    const { status, json } = await post(stack, '/v1/score', body);
    expect(status).toBe(400);
    expect(json.error.code).toBe(code);
    if (field) expect(json.error.field).toBe(field);
  });

  it('rejects a raw card number in any field and keeps it out of the logs', async () => {
    const { status, json } = await post(stack, '/v1/score', scoreBody({ merchantId: PAN }));
    const event = await post(stack, '/v1/events', authorization({ cardId: `card ${PAN}` }));
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'PAN_DETECTED', field: 'merchantId' });
    expect(event.json.error.code).toBe('PAN_DETECTED');
    // The workers log rejections at INFO in their own processes; wait until both lines arrived.
    await waitFor(() => (stack.output().match(/"code":"PAN_DETECTED"/g) ?? []).length >= 2);
    expect(stack.output()).not.toContain(PAN);
  });

  it('rejects invalid events with 400 and a field', async () => {
    const { status, json } = await post(stack, '/v1/events', { ...authorization(), outcome: 'maybe' });
    expect(status).toBe(400);
    expect(json.error.field).toBe('outcome');
  });
});

describe('local stack (degraded)', () => {
  it('answers rules-only when the model is missing', async () => {
    const stack = await startLocalStack({ modelDir: join(tmpdir(), 'no-such-model') });
    try {
      const { status, json } = await post(stack, '/v1/score', scoreBody());
      expect(status).toBe(200);
      expect(json).toMatchObject({ score: null, model: null });
      // A cold first feature read can also time out on a loaded machine (`features_unavailable`):
      // a separate degradation, not what this test is about; nothing else may appear.
      expect(json.degraded.filter((flag: string) => flag !== 'features_unavailable')).toEqual([
        'model_unavailable',
      ]);
    } finally {
      await stack.close();
    }
  });

  it('answers rules-only when the model file is corrupt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corrupt-model-'));
    copyFileSync(join(DEFAULT_MODEL_DIR, 'model.json'), join(dir, 'model.json'));
    writeFileSync(join(dir, 'model.onnx'), 'this is not an onnx graph');
    const stack = await startLocalStack({ modelDir: dir });
    try {
      const { status, json } = await post(stack, '/v1/score', scoreBody());
      expect(status).toBe(200);
      expect(json.degraded).toEqual(['model_unavailable']);
    } finally {
      await stack.close();
    }
  });

  it('scores with defaults when the embedded DynamoDB server stops mid-run', async () => {
    const stack = await startLocalStack({ featureTimeoutMs: 200 });
    try {
      const before = await post(stack, '/v1/score', scoreBody());
      expect(before.json.degraded).toEqual([]);
      await stack.stopDynamo();
      const after = await post(stack, '/v1/score', scoreBody());
      expect(after.status).toBe(200);
      expect(after.json.degraded).toEqual(['features_unavailable']);
      expect(after.json.score).not.toBeNull();
    } finally {
      await stack.close();
    }
  });
});
