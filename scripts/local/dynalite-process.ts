/**
 * The embedded DynamoDB-compatible server in its own process, so that its CPU does not share
 * an event loop with the handlers. Started by the local stack; announces its port (and the
 * background lane's, see `startDynalite`) over IPC. Unless told otherwise (`patch: false`, the
 * conformance test's reference), dynalite's fixed cost per response is cut first
 * (`dynalite-patch.ts`: same answers, computed more cheaply).
 */

import { patchDynalite } from './dynalite-patch';
import { startDynalite } from './dynamo-local';
import { announceReady, childConfig } from './processes';

const config = childConfig<{ path?: string; port?: number; backgroundInFlight?: number; patch?: boolean }>();
if (config.patch !== false) patchDynalite();
startDynalite(config)
  .then((server) => {
    const portOf = (endpoint: string | undefined) => (endpoint ? Number(new URL(endpoint).port) : undefined);
    announceReady({ port: portOf(server.endpoint), backgroundPort: portOf(server.backgroundEndpoint) });
    process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
  })
  .catch((error: unknown) => {
    process.stderr.write(`dynalite failed to start: ${(error as Error).stack}\n`);
    process.exit(1);
  });
