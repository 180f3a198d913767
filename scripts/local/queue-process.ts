/**
 * The local stand-in for SQS in its own process at normal priority: the front workers hand
 * accepted events to it (`POST /enqueue`, answered as soon as they are queued, as SQS
 * acknowledges a send), and it delivers them in batches to the updater process (`POST /deliver`,
 * the SQS event source calling the Lambda function). The updater runs niced, so on a saturated
 * machine it lags; accepting an event must not wait for it (when the queue lived in the updater's
 * event loop, `POST /v1/events` timed out after 3 s for most events at 100/s). `GET /drain`
 * waits until every accepted event is applied (for seeding and tests); `GET /stats` reports the
 * queue.
 */
import { Agent } from 'node:http';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { TransactionEvent } from '#domain/types';
import { postJson } from '../support/post-json';
import { LocalQueue } from './local-queue';
import { childConfig, readJsonBody, serveJson } from './processes';

/** What the local stack passes to this process. */
export interface QueueProcessConfig {
  /** The updater process's base URL. */
  updaterUrl: string;
  /**
   * Pause after a delivery that did not reach the updater, before the next one: with 5 receives
   * per message, events outlive an updater restart of a few seconds before they are
   * dead-lettered (SQS would wait a visibility timeout, 30 s or more, between receives).
   * @default 1000
   */
  unreachableBackoffMs?: number;
  /**
   * Most events per delivery. A delivery takes what is pending, so while the updater keeps up
   * batches stay small; behind a backlog (a saturated machine, the updater niced) they grow, and
   * the writer folds all of a batch's events on one card or merchant into one write: DynamoDB
   * requests per event 2.30 → 1.34 and updater + dynalite CPU per event about −30 %
   * (`scripts/bench-feature-updater.ts --batch`, docs/performance.md, "Event batches"). In AWS
   * the event source mapping stays at 10 (a batching window would allow more).
   * @default 100
   */
  batchSize?: number;
  /**
   * How long a delivery gathers events for a fuller batch (the event source's batching window,
   * `maxBatchingWindowSeconds` in the stage config: 1 s in dev, 2 s in prod).
   * @default 0
   */
  batchWindowMs?: number;
}

const config = childConfig<QueueProcessConfig>();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const deliverUrl = new URL(`${config.updaterUrl}/deliver`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One batch to the updater; a thrown error fails the whole batch, as a Lambda error would. */
async function deliver(event: SQSEvent): Promise<SQSBatchResponse> {
  try {
    const answer = await postJson(agent, deliverUrl, event);
    if (answer.status !== 200) throw new Error(`updater answered ${answer.status}`);
    return JSON.parse(answer.body) as SQSBatchResponse;
  } catch (error) {
    // An updater that is down or restarting is not retried in a tight loop.
    await sleep(config.unreachableBackoffMs ?? 1000);
    throw error;
  }
}

const queue = new LocalQueue(deliver, {
  batchSize: config.batchSize ?? 100,
  batchWindowMs: config.batchWindowMs ?? 0,
  onDeadLetter: (id) => process.stderr.write(`local queue: message ${id} dead-lettered after 5 receives\n`),
});

serveJson(
  async (req) => {
    if (req.method === 'POST' && req.url === '/enqueue') {
      const { events } = (await readJsonBody(req)) as { events: TransactionEvent[] };
      queue.send(events);
      return [202, { accepted: events.length }];
    }
    if (req.method === 'GET' && req.url === '/drain') {
      await queue.drained();
      return [200, queue.stats];
    }
    if (req.method === 'GET' && req.url === '/stats') return [200, queue.stats];
    return undefined;
  },
  () => agent.destroy(),
);
