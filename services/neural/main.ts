/**
 * `npm run neural:serve`: the local CPU twin of the GPU neural service.
 *
 *   npm run neural:serve                                   # models/fraud-seq/1.0.0/triton on 127.0.0.1:8000
 *   npm run neural:serve -- --port 0 --max-batch-size 1    # a free port, batching off
 *
 * Flags (environment in brackets): --repository DIR [NEURAL_REPOSITORY], --host [NEURAL_HOST],
 * --port [NEURAL_PORT], --max-batch-size N (overrides config.pbtxt), --threads N (onnxruntime
 * intra-op threads), --fault slow:<ms>|status:<code>|malformed [NEURAL_TWIN_FAULT] (tests only),
 * --timing (bench only: each inference answer carries the twin's phase marks in a header, and
 * each GC pause is printed as `gc <start µs> <duration µs>`).
 * Prints one line `neural twin listening on <url> ...` once every model is loaded and warm.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseFault } from './options';
import { startTwin } from './server';
import { monotonicMicroseconds } from './timing';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      repository: {
        type: 'string',
        default: process.env.NEURAL_REPOSITORY ?? 'models/fraud-seq/1.0.0/triton',
      },
      host: { type: 'string', default: process.env.NEURAL_HOST ?? '127.0.0.1' },
      port: { type: 'string', default: process.env.NEURAL_PORT ?? '8000' },
      'max-batch-size': { type: 'string' },
      threads: { type: 'string', default: '1' },
      fault: { type: 'string', default: process.env.NEURAL_TWIN_FAULT },
      timing: { type: 'boolean', default: false },
    },
  });
  const started = performance.now();
  if (values.timing) {
    // Bench only: each GC pause as `gc <start> <duration>` (monotonic µs), so a benchmark can
    // tell which slow requests overlapped one.
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        process.stdout.write(
          `gc ${monotonicMicroseconds(entry.startTime).toFixed(1)} ${(entry.duration * 1000).toFixed(1)}\n`,
        );
      }
    }).observe({ entryTypes: ['gc'] });
  }
  const twin = await startTwin({
    repository: values.repository as string,
    host: values.host,
    port: Number(values.port),
    maxBatchSize: values['max-batch-size'] === undefined ? undefined : Number(values['max-batch-size']),
    threads: Number(values.threads),
    fault: parseFault(values.fault),
    timing: values.timing,
  });
  const models = [...twin.models.values()].map(
    (m) =>
      `${m.config.name}@${m.version} (max_batch_size ${m.config.maxBatchSize}, ${
        m.config.dynamicBatching
          ? `dynamic batching: ${
              m.config.dynamicBatching.preferredBatchSizes.length > 0
                ? `preferred [${m.config.dynamicBatching.preferredBatchSizes.join(', ')}]`
                : 'no preferred sizes'
            }, max delay ${m.config.dynamicBatching.maxQueueDelayMicroseconds} µs`
          : 'no dynamic batching'
      })`,
  );
  process.stdout.write(
    `neural twin listening on ${twin.url} in ${(performance.now() - started).toFixed(0)} ms: ${models.join('; ')}\n`,
  );
  const stop = () => {
    twin.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`neural twin: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
