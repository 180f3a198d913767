/**
 * Feature-updater throughput on dynalite, and the size of a card item: prints figures, no
 * thresholds (speed targets live in benchmark output, not in timed tests).
 *
 *   npx tsx scripts/bench-feature-updater.ts [--events 1000] [--split] [--batch 10] [--client http|sdk]
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
 *
 *   npx tsx scripts/bench-feature-updater.ts --items
 *
 * prints item sizes instead (DynamoDB's size rules) and the CPU to encode and decode one item,
 * for the compact layout the writers use and for the list form they wrote before: 1,500
 * simulated cards × 14 days folded as the bulk loader does, and a busy card whose every list
 * is full.
 *
 *   npx tsx scripts/bench-feature-updater.ts --reads [--split]
 *
 * reads the same busy card and merchant through the scoring store's BatchGetItem, stored once in
 * each layout in one dynalite, in alternating blocks of 50 reads: wall time per read and CPU per
 * read of this process and (with `--split`) of dynalite, so the two layouts share every minute
 * of a noisy machine.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { fromItem, toItem } from '#adapters/attribute-values';
import { createDynamoClients, createScoringClient } from '#adapters/dynamo-client';
import { createScoringCaller, type DynamoCaller } from '#adapters/dynamo-http';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { bulkWrite, FeatureAccumulator } from '#adapters/feature-bulk-loader';
import {
  cardFromItem,
  cardToAttributes,
  merchantFromItem,
  merchantToAttributes,
} from '#adapters/feature-items';
import { MarkerFeatureWriter } from '#adapters/marker-feature-writer';
import type { CardState, MerchantState } from '#domain/features';
import { ringToStored } from '#domain/sequence';
import type { AuthorizationEvent } from '#domain/types';
import { FEATURE_TABLE } from '#shared/table-schema';
import { createUpdaterHandler } from '../functions/feature-updater/handler';
import { simulate } from '../models/training/simulator';
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

const finite = (value: number) => (Number.isFinite(value) ? value : undefined);

/** The card item's attributes as the writers laid them out before the compact lists (ring already a string). */
function cardListForm(state: CardState): Record<string, unknown> {
  const { seq, ...lists } = state;
  return {
    ...lists,
    firstSeen: finite(state.firstSeen),
    lastSeen: finite(state.lastSeen),
    seq: seq === undefined ? undefined : ringToStored(seq),
  };
}

function merchantListForm(state: MerchantState): Record<string, unknown> {
  return { ...state, firstSeen: finite(state.firstSeen), lastSeen: finite(state.lastSeen) };
}

/** p50 / p99 / max of item sizes. */
function sizes(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return `p50 ${at(0.5)} / p99 ${at(0.99)} / max ${sorted.at(-1)}`;
}

/** Best of 5 rounds: µs of CPU per item to run `work` over `items`. */
function microsPerItem<T>(items: readonly T[], work: (item: T) => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round += 1) {
    const cpu = process.cpuUsage();
    for (const item of items) work(item);
    const { user, system } = process.cpuUsage(cpu);
    best = Math.min(best, (user + system) / items.length);
  }
  return best;
}

