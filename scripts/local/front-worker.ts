/**
 * One worker of the local HTTP front (a `node:cluster` worker: the primary listens and hands it
 * connections, to the worker with the fewest active ones first; `front-balancer.ts`). It runs the
 * real score and events functions, built by their own `index.ts`; accepted events go to the queue
 * process over loopback.
 */

import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { createEventsFunction } from '../../functions/events/index';
import { loadScoreConfig } from '../../functions/score/config';
import { createScoreFunction } from '../../functions/score/index';
import { closeArchives, loadArchiveConfig } from '../../functions/shared/archive-wiring';
import { renderOpenApi } from '../openapi';
import { weightedRoute } from './canary';
import { divertEmfLines, metricsFileOf, oneRequestAtATime } from './emf-file';
import {
  type ConnectionClosedMessage,
  ConnectionTracker,
  isConnectionMessage,
  LOAD_REPORT_MS,
  type LoadMessage,
} from './front-balancer';
import { HttpEventQueue } from './http-event-queue';
import { createFront, REQUESTS_PER_CONNECTION } from './http-front';
import { isPrimeMessage, type PrimedMessage, primeFront } from './prime';
import { PRIMING_ID_PREFIX } from './priming-ids';
import { announceReady, childConfig } from './processes';

/** What the primary passes to each worker. */
export interface FrontWorkerConfig {
  /** The port the primary listens on for this worker (`front-balancer.ts`). */
  port: number;
  stage: string;
  /** The queue process (the SQS stand-in) that accepted events are handed to. */
  queueUrl: string;
  /** How far ahead of the clock an event may be dated. */
  maxFutureSkewMs: number;
  /** Environment of the score function, exactly as Lambda would get it. */
  scoreEnv: Record<string, string>;
  /** Root of the local archive (`<kind>/dt=…/` gzip JSON lines); no archive when unset. */
  archiveDir?: string;
  /** A second version of the score function (its environment) and its share of requests. */
  canary?: { scoreEnv: Record<string, string>; weight: number };
  /** Write the EMF metric lines to a file in this folder (see `emf-file.ts`); none when unset. */
  metricsDir?: string;
}

async function main(): Promise<void> {
  const config = childConfig<FrontWorkerConfig>();
  let metricsFile: ReturnType<typeof divertEmfLines> | undefined;
  if (config.metricsDir) {
    // Read by Powertools and the EMF line writer when the functions are built.
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    metricsFile = divertEmfLines(process.stdout, metricsFileOf(config.metricsDir, Date.now(), process.pid));
  }
  // Primed through itself before it serves (`prime.ts`), without archiving its priming requests;
  // with metric files, a copy is primed instead, so that no priming request is counted.
  const primeServing = !config.metricsDir;
  let priming = false;
  const score = await createScoreFunction(loadScoreConfig(config.scoreEnv), {
    archiveAnswer: (request) => !(priming && request.transactionId?.startsWith(PRIMING_ID_PREFIX)),
  });
  // One after the other: each builds its own model session and archive writer.
  const canary = config.canary && (await createScoreFunction(loadScoreConfig(config.canary.scoreEnv)));
  const queue = new HttpEventQueue(config.queueUrl);
  const events = createEventsFunction(
    {
      stage: config.stage,
      maxFutureSkewMs: config.maxFutureSkewMs,
      archive: loadArchiveConfig({ ARCHIVE_DIR: config.archiveDir }),
    },
    queue,
  );
  // Metrics kept: each function instance serves one request at a time, like a Lambda environment.
  const serve = <H extends (...args: never[]) => Promise<unknown>>(handler: H): H =>
    config.metricsDir ? (oneRequestAtATime(handler) as H) : handler;
  const route = canary
    ? weightedRoute(serve(score.handler), serve(canary.handler), config.canary?.weight ?? 0)
    : serve(score.handler);
  const server = createFront({ score: route, events, openApi: renderOpenApi() }, config.stage);
  // The primary listens and hands each connection over (`front-balancer.ts`); this worker tells it
  // which connections are active and when one closes, for its choice of worker for the next one.
  const tracker = new ConnectionTracker<Socket>(REQUESTS_PER_CONNECTION);
  const tell = (message: ConnectionClosedMessage | LoadMessage | undefined) => {
    if (message) process.send?.(message);
  };
  server.on('connection', (socket: Socket) => {
    tracker.opened(socket);
    socket.once('close', () => tell(tracker.closed(socket)));
  });
  server.on('request', (request: IncomingMessage) => tell(tracker.request(request.socket)));
  process.on('message', (message: unknown, handle?: unknown) => {
    if (!isConnectionMessage(message) || !(handle instanceof Socket)) return;
    server.emit('connection', handle);
    handle.resume();
  });
  setInterval(() => tell(tracker.report()), LOAD_REPORT_MS).unref();
  announceReady({ port: config.port });
  // The primary primes each worker once the data is seeded, before it prints the URL (`prime.ts`).
  process.on('message', (message: unknown) => {
    if (!isPrimeMessage(message)) return;
    priming = true;
    primeFront(config, message.requests, primeServing ? { score: score.handler, queue } : undefined)
      .finally(() => {
        priming = false;
      })
      .then(
        (primed) => process.send?.(primed),
        (error: unknown) =>
          process.send?.({
            type: 'primed',
            pid: process.pid,
            requests: 0,
            ms: 0,
            statuses: {},
            error: (error as Error).message,
          } satisfies PrimedMessage),
      );
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close();
    queue.close();
    // What the archive holds is written before the process ends.
    void Promise.allSettled([score.close(), canary?.close(), closeArchives()])
      .then(() => metricsFile?.close())
      .finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`front worker failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
