/**
 * The local stack's neural service: the CPU twin of the GPU service (`services/neural`) in its
 * own process, as the GPU service is its own service in AWS, so the score workers reach it
 * over HTTP through the same client, budget and breaker as in AWS.
 */
import { startTwin } from '../../services/neural/server';
import { announceReady, childConfig } from './processes';

/** What the local stack passes to this process. */
export interface NeuralProcessConfig {
  /** The Triton model repository (`models/fraud-seq/<version>/triton`). */
  repository: string;
  /** onnxruntime intra-op threads. @default 1 */
  threads?: number;
}

const config = childConfig<NeuralProcessConfig>();

startTwin({ repository: config.repository, host: '127.0.0.1', port: 0, threads: config.threads ?? 1 }).then(
  (twin) => {
    announceReady({ port: Number(new URL(twin.url).port) });
    process.on('SIGTERM', () => {
      twin.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  },
  (error: unknown) => {
    process.stderr.write(`neural twin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
