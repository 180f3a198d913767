/**
 * The events path's back half in its own process: the local queue and the real feature
 * updater, so that event load never runs on a thread that answers score requests. The front
 * workers hand accepted events over HTTP (`POST /enqueue`); `GET /drain` waits until every
 * accepted event is applied (for seeding and tests); `GET /stats` reports the queue.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TransactionEvent } from '#domain/types';
import { loadUpdaterConfig } from '../../functions/feature-updater/config';
import { createUpdaterFunction } from '../../functions/feature-updater/index';
import { lambdaContext } from './api-gateway';
import { LocalQueue } from './local-queue';
import { announceReady, childConfig } from './processes';

interface UpdaterProcessConfig {
  stage: string;
  featureTable: string;
  dynamoEndpoint: string;
}

const config = childConfig<UpdaterProcessConfig>();
const updater = createUpdaterFunction(
  loadUpdaterConfig({
    STAGE: config.stage,
    FEATURE_TABLE_NAME: config.featureTable,
    DYNAMODB_ENDPOINT: config.dynamoEndpoint,
    // dynalite has no TransactWriteItems: the marker protocol gives the same exactly-once guarantee.
    FEATURE_WRITER: 'marker',
  }),
);
const queue = new LocalQueue((event) => updater.handler(event, lambdaContext('feature-updater', 30_000)), {
  onDeadLetter: (id) => process.stderr.write(`local queue: message ${id} dead-lettered after 5 receives\n`),
});

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = createServer((req, res) => {
  void (async () => {
    try {
      if (req.method === 'POST' && req.url === '/enqueue') {
        const { events } = (await readJson(req)) as { events: TransactionEvent[] };
        queue.send(events);
        return reply(res, 202, { accepted: events.length });
      }
      if (req.method === 'GET' && req.url === '/drain') {
        await queue.drained();
        return reply(res, 200, queue.stats);
      }
      if (req.method === 'GET' && req.url === '/stats') return reply(res, 200, queue.stats);
      reply(res, 404, { error: 'not found' });
    } catch (error) {
      reply(res, 500, { error: (error as Error).message });
    }
  })();
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  announceReady({ port: typeof address === 'object' && address ? address.port : undefined });
});
process.on('SIGTERM', () => {
  server.close();
  updater.close();
  process.exit(0);
});