/** `--items`: item sizes and codec cost of both layouts, no DynamoDB involved. */
function itemReport(): void {
  const population = new FeatureAccumulator();
  for (const e of simulate({ cards: 1500, days: 14, seed: 7 })) {
    if (e.type === 'authorization') {
      const { sim: _truth, ...plain } = e;
      population.add(plain);
    } else population.add(e);
  }
  // A busy card: 200 authorizations in a week at 80 merchants, 20 countries and 12 devices, so
  // every list is full; 24-character event ids as the simulator's.
  const busy = new FeatureAccumulator();
  const start = Date.parse('2026-11-20T00:00:00Z');
  for (let i = 0; i < 200; i += 1) {
    busy.add({
      ...event(i, 'card_busy', `merchant_${i % 80}`, start + i * 3_000_000),
      eventId: `evt_${String(i).padStart(20, '0')}`,
      country: String.fromCharCode(65 + (i % 20), 65 + ((i * 7) % 26)),
      deviceId: `device_${i % 12}`,
    });
  }
  const meta = { pk: 'card#0123456789abcdef0123', v: 12, updatedAt: start, ttl: start / 1000 };
  const cards = [...population.cards.values()];
  const merchants = [...population.merchants.values()];
  const busyCard = busy.cards.get('card_busy') as CardState;
  const layouts = {
    'list form (before)': { card: cardListForm, merchant: merchantListForm },
    compact: { card: cardToAttributes, merchant: merchantToAttributes },
  };
  console.log(
    `${cards.length} cards and ${merchants.length} merchants from 14 simulated days; bytes by DynamoDB's size rules, attribute values per item`,
  );
  for (const [name, layout] of Object.entries(layouts)) {
    const cardItems: Record<string, unknown>[] = cards.map((c) => ({ ...meta, ...layout.card(c) }));
    const merchantItems = merchants.map((m) => ({ ...meta, pk: 'merchant#m_0001', ...layout.merchant(m) }));
    const busyItem: Record<string, unknown> = { ...meta, ...layout.card(busyCard) };
    const { seq: _ring, ...busyWithoutRing } = busyItem;
    const wire = cardItems.map((item) => toItem(item));
    const merchantWire = merchantItems.map((item) => toItem(item));
    console.log(
      `${name.padEnd(19)} cards ${sizes(cardItems.map(dynamoItemBytes))} (without the ring ${sizes(
        cardItems.map(({ seq: _s, ...rest }) => dynamoItemBytes(rest)),
      )}); busy card ${dynamoItemBytes(busyItem)} (without the ring ${dynamoItemBytes(busyWithoutRing)}, ${countValues(
        toItem(busyItem),
      )} values); merchants ${sizes(merchantItems.map(dynamoItemBytes))} (${countValues(
        merchantWire[0] ?? {},
      )} values)`,
    );
    console.log(
      `${''.padEnd(19)} µs CPU per card item: encode ${microsPerItem(cards, (c) => toItem({ ...meta, ...layout.card(c) })).toFixed(1)}, decode ${microsPerItem(
        wire,
        (w) => cardFromItem(fromItem(w, true)),
      ).toFixed(1)}; per merchant item: encode ${microsPerItem(merchants, (m) =>
        toItem({ ...meta, ...layout.merchant(m) }),
      ).toFixed(
        1,
      )}, decode ${microsPerItem(merchantWire, (w) => merchantFromItem(fromItem(w, true))).toFixed(1)}`,
    );
  }
}

/** `--reads`: the scoring store's read of a busy card + merchant, list form against compact, interleaved. */
async function readReport(split: boolean, rounds: number): Promise<void> {
  const dynamo = await startServer(split);
  const admin = createScoringClient({ endpoint: dynamo.endpoint, requestTimeoutMs: 10_000 });
  await ensureTable(admin, 'bench', FEATURE_TABLE);
  const busy = new FeatureAccumulator();
  const start = Date.now() - 200 * 3_000_000;
  for (let i = 0; i < 200; i += 1) {
    busy.add({
      ...event(i, 'card_busy', i % 4 === 0 ? 'm_busy' : `merchant_${i % 80}`, start + i * 3_000_000),
      eventId: `evt_${String(i).padStart(20, '0')}`,
      country: String.fromCharCode(65 + (i % 20), 65 + ((i * 7) % 26)),
      deviceId: `device_${i % 12}`,
    });
  }
  const card = busy.cards.get('card_busy') as CardState;
  const merchant = busy.merchants.get('m_busy') as MerchantState;
  const meta = { v: 1, updatedAt: Date.now(), ttl: Math.floor(Date.now() / 1000) + 86_400 };
  const layouts = {
    list: { card: cardListForm(card), merchant: merchantListForm(merchant) },
    compact: { card: cardToAttributes(card), merchant: merchantToAttributes(merchant) },
  };
  for (const [name, items] of Object.entries(layouts)) {
    for (const [pk, attributes] of [
      [`card#${name}`, items.card],
      [`merchant#${name}`, items.merchant],
    ] as const) {
      await admin.send(
        new PutItemCommand({ TableName: 'bench', Item: toItem({ pk, ...attributes, ...meta }) }),
      );
    }
  }
  const store = new DynamoScoringStore(
    createScoringClient({ endpoint: dynamo.endpoint, requestTimeoutMs: 10_000 }),
    {
      featureTableName: 'bench',
      answerTableName: 'unused',
    },
  );
  const stats = Object.fromEntries(
    Object.keys(layouts).map((name) => [name, { walls: [] as number[], own: 0, server: 0, reads: 0 }]),
  );
  for (let round = 0; round < rounds + 4; round += 1) {
    for (const name of Object.keys(layouts)) {
      const stat = stats[name] as { walls: number[]; own: number; server: number; reads: number };
      const cpu = process.cpuUsage();
      const serverCpu = dynamo.cpu();
      const walls: number[] = [];
      for (let i = 0; i < 50; i += 1) {
        const t = performance.now();
        const found = await store.read({ cardId: name, merchantId: name });
        walls.push(performance.now() - t);
        if (found.card?.total[0] !== 200) throw new Error(`the ${name} card read back wrong`);
      }
      if (round < 4) continue; // warm-up
      const { user, system } = process.cpuUsage(cpu);
      stat.own += (user + system) / 1000;
      stat.server += (dynamo.cpu() - serverCpu) * 1000;
      stat.reads += walls.length;
      stat.walls.push(...walls);
    }
  }
  for (const [name, stat] of Object.entries(stats)) {
    const sorted = stat.walls.sort((a, b) => a - b);
    const at = (q: number) => (sorted[Math.floor(q * sorted.length)] as number).toFixed(3);
    const cpu = split
      ? `CPU ${((stat.own + stat.server) / stat.reads).toFixed(3)} ms/read (client ${(stat.own / stat.reads).toFixed(3)}, dynalite ${(stat.server / stat.reads).toFixed(3)})`
      : `CPU ${(stat.own / stat.reads).toFixed(3)} ms/read (client and dynalite)`;
    console.log(`${name.padEnd(8)} ${stat.reads} reads: wall p50 ${at(0.5)} ms, p90 ${at(0.9)} ms; ${cpu}`);
  }
  admin.destroy();
  await dynamo.close();
}

