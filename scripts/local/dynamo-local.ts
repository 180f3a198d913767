/**
 * The embedded DynamoDB-compatible server (dynalite) and table creation from the shared key
 * definitions, used by the local stack and the integration tests.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { TableSchema } from '#shared/table-schema';

export interface LocalDynamo {
  /** The endpoint for the scoring path (and anything else that should not wait). */
  endpoint: string;
  /** The background lane's endpoint (same tables), when one was asked for. */
  backgroundEndpoint?: string;
  close(): Promise<void>;
}

export interface DynaliteOptions {
  /** Port of the main endpoint; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Persist the data in this folder. @default - in memory */
  readonly path?: string;
  /**
   * Also serve the same tables on a second port whose requests run at most this many at a
   * time, queued in arrival order (see {@link startDynalite}). @default - no background lane
   */
  readonly backgroundInFlight?: number;
}

/**
 * Runs at most `limit` tasks at once; the rest wait in arrival order. The background lane's
 * gate: a request waiting here costs dynalite nothing but its parsed headers.
 */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  /** Requests running now and waiting, for tests and stats. */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await task();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

function listen(server: ReturnType<typeof createServer>, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Starts dynalite on 127.0.0.1; in memory unless `path` is given (then persisted in that folder).
 *
 * dynalite answers in one event loop, first come first served. With `backgroundInFlight`, the
 * same server also listens on a background port for writers that can wait (the local feature
 * updater): at most that many of their requests run at once, so a score read queues behind a
 * handful of updater operations instead of a whole batch's worth (a batch of 10 events is
 * about 25 reads and writes with the marker writer). In AWS the two share nothing but the
 * table's partitions, which scale; the lane makes the one local process behave closer to that.
 * The updater then lags under load instead of the answers degrading; `GET /stats` of the queue
 * process shows the backlog.
 */
export async function startDynalite(options: DynaliteOptions = {}): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: options.path });
  const port = await listen(server, options.port ?? 0);
  let background: ReturnType<typeof createServer> | undefined;
  let backgroundPort: number | undefined;
  if (options.backgroundInFlight !== undefined) {
    const handle = server.listeners('request')[0] as RequestListener;
    const gate = new Gate(options.backgroundInFlight);
    background = createServer((req: IncomingMessage, res: ServerResponse) => {
      void gate.run(
        () =>
          new Promise<void>((done) => {
            // 'close' comes after the answer is sent, or when the client went away.
            res.once('close', done);
            handle(req, res);
          }),
      );
    });
    background.keepAliveTimeout = 65_000;
    backgroundPort = await listen(background, 0);
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    backgroundEndpoint: backgroundPort === undefined ? undefined : `http://127.0.0.1:${backgroundPort}`,
    close: async () => {
      if (background) {
        const lane = background;
        lane.closeAllConnections();
        await new Promise<void>((resolve) => lane.close(() => resolve()));
      }
      // Kept-alive clients (the workers, the updater) would hold `close` open until they let go.
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
      });
    },
  };
}

/** Creates a table from its schema (on-demand); an existing table is left as it is. */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  schema: TableSchema,
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: schema.partitionKey.name, AttributeType: schema.partitionKey.type },
        ],
        KeySchema: [{ AttributeName: schema.partitionKey.name, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // dynalite accepts the TTL setting but never expires items (documented in README).
    await client
      .send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: schema.ttlAttribute, Enabled: true },
        }),
      )
      .catch(() => undefined);
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
