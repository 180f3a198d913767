/**
 * Lambda entry of the neural service's ECS lifecycle hook (`POST_TEST_TRAFFIC_SHIFT`). The
 * configuration is read inside the hook so an error in it answers `FAILED` (a rollback)
 * instead of crashing at init.
 */
import { readFile } from 'node:fs/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { createNeuralReplayHook, loadNeuralReplayConfig } from './neural-replay';

export const handler = createNeuralReplayHook({
  logger: new Logger({ serviceName: 'deploy-hooks' }),
  config: () => loadNeuralReplayConfig(process.env),
  readReplayFile: (path) => readFile(path, 'utf8'),
});
