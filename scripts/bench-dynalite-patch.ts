/**
 * `npx tsx scripts/bench-dynalite-patch.ts [--requests N] [--rounds R]`: dynalite's CPU per
 * request, unpatched against patched (`scripts/local/dynalite-patch.ts`), each in its own
 * process as the local stack runs it. Per round and server: N consistent BatchGetItems of a
 * seeded card item and N conditional PutItems of it (the updater's write), then the score path's
 * own two requests (the read with its projection, the answer's put with its condition on names
 * and a value), sequential over one keep-alive connection; the servers alternate round by round, and
 * the CPU comes from `/proc/<pid>/stat` (Linux). A first round warms both up uncounted. Prints
 * the median per request and kind.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { PUT_CONDITION } from '#adapters/dynamo-scoring-store';
import { READ_PROJECTION } from '#adapters/feature-items';
import { IDEMPOTENCY_TABLE } from '#shared/table-schema';
import { forkTs, OutputCapture, stopChild, whenReady } from './local/processes';

/** A stored answer's body, about the size the score function stores. */
const ANSWER = JSON.stringify({
  transactionId: 'tx_20261201_000001',
  score: 0.0123,
  decision: 'approve',
  reasons: ['amount_vs_card_usual', 'new_merchant', 'night_time'],
  modelVersion: '1.0.0',
  degraded: [],
});

const SIGNED = {
  'content-type': 'application/x-amz-json-1.0',
  authorization:
    'AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
  'x-amz-date': '20260101T000000Z',
};

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function call(agent: Agent, port: number, operation: string, body: unknown): Promise<number> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        agent,
        headers: {
          ...SIGNED,
          'x-amz-target': `DynamoDB_20120810.${operation}`,
          'content-length': Buffer.byteLength(text),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** A card-sized item: ~60 attributes of mixed types, ~3 KB, like a seeded card with history. */
function cardItem(pk: string, version: number): Record<string, unknown> {
  const item: Record<string, unknown> = { pk: { S: pk }, v: { N: String(version) } };
  for (let i = 0; i < 40; i += 1) item[`d${i}`] = { N: String(1000 + i * 37.5) };
  item.ring = { S: 'x1y2z3'.repeat(150) };
  item.merchants = { L: Array.from({ length: 20 }, (_, i) => ({ S: `m_${String(i).padStart(5, '0')}` })) };
  return item;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '8' } },
  });
  const requests = Number(values.requests);
  const capture = new OutputCapture(false);
  const servers: { label: string; child: ChildProcess; port: number; agent: Agent }[] = [];
  for (const patch of [false, true]) {
    const child = forkTs('dynalite-process.ts', { patch }, capture);
    const { port } = await whenReady(child, 'dynalite');
    servers.push({
      label: patch ? 'patched' : 'unpatched',
      child,
      port: port as number,
      agent: new Agent({ keepAlive: true, maxSockets: 1 }),
    });
  }
  const table = 'bench';
  const figures = new Map<string, number[]>();
  try {
    for (const server of servers) {
      await call(server.agent, server.port, 'CreateTable', {
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      });
      await call(server.agent, server.port, 'PutItem', { TableName: table, Item: cardItem('card#1', 0) });
    }
    // What is timed, in this order on each server: a consistent read of the card and the updater's
    // conditional put of it; then the score path's own two requests, the features read with its
    // projection and the answer's put with the store's condition (`PUT_CONDITION`: two names and a
    // value). A new answer each time: on this table's key the condition holds, as for a new answer.
    // `payload` gets a name unique per server, round and request, and the request's index.
    const kinds: [kind: string, operation: string, payload: (unique: string, i: number) => unknown][] = [
      [
        'BatchGetItem',
        'BatchGetItem',
        () => ({ RequestItems: { [table]: { Keys: [{ pk: { S: 'card#1' } }], ConsistentRead: true } } }),
      ],
      [
        'conditional PutItem',
        'PutItem',
        (_unique, i) => ({
          TableName: table,
          Item: cardItem('card#1', i),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      ],
      [
        'BatchGetItem, projected',
        'BatchGetItem',
        () => ({
          RequestItems: {
            [table]: {
              Keys: [{ pk: { S: 'card#1' } }],
              ProjectionExpression: READ_PROJECTION.expression,
              ExpressionAttributeNames: READ_PROJECTION.names,
            },
          },
        }),
      ],
      [
        'answer PutItem',
        'PutItem',
        (unique) => ({
          TableName: table,
          Item: {
            pk: { S: `answer#${unique}` },
            [IDEMPOTENCY_TABLE.ttlAttribute]: { N: '1900000000' },
            response: { S: ANSWER },
          },
          ConditionExpression: PUT_CONDITION.expression,
          ExpressionAttributeNames: PUT_CONDITION.names,
          ExpressionAttributeValues: { ':now': { N: String(Math.floor(Date.now() / 1000)) } },
        }),
      ],
    ];
    const load = [loadavg()[0] ?? 0];
    // Round 0 warms both up (JIT) and is not counted.
    for (let round = -1; round < Number(values.rounds); round += 1) {
      for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
        const pid = server.child.pid as number;
        for (const [kind, operation, payload] of kinds) {
          const before = cpuSeconds(pid);
          for (let i = 0; i < requests; i += 1)
            await call(server.agent, server.port, operation, payload(`${server.label}-${round}-${i}`, i));
          const ms = ((cpuSeconds(pid) - before) * 1000) / requests;
          const label = `${server.label} ${kind}`;
          if (round >= 0) figures.set(label, [...(figures.get(label) ?? []), ms]);
        }
      }
    }
    load.push(loadavg()[0] ?? 0);
    process.stdout.write(
      `dynalite CPU per request (ms), ${requests} requests per cell, load ${load.map((l) => l.toFixed(1)).join(' → ')}\n`,
    );
    for (const [label, values] of figures) {
      const sorted = [...values].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
      process.stdout.write(
        `  ${label.padEnd(36)} median ${median.toFixed(3)}  (${values.map((v) => v.toFixed(3)).join(' ')})\n`,
      );
    }
  } finally {
    for (const server of servers) {
      server.agent.destroy();
      await stopChild(server.child);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
