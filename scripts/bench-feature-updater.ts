/**
 * Feature-updater throughput on dynalite, and the size of a card item: prints figures, no
 * thresholds (speed targets live in benchmark output, not in timed tests).
 *
 *   npx tsx scripts/bench-feature-updater.ts [--events 1000]
 *
 * Two streams go through the real updater handler in SQS-sized batches of 10, one batch at a
 * time (one Lambda poller): "spread" (200 cards, 20 merchants) and "hot" (every event on one
 * card and merchant, the case that used to fail with conflicting writes). For each: DynamoDB
 * requests per event by operation, and CPU per event of this process (updater and dynalite
 * both run in it, so that is what one event costs the local stack's two processes).
 */
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { createDynamoClients } from '#adapters/dynamo-client';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import type { AuthorizationEvent } from '#domain/types';
import { FEATURE_TABLE } from '#shared/table-schema';
import { createUpdaterHandler } from '../functions/feature-updater/handler';
import { lambdaContext } from './local/api-gateway';
import { ensureTable, startDynalite } from './local/dynamo-local';

/** DynamoDB's item size rules (names + values; numbers ≈ 1 byte per 2 digits + 1; lists 3 + 1 per element). */
export function dynamoItemBytes(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace('.', '').length / 2) + 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'boolean') return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + dynamoItemBytes(v), 0);
  return (
    3 +
    Object.entries(value as Record<string, unknown>).reduce(
      (sum, [k, v]) => sum + Buffer.byteLength(k) + 1 + dynamoItemBytes(v),
      0,
    )
  );
}

function event(i: number, cardId: string, merchantId: string, ms: number): AuthorizationEvent {
  return {
    type: 'authorization',
    eventId: `bench-${cardId}-${i}`,
    transactionId: `tx-${cardId}-${i}`,
    cardId,
    merchantId,
    mcc: '5411',
    amount: 1000 + (i % 500),
    currency: 'EUR',
    country: i % 9 === 0 ? 'FR' : 'DE',
    channel: 'ecommerce',
    deviceId: `dev-${i % 3}`,
    timestamp: new Date(ms).toISOString(),
    outcome: 'approved',
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000' } } });
  const total = Number(values.events);
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const dynamo = await startDynalite();
  const { client, documents } = createDynamoClients({ endpoint: dynamo.endpoint, requestTimeoutMs: 10_000 });
  await ensureTable(client, 'bench', FEATURE_TABLE);
  const requests = new Map<string, number>();
  documents.middlewareStack.add(
    (next, context) => (args) => {
      requests.set(context.commandName ?? '?', (requests.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const updater = createUpdaterHandler({
    writer: new MarkerFeatureWriter(documents, 'bench'),
    logger: new Logger({ serviceName: 'bench' }),
    metrics: new Metrics({ namespace: 'Bench', serviceName: 'bench' }),
  });
  const now = Date.now();
  const streams: Record<string, AuthorizationEvent[]> = {
    spread: Array.from({ length: total }, (_, i) =>
      event(i, `card_${i % 200}`, `m_${i % 20}`, now - (total - i) * 1000),
    ),
    hot: Array.from({ length: total }, (_, i) => event(i, 'card_hot', 'm_hot', now - (total - i) * 1000)),
  };
  for (const [name, events] of Object.entries(streams)) {
    let failed = 0;
    requests.clear();
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < events.length; i += 10) {
      const records = events
        .slice(i, i + 10)
        .map((e, j) => ({ messageId: `${i + j}`, body: JSON.stringify(e) }));
      const response = await updater(
        { Records: records } as unknown as SQSEvent,
        lambdaContext('bench', 60_000),
      );
      failed += response.batchItemFailures.length;
    }
    const seconds = (performance.now() - started) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    const perEvent = (n: number) => (n / events.length).toFixed(2);
    const sent = [...requests.values()].reduce((sum, n) => sum + n, 0);
    console.log(
      `${name.padEnd(7)} ${events.length} events in ${seconds.toFixed(2)} s = ${(events.length / seconds).toFixed(0)} events/s, ${failed} failed; ` +
        `CPU ${((user + system) / 1000 / events.length).toFixed(2)} ms/event; DynamoDB requests/event ${perEvent(sent)} ` +
        `(${[...requests].map(([op, n]) => `${op.replace(/Command$/, '')} ${perEvent(n)}`).join(', ')})`,
    );
  }
  const { Item } = await documents.send(new GetCommand({ TableName: 'bench', Key: { pk: 'card#card_hot' } }));
  const { Item: spread } = await documents.send(
    new GetCommand({ TableName: 'bench', Key: { pk: 'card#card_0' } }),
  );
  console.log(
    `card item (hot, ${total} events): ${dynamoItemBytes(Item)} bytes; total=${JSON.stringify(Item?.total)}`,
  );
  console.log(`card item (spread, ${total / 200} events): ${dynamoItemBytes(spread)} bytes`);
  client.destroy();
  await dynamo.close();
}

void main();
