/**
 * The whole stack on one machine: dynalite, the tables from the shared key definitions, the
 * real score / events / feature-updater handlers behind a small HTTP front that builds API
 * Gateway events, and an in-process queue standing in for SQS. Used by `npm start` and by
 * the e2e tests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult, SQSEvent } from 'aws-lambda';
import { createDynamoClients } from '#adapters/dynamo-client';
import { DynamoFeatureWriter } from '#adapters/dynamo-feature-store';
import type { EventQueue } from '#domain/event-queue';
import type { TransactionEvent } from '#domain/types';
import { FEATURE_TABLE, IDEMPOTENCY_TABLE } from '#shared/table-schema';
import { createEventsHandler, eventsObservability } from '../../functions/events/handler';
import { createUpdaterHandler } from '../../functions/feature-updater/handler';
import { loadScoreConfig } from '../../functions/score/config';
import { initScoreHandler } from '../../functions/score/handler';
import { renderOpenApi } from '../openapi';
import { apiGatewayEvent, lambdaContext } from './api-gateway';
import { ensureTable, type LocalDynamo, startDynalite } from './dynamo-local';

export const ROOT = join(__dirname, '..', '..');
export const DEFAULT_MODEL_DIR = join(ROOT, 'models', 'fraud-gbdt', '1.0.0');
export const DEFAULT_POLICY = join(ROOT, 'functions', 'score', 'policy.json');

/** What `npm start` seeds by default; `npm run simulate` continues the same population. */
export const SEED_DEFAULTS = { cards: 500, days: 14, seed: 7 } as const;

const DAY_MS = 86_400_000;
/** First day (`YYYY-MM-DD`) of a seeded window of `days` days that ends with today (UTC). */
export function seededWindowStart(now: number, days: number): string {
  return new Date(Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS).toISOString().slice(0, 10);
}

export interface LocalStackOptions {
  /** HTTP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Persist dynalite data in this folder; in memory when unset. */
  dataDir?: string;
  /** Use an already running DynamoDB-compatible endpoint instead of starting dynalite. */
  dynamoEndpoint?: string;
  modelDir?: string;
  policyPath?: string;
  stage?: string;
  /** Feature read budget (ms). @default 60 */
  featureTimeoutMs?: number;
  /** Powertools log level for the handlers. @default 'WARN' */
  logLevel?: string;
}

export interface LocalStack {
  url: string;
  dynamoEndpoint: string;
  featureTable: string;
  /** Sends events through the same path as `POST /v1/events` (queue → updater). */
  queue: EventQueue;
  /** Stops dynalite only (for degradation tests); the HTTP front keeps serving. */
  stopDynamo(): Promise<void>;
  close(): Promise<void>;
  countItems(): Promise<number>;
}

const FEATURE_TABLE_NAME = 'local-features';
const IDEMPOTENCY_TABLE_NAME = 'local-idempotency';

/** An in-process stand-in for SQS: batches of up to 10 records go straight to the updater. */
export class InProcessQueue implements EventQueue {
  private messageId = 0;
  constructor(private readonly updater: (event: SQSEvent) => Promise<{ batchItemFailures: unknown[] }>) {}

