/**
 * The embedded DynamoDB-compatible server in its own process, so that its CPU does not share
 * an event loop with the handlers. Started by the local stack; announces its port over IPC.
 */

import { startDynalite } from './dynamo-local';
import { announceReady, childConfig } from './processes';

const config = childConfig<{ path?: string; port?: number }>();
startDynalite({ path: config.path, port: config.port })
  .then((server) => {
    announceReady({ port: Number(new URL(server.endpoint).port) });
    process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
  })
  .catch((error: unknown) => {
    process.stderr.write(`dynalite failed to start: ${(error as Error).stack}\n`);
    process.exit(1);
  });
