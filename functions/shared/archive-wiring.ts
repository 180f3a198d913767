/**
 * How a function gets its archive: read from its environment, built once per process, and
 * hooked into its handler so that each answer or accepted event is offered after the work is
 * done and the archive's counts ride on that request's metrics.
 *
 * `ARCHIVE_STREAM_NAME` set: Firehose (AWS). `ARCHIVE_DIR` set: gzip JSON-line files (the local
 * stack). Neither: no archive. Shared by the score and events functions' `index.ts`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { FileArchiveSink } from '#adapters/file-archive';
import { FirehoseArchiveSink } from '#adapters/firehose-archive';
import { type Archive, type ArchiveRecord, type ArchiveSink, BufferedArchive } from '#domain/archive';
import { type Env, readNumber, readOptionalString, readString } from './config';
import { ArchiveMetric } from './metrics-contract';

/** Where and how a function archives. */
export type ArchiveConfig =
  | {
      readonly sink: 'firehose';
      /** Firehose delivery stream of this function's record kind (`ARCHIVE_STREAM_NAME`). */
      readonly streamName: string;
      readonly region: string;
      /** A Firehose-compatible endpoint (`ARCHIVE_FIREHOSE_ENDPOINT`, benchmarks only); unset in AWS. */
      readonly endpoint?: string;
      readonly bufferRecords: number;
      readonly flushIntervalMs: number;
    }
  | {
      readonly sink: 'file';
      /** Root of the archive layout, `score/dt=…/` and `event/type=…/dt=…/` (`archivePrefix`; `ARCHIVE_DIR`). */
      readonly dir: string;
      readonly bufferRecords: number;
      readonly flushIntervalMs: number;
    };

/**
 * The archive settings in `env`, or undefined when archiving is off.
 *
 * `ARCHIVE_FLUSH_INTERVAL_MS` defaults to 0 with Firehose: each invocation's records leave
 * right after its response, so a frozen or recycled Lambda environment holds none (see
 * docs/archive.md). Files batch for a second. `ARCHIVE_BUFFER_RECORDS` bounds memory.
 */
export function loadArchiveConfig(env: Env): ArchiveConfig | undefined {
  const streamName = readOptionalString(env, 'ARCHIVE_STREAM_NAME');
  const dir = readOptionalString(env, 'ARCHIVE_DIR');
  const bufferRecords = readNumber(env, 'ARCHIVE_BUFFER_RECORDS', 2000, { min: 1, max: 100_000 });
  if (streamName) {
    return Object.freeze({
      sink: 'firehose',
      streamName,
      region: readString(env, 'AWS_REGION', 'us-east-1'),
      endpoint: readOptionalString(env, 'ARCHIVE_FIREHOSE_ENDPOINT'),
      bufferRecords,
      flushIntervalMs: readNumber(env, 'ARCHIVE_FLUSH_INTERVAL_MS', 0, { min: 0, max: 60_000 }),
    });
  }
  if (dir) {
    return Object.freeze({
      sink: 'file',
      dir,
      bufferRecords,
      flushIntervalMs: readNumber(env, 'ARCHIVE_FLUSH_INTERVAL_MS', 1000, { min: 0, max: 60_000 }),
    });
  }
  return undefined;
}

/** Every archive this process built, for {@link closeArchives}. */
const open = new Set<Archive>();

/** Builds the archive of a config (undefined: off). */
export function createArchive(
  config: ArchiveConfig | undefined,
  logger: Pick<Logger, 'warn'>,
  sink?: ArchiveSink,
): Archive | undefined {
  if (!config) return undefined;
  const onError = (error: unknown) =>
    logger.warn('archive delivery failed', { error: (error as Error).message });
  const target =
    sink ??
    (config.sink === 'firehose'
      ? FirehoseArchiveSink.create(config.streamName, {
          region: config.region,
          endpoint: config.endpoint,
          onError,
        })
      : new FileArchiveSink(config.dir, { onError }));
  const archive = new BufferedArchive(target, {
    capacity: config.bufferRecords,
    intervalMs: config.flushIntervalMs,
    onError,
  });
  open.add(archive);
  if (config.sink === 'firehose' && !sink) flushArchivesOnSigterm();
  return archive;
}

/**
 * Flushes every archive of the process: on the local stack's shutdown, and on Lambda's
 * SIGTERM (sent only when an extension is registered, with about 500 ms to spare).
 */
export async function closeArchives(): Promise<void> {
  await Promise.all([...open].map((archive) => archive.close()));
}

let sigtermHooked = false;
/** Flush on SIGTERM (Lambda shutdown) without exiting: the runtime ends the process itself. */
export function flushArchivesOnSigterm(): void {
  if (sigtermHooked) return;
  sigtermHooked = true;
  process.on('SIGTERM', () => void closeArchives());
}

/**
 * The handler hook: offers the records of one request, then adds the archive's counts since the
 * previous request to this request's metrics. Never throws: archiving must not cost an answer.
 */
export function archiveHook<A extends unknown[]>(
  archive: Archive,
  metrics: Pick<Metrics, 'addMetric'>,
  logger: Pick<Logger, 'warn'>,
  records: (...args: A) => readonly ArchiveRecord[],
): (...args: A) => void {
  return function archiveRecords(...args: A): void {
    try {
      for (const record of records(...args)) archive.offer(record);
      const { delivered, dropped } = archive.takeCounts();
      if (delivered > 0) metrics.addMetric(ArchiveMetric.ArchiveDelivered, MetricUnit.Count, delivered);
      if (dropped > 0) metrics.addMetric(ArchiveMetric.ArchiveDropped, MetricUnit.Count, dropped);
    } catch (error) {
      logger.warn('archive record not offered', { error: (error as Error).message });
    }
  };
}