  async send(events: readonly TransactionEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      const records = events.slice(i, i + 10).map((event) => {
        this.messageId += 1;
        return {
          messageId: String(this.messageId),
          receiptHandle: String(this.messageId),
          body: JSON.stringify(event),
          attributes: {},
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:local:000000000000:events',
          awsRegion: 'local',
        };
      });
      const response = await this.updater({ Records: records } as unknown as SQSEvent);
      if (response.batchItemFailures.length > 0) {
        throw new Error(`${response.batchItemFailures.length} events failed in the feature updater`);
      }
    }
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Like API Gateway, refuse absurd bodies early; the handler enforces the real 8 KB limit.
    if (size > limit) throw new Error('payload too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  res.writeHead(result.statusCode, result.headers as Record<string, string>);
  res.end(result.body);
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stage = options.stage ?? 'local';
  // Powertools reads these at construction: quiet JSON logs, no EMF blobs, no X-Ray locally.
  process.env.POWERTOOLS_LOG_LEVEL = options.logLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED = process.env.POWERTOOLS_METRICS_DISABLED ?? 'true';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
  process.env.AWS_LAMBDA_FUNCTION_NAME = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local';

  let dynamo: LocalDynamo | undefined;
  if (!options.dynamoEndpoint) dynamo = await startDynalite({ path: options.dataDir });
  const dynamoEndpoint = options.dynamoEndpoint ?? (dynamo as LocalDynamo).endpoint;
  const { client, documents } = createDynamoClients({ endpoint: dynamoEndpoint, requestTimeoutMs: 5000 });
  await ensureTable(client, FEATURE_TABLE_NAME, FEATURE_TABLE);
  await ensureTable(client, IDEMPOTENCY_TABLE_NAME, IDEMPOTENCY_TABLE);

  const score = await initScoreHandler(
    loadScoreConfig({
      STAGE: stage,
      FEATURE_TABLE_NAME,
      IDEMPOTENCY_TABLE_NAME,
      MODEL_DIR: options.modelDir ?? DEFAULT_MODEL_DIR,
      POLICY_PATH: options.policyPath ?? DEFAULT_POLICY,
      FEATURE_TIMEOUT_MS: String(options.featureTimeoutMs ?? 60),
      DYNAMODB_ENDPOINT: dynamoEndpoint,
    }),
  );
  const updater = createUpdaterHandler({
    writer: new DynamoFeatureWriter(documents, FEATURE_TABLE_NAME),
    logger: new Logger({ serviceName: 'feature-updater', persistentKeys: { stage } }),
    metrics: new Metrics({
      namespace: 'FraudScoring',
      serviceName: 'feature-updater',
      defaultDimensions: { stage },
    }),
  });
  const queue = new InProcessQueue((event) => updater(event, lambdaContext('feature-updater', 30_000)));
  const events = createEventsHandler({ queue, ...eventsObservability(stage) });
  const openApi = renderOpenApi();

  const server: Server = createServer((req, res) => {
    void (async () => {
      const route = `${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname}`;
      try {
        if (route === 'GET /health') {
          return send(res, {
            statusCode: 200,
            headers: { 'Content-Type': 'application/json' },
            body: '{"status":"ok"}',
          });
        }
        if (route === 'GET /openapi.json') {
          return send(res, {
            statusCode: 200,
            headers: { 'Content-Type': 'application/json' },
            body: openApi,
          });
        }
        const body = await readBody(req, 1024 * 1024);
        const event = apiGatewayEvent(req, body, stage);
        if (route === 'POST /v1/score') return send(res, await score.handler(event, lambdaContext('score')));
        if (route === 'POST /v1/events') return send(res, await events(event, lambdaContext('events')));
        send(res, {
          statusCode: 404,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route for ${route}` } }),
        });
      } catch (error) {
        send(res, {
          statusCode: 500,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ error: { code: 'LOCAL_FRONT_ERROR', message: (error as Error).message } }),
        });
      }
    })();
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  let dynamoStopped = false;
  const stopDynamo = async () => {
    if (dynamo && !dynamoStopped) {
      dynamoStopped = true;
      await dynamo.close();
    }
  };
  return {
    url: `http://127.0.0.1:${port}`,
    dynamoEndpoint,
    featureTable: FEATURE_TABLE_NAME,
    queue,
    stopDynamo,
    countItems: async () => {
      let count = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(
          new ScanCommand({ TableName: FEATURE_TABLE_NAME, Select: 'COUNT', ExclusiveStartKey: start }),
        );
        count += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
      return count;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopDynamo();
      client.destroy();
    },
  };
}