/** Attribute values in a wire-format item, nested ones included. */
function countValues(item: Record<string, unknown>): number {
  let count = 0;
  const visit = (value: unknown): void => {
    count += 1;
    const v = value as { L?: unknown[]; M?: Record<string, unknown> };
    if (v.L) for (const x of v.L) visit(x);
    if (v.M) for (const x of Object.values(v.M)) visit(x);
  };
  for (const value of Object.values(item)) visit(value);
  return count;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000' },
      split: { type: 'boolean', default: false },
      // Events per SQS batch: 10 as in AWS; the local queue hands over up to 100 behind a backlog.
      batch: { type: 'string', default: '10' },
      items: { type: 'boolean', default: false },
      reads: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '40' },
      client: { type: 'string', default: 'http' },
    },
  });
  if (values.items) {
    itemReport();
    return;
  }
  if (values.reads) {
    await readReport(values.split, Number(values.rounds));
    return;
  }
  const total = Number(values.events);
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const dynamo = await startServer(values.split);
  const { client: admin, documents } = createDynamoClients({
    endpoint: dynamo.endpoint,
    requestTimeoutMs: 10_000,
  });
  await ensureTable(admin, 'bench', FEATURE_TABLE);
  // The writer's caller as the updater builds it (see functions/feature-updater/index.ts), or
  // (`--client sdk`) the SDK client it used before. The local stack's connect budget
  // (updater-process.ts): a batch of 100 opens up to 50 sockets at once.
  const clientOptions = { endpoint: dynamo.endpoint, requestTimeoutMs: 10_000, connectionTimeoutMs: 5000 };
  const caller = await createScoringCaller({
    ...clientOptions,
    kind: values.client === 'sdk' ? 'sdk' : 'http',
  });
  const requests = new Map<string, number>();
  const counted: DynamoCaller = {
    call: (operation, input, signal) => {
      requests.set(operation, (requests.get(operation) ?? 0) + 1);
      return caller.call(operation, input, signal);
    },
    destroy: () => caller.destroy(),
  };
  console.log(`writer's DynamoDB client: ${values.client === 'sdk' ? 'SDK client' : 'signed HTTP'}`);
  const updater = createUpdaterHandler({
    writer: new MarkerFeatureWriter(counted, 'bench'),
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
    `card item (hot, ${total} events): ${dynamoItemBytes(hot)} bytes; total=${JSON.stringify(cardFromItem(hot ?? {}).total)}`,
  );
  console.log(
    `card item (spread, ${total / 200} events): ${dynamoItemBytes(await read('card#card_0'))} bytes`,
  );
  console.log(
    `card item (history, ${40 + total / 200} events): ${dynamoItemBytes(await read('card#card_h0'))} bytes`,
  );
  admin.destroy();
  caller.destroy();
  await dynamo.close();
}

void main();
