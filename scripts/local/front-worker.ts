/**
 * One worker of the local HTTP front (a `node:cluster` worker: the primary hands it
 * connections round-robin). It runs the real score and events functions, built by their own
 * `index.ts`; accepted events go to the updater process over loopback.
 */
import { createEventsFunction } from '../../functions/events/index';
import { loadScoreConfig } from '../../functions/score/config';
import { createScoreFunction } from '../../functions/score/index';
import { closeArchives, loadArchiveConfig } from '../../functions/shared/archive-wiring';
import { renderOpenApi } from '../openapi';
import { HttpEventQueue } from './http-event-queue';
import { createFront } from './http-front';
import { announceReady, childConfig } from './processes';

/** What the primary passes to each worker. */
export interface FrontWorkerConfig {
  port: number;
  stage: string;
  updaterUrl: string;
  /** How far ahead of the clock an event may be dated. */
  maxFutureSkewMs: number;
  /** Environment of the score function, exactly as Lambda would get it. */
  scoreEnv: Record<string, string>;
  /** Root of the local archive (`<kind>/dt=…/` gzip JSON lines); no archive when unset. */
  archiveDir?: string;
}

async function main(): Promise<void> {
  const config = childConfig<FrontWorkerConfig>();
  const score = await createScoreFunction(loadScoreConfig(config.scoreEnv));
  const queue = new HttpEventQueue(config.updaterUrl);
  const events = createEventsFunction(
    {
      stage: config.stage,
      maxFutureSkewMs: config.maxFutureSkewMs,
      archive: loadArchiveConfig({ ARCHIVE_DIR: config.archiveDir }),
    },
    queue,
  );
  const server = createFront({ score: score.handler, events, openApi: renderOpenApi() }, config.stage);
  server.listen(config.port, '127.0.0.1', () => announceReady({ port: config.port }));
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close();
    queue.close();
    // What the archive holds is written before the process ends.
    void Promise.allSettled([score.close(), closeArchives()]).finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`front worker failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
