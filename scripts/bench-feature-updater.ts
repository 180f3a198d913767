/**
 * Feature-updater throughput on dynalite, and the size of a card item: prints figures, no
 * thresholds (speed targets live in benchmark output, not in timed tests).
 *
 *   npx tsx scripts/bench-feature-updater.ts [--events 1000] [--split] [--batch 10]
 *
 * Three streams go through the real updater handler in SQS-sized batches of 10 (`--batch`: the
 * local queue's up to 100), one batch at a
 * time (one Lambda poller): "spread" (200 new cards, 20 merchants), "history" (the same spread
 * over 200 other cards bulk-loaded beforehand with 40 authorizations each, so every write
 * carries a full sequence ring and a day of buckets, as the seeded local stack's cards do) and
 * "hot" (every event on one card and merchant, the case that used to fail with conflicting
 * writes), after an unmeasured warm-up of 300 events. For each: DynamoDB requests per event by operation, and CPU per event of this
 * process (updater and dynalite both run in it, so that is what one event costs the local
 * stack's two processes). With `--split`, dynalite runs in a process of its own, as in the
 * local stack, and the CPU is reported per process (dynalite's from `/proc/<pid>/stat`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { createDynamoClients, createScoringClient } from '#adapters/dynamo-client';
import { bulkWrite, FeatureAccumulator } from '#adapters/feature-bulk-loader';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import type { AuthorizationEvent } from '#domain/types';
import { FEATURE_TABLE } from '#shared/table-schema';
import { createUpdaterHandler } from '../functions/feature-updater/handler';
import { lambdaContext } from './local/api-gateway';
import { ensureTable, startDynalite } from './local/dynamo-local';
import { forkTs, OutputCapture, stopChild, whenReady } from './local/processes';

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

/** User + system CPU seconds of a process we started, from `/proc/<pid>/stat` (Linux). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** dynalite in this process (the default), or in a child of its own whose CPU is read from /proc. */
async function startServer(
  separate: boolean,
): Promise<{ endpoint: string; cpu: () => number; close(): Promise<void> }> {
  if (!separate) {
    const server = await startDynalite();
    return { endpoint: server.endpoint, cpu: () => 0, close: () => server.close() };
  }
  const child = forkTs('dynalite-process.ts', {}, new OutputCapture(true));
  const { port } = await whenReady(child, 'dynalite');
  const pid = child.pid as number;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cpu: () => processCpuSeconds(pid),
    close: () => stopChild(child),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000' },
      split: { type: 'boolean', default: false },
      // Events per SQS batch: 10 as in AWS; the local queue hands over up to 100 behind a backlog.
      batch: { type: 'string', default: '10' },
    },
  });
  const total = Number(values.events);
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const dynamo = await startServer(values.split);
  const { client: admin, documents } = createDynamoClients({
    endpoint: dynamo.endpoint,
    requestTimeoutMs: 10_000,
  });
  await ensureTable(admin, 'bench', FEATURE_TABLE);
  // The writer's client as the updater builds it (see functions/feature-updater/index.ts).
  // The local stack's connect budget (updater-process.ts): a batch of 100 opens up to 50 sockets at once.
  const client = createScoringClient({
    endpoint: dynamo.endpoint,
    requestTimeoutMs: 10_000,
    connectionTimeoutMs: 5000,
  });
  const requests = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      requests.set(context.commandName ?? '?', (requests.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const updater = createUpdaterHandler({
    writer: new MarkerFeatureWriter(client, 'bench'),
    logger: new Logger({ serviceName: 'bench' }),
    metrics: new Metrics({ namespace: 'Bench', serviceName: 'bench' }),
  });
  const now = Date.now();
  // History for the "history" stream's cards, loaded as `npm run features:load` would (not measured).
  const history = new FeatureAccumulator();
  for (let i = 0; i < 200 * 40; i += 1) {
    history.add(event(i, `card_h${i % 200}`, `m_h${i % 20}`, now - 2 * 86_400_000 + i * 10_000));
  }
  await bulkWrite(documents, 'bench', history.items(now, 86_400));
  const streams: Record<string, AuthorizationEvent[]> = {
    spread: Array.from({ length: total }, (_, i) =>
      event(i, `card_${i % 200}`, `m_${i % 20}`, now - (total - i) * 1000),
    ),
    history: Array.from({ length: total }, (_, i) =>
      event(100_000 + i, `card_h${i % 200}`, `m_h${i % 20}`, now - (total - i) * 1000),
    ),
    hot: Array.from({ length: total }, (_, i) => event(i, 'card_hot', 'm_hot', now - (total - i) * 1000)),
  };
  // Warm-up, not measured: compiles the whole path and opens the connections before the first stream.
  for (let i = 0; i < 300; i += 10) {
    const records = Array.from({ length: 10 }, (_, j) => ({
      messageId: `w${i + j}`,
      body: JSON.stringify(event(i + j, `card_w${(i + j) % 50}`, `m_w${j}`, now - 1000 * (300 - i))),
    }));
    await updater({ Records: records } as unknown as SQSEvent, lambdaContext('bench', 60_000));
  }
  for (const [name, events] of Object.entries(streams)) {
    let failed = 0;
    requests.clear();
    const cpu = process.cpuUsage();
    const serverCpu = dynamo.cpu();
    const started = performance.now();
    const batch = Number(values.batch);
    for (let i = 0; i < events.length; i += batch) {
      const records = events
        .slice(i, i + batch)
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
    const own = (user + system) / 1000 / events.length;
    const server = ((dynamo.cpu() - serverCpu) * 1000) / events.length;
    const cpuText = values.split
      ? `CPU ${(own + server).toFixed(2)} ms/event (updater ${own.toFixed(2)}, dynalite ${server.toFixed(2)})`
      : `CPU ${own.toFixed(2)} ms/event`;
    console.log(
      `${name.padEnd(7)} ${events.length} events in ${seconds.toFixed(2)} s = ${(events.length / seconds).toFixed(0)} events/s, ${failed} failed; ` +
        `${cpuText}; DynamoDB requests/event ${perEvent(sent)} ` +
        `(${[...requests].map(([op, n]) => `${op.replace(/Command$/, '')} ${perEvent(n)}`).join(', ')})`,
    );
  }
  const read = async (pk: string) =>
    (await documents.send(new GetCommand({ TableName: 'bench', Key: { pk } }))).Item;
  const hot = await read('card#card_hot');
  console.log(
    `card item (hot, ${total} events): ${dynamoItemBytes(hot)} bytes; total=${JSON.stringify(hot?.total)}`,
  );
  console.log(
    `card item (spread, ${total / 200} events): ${dynamoItemBytes(await read('card#card_0'))} bytes`,
  );
  console.log(
    `card item (history, ${40 + total / 200} events): ${dynamoItemBytes(await read('card#card_h0'))} bytes`,
  );
  admin.destroy();
  client.destroy();
  await dynamo.close();
}

void main();
