/**
 * Priming the front workers before `npm start` prints its URL. A fresh stack runs every hot
 * path in V8's interpreter: in the first seconds of `npm run simulate -- --rps 100` against a
 * stack started cold, each of its processes compiled its code while 200 requests a second
 * arrived, the two cores saturated, and every degraded answer of a 60 s run came in its first
 * 7 s (docs/performance.md, "Cold start"). So each worker first sends a few hundred score and
 * event requests through a private copy of its front (the same `createFront`, on a loopback
 * port of its own), wired to **the score function instance that will serve** (its archive
 * leaves these requests out, `archiveAnswer`) and to an events function (without archive) that
 * sends to the real queue. The score requests read the seeded cards and store answers under
 * `prime-` transaction ids (idempotency records only); the events are on priming cards, and the
 * stack deletes what the updater wrote for them once they are applied (`app.ts`, `prime`). So the
 * score path's DynamoDB calls, dynalite's reads and conditional writes, the neural twin unless
 * it is off, the queue and the updater run warm when the first real request arrives; the
 * archive and the metric files hold none of it.
 *
 * The serving instance itself, not a copy of the same configuration: a copy shares the modules'
 * code, yet with a copy primed the workers still spent ~1.5× their later CPU per answer in a
 * run's first 10–20 s, and less with the serving instance primed (docs/performance.md, "The
 * first seconds"; which per-instance state needs the traffic was not isolated). A stack that
 * writes metric files (`--metrics`) still primes a copy built with metrics off, its events
 * dropped, so that the canary judge counts no priming request.
 */
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventQueue } from '#domain/event-queue';
import type { ScoreRequest, TransactionEvent } from '#domain/types';
import { createEventsFunction } from '../../functions/events/index';
import { loadScoreConfig } from '../../functions/score/config';
import { createScoreFunction } from '../../functions/score/index';
import { postJson } from '../support/post-json';
import { createFront } from './http-front';

/** The HTTP handler of a score function (`createScoreFunction(...).handler`). */
export type ScoreHandler = Awaited<ReturnType<typeof createScoreFunction>>['handler'];

/** One priming step: a score request and the authorization event reported after it. */
export interface PrimingRequest {
  readonly score: ScoreRequest;
  readonly event: TransactionEvent;
}

/** What the primary sends a worker over the cluster channel. */
export interface PrimeMessage {
  readonly type: 'prime';
  readonly requests: readonly PrimingRequest[];
}

/** A worker's answer: how its priming requests were answered, or why it could not prime. */
export interface PrimedMessage {
  readonly type: 'primed';
  readonly pid: number;
  readonly requests: number;
  readonly ms: number;
  /** Answers by `<route> <status>`, e.g. `score 200` (0: no answer). */
  readonly statuses: Record<string, number>;
  /** The first request that got no answer, and why. */
  readonly firstFailure?: string;
  /** Why the worker could not prime at all. */
  readonly error?: string;
}

/** Requests in flight per worker while priming (the front serves several connections). */
const PRIMING_LANES = 2;

export function isPrimeMessage(message: unknown): message is PrimeMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'prime';
}

/** A queue that accepts and forgets, for a primed copy: its events do not reach the feature updater. */
const droppingQueue: EventQueue = { send: async () => undefined };

/**
 * Runs the priming requests through a private front, closed afterwards: to `serving` (the
 * handler of the instance that will serve) when given, else to a score function built for
 * priming only. Metrics are switched off while its functions are built
 * (Powertools and the EMF line writer read the switch then), so a stack that writes metric
 * files for the canary judge counts none of these requests.
 */
export async function primeFront(
  worker: {
    readonly scoreEnv: Readonly<Record<string, string>>;
    readonly stage: string;
    readonly maxFutureSkewMs: number;
  },
  requests: readonly PrimingRequest[],
  serving?: { readonly score: ScoreHandler; readonly queue: EventQueue },
): Promise<PrimedMessage> {
  const { scoreEnv, stage, maxFutureSkewMs } = worker;
  const { ARCHIVE_DIR: _noArchive, ...env } = scoreEnv;
  const metricsSwitch = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  // A copy only when there is no serving instance to prime; closed after priming.
  let score: Awaited<ReturnType<typeof createScoreFunction>> | undefined;
  let handler: ScoreHandler;
  let events: ReturnType<typeof createEventsFunction>;
  try {
    if (serving) handler = serving.score;
    else {
      score = await createScoreFunction(loadScoreConfig(env));
      handler = score.handler;
    }
    events = createEventsFunction(
      { stage, maxFutureSkewMs, archive: undefined },
      serving?.queue ?? droppingQueue,
    );
  } finally {
    if (metricsSwitch === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = metricsSwitch;
  }
  const server = createFront({ score: handler, events, openApi: '{}' }, stage);
  // Exclusive: in a cluster worker a plain listen(0) shares one port among the workers through the
  // primary, and one worker's priming requests would reach (and be cut off by) another's front.
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve),
  );
  const { port } = server.address() as AddressInfo;
  const scoreUrl = new URL(`http://127.0.0.1:${port}/v1/score`);
  const eventsUrl = new URL(`http://127.0.0.1:${port}/v1/events`);
  const agent = new Agent({ keepAlive: true, maxSockets: PRIMING_LANES });
  const statuses: Record<string, number> = {};
  const count = (key: string) => {
    statuses[key] = (statuses[key] ?? 0) + 1;
  };
  const started = performance.now();
  let firstFailure: string | undefined;
  const status = (url: URL, body: unknown) =>
    postJson(agent, url, body).then(
      (answer) => answer.status,
      (error: Error) => {
        firstFailure ??= `${url.pathname}: ${error.message}`;
        return 0;
      },
    );
  let next = 0;
  const lane = async () => {
    for (let step = requests[next++]; step; step = requests[next++]) {
      count(`score ${await status(scoreUrl, step.score)}`);
      count(`events ${await status(eventsUrl, step.event)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: PRIMING_LANES }, lane));
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await score?.close();
  }
  return {
    type: 'primed',
    pid: process.pid,
    requests: requests.length,
    ms: performance.now() - started,
    statuses,
    ...(firstFailure ? { firstFailure } : {}),
  };
}
