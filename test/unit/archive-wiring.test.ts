/**
 * How a function gets its archive: the environment picks Firehose, files or nothing (with the
 * Lambda setting of flushing after each invocation), and the handler hook offers records,
 * publishes the counts on the request's metrics and never throws.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type Archive, type ArchiveRecord, eventRecordOf } from '#domain/archive';
import { ConfigError } from '#domain/errors';
import { archiveHook, loadArchiveConfig } from '#shared/archive-wiring';
import { ArchiveMetric } from '#shared/metrics-contract';

const RECORD = eventRecordOf(
  {
    type: 'label',
    eventId: 'evt-1',
    transactionId: 'tx-1',
    cardId: 'card_1',
    merchantId: 'm_1',
    label: 'chargeback',
    timestamp: '2026-11-23T10:00:00Z',
    transactionTimestamp: '2026-11-01T10:00:00Z',
  },
  0,
);

function fakeArchive(counts = { delivered: 0, dropped: 0 }, offer?: () => void) {
  const offered: ArchiveRecord[] = [];
  const archive: Archive = {
    offer: (record) => (offer ? offer() : void offered.push(record)),
    takeCounts: () => counts,
    flush: async () => {},
    close: async () => {},
  };
  return { archive, offered };
}

describe('loadArchiveConfig', () => {
  it('is off without a stream or a directory', () => {
    // act
    const config = loadArchiveConfig({ ARCHIVE_BUFFER_RECORDS: '10' });
    // assert
    expect(config).toBeUndefined();
  });

  it('uses Firehose when a stream is named, flushing after each invocation, in the function’s region', () => {
    // act
    const config = loadArchiveConfig({
      ARCHIVE_STREAM_NAME: 'score-stream',
      AWS_REGION: 'eu-west-1',
      ARCHIVE_DIR: '/x',
    });
    // assert
    expect(config).toEqual({
      sink: 'firehose',
      streamName: 'score-stream',
      region: 'eu-west-1',
      endpoint: undefined,
      bufferRecords: 2000,
      flushIntervalMs: 0,
    });
  });

  it('uses files when only a directory is given, flushing every second', () => {
    // act
    const config = loadArchiveConfig({ ARCHIVE_DIR: '/tmp/archive', ARCHIVE_BUFFER_RECORDS: '50' });
    // assert
    expect(config).toEqual({ sink: 'file', dir: '/tmp/archive', bufferRecords: 50, flushIntervalMs: 1000 });
  });

  it('refuses a buffer or interval it cannot honour, naming the variable', () => {
    // act
    const attempts = [
      () => loadArchiveConfig({ ARCHIVE_DIR: '/x', ARCHIVE_BUFFER_RECORDS: '0' }),
      () => loadArchiveConfig({ ARCHIVE_DIR: '/x', ARCHIVE_FLUSH_INTERVAL_MS: 'soon' }),
      () => loadArchiveConfig({ ARCHIVE_STREAM_NAME: 's', ARCHIVE_FLUSH_INTERVAL_MS: '-1' }),
    ];
    // assert
    for (const attempt of attempts) expect(attempt).toThrow(ConfigError);
    expect(attempts[1]).toThrow(/ARCHIVE_FLUSH_INTERVAL_MS/);
  });
});

describe('archiveHook', () => {
  it('offers the records and adds the counts since the previous request to this request’s metrics', () => {
    // prepare
    const { archive, offered } = fakeArchive({ delivered: 7, dropped: 2 });
    const metrics: unknown[][] = [];
    const hook = archiveHook(
      archive,
      { addMetric: (...args: unknown[]) => void metrics.push(args) } as never,
      { warn: () => {} },
      (n: number) => Array.from({ length: n }, () => RECORD),
    );
    // act
    hook(3);
    // assert
    expect(offered).toHaveLength(3);
    expect(metrics).toEqual([
      [ArchiveMetric.ArchiveDelivered, MetricUnit.Count, 7],
      [ArchiveMetric.ArchiveDropped, MetricUnit.Count, 2],
    ]);
  });

  it('publishes nothing when nothing was delivered or dropped', () => {
    // prepare
    const { archive } = fakeArchive();
    const metrics: unknown[][] = [];
    const hook = archiveHook(
      archive,
      { addMetric: (...args: unknown[]) => void metrics.push(args) } as never,
      { warn: () => {} },
      () => [RECORD],
    );
    // act
    hook();
    // assert
    expect(metrics).toEqual([]);
  });

  it('never throws into the handler: a failing record builder or archive is logged', () => {
    // prepare
    const warnings: unknown[] = [];
    const { archive } = fakeArchive(undefined, () => {
      throw new Error('archive broken');
    });
    const logger = { warn: (...args: unknown[]) => void warnings.push(args) };
    const failingBuild = archiveHook(
      archive,
      { addMetric: () => {} } as never,
      logger,
      (): ArchiveRecord[] => {
        throw new Error('bad outcome');
      },
    );
    const failingOffer = archiveHook(archive, { addMetric: () => {} } as never, logger, () => [RECORD]);
    // act
    const calls = [() => failingBuild(), () => failingOffer()];
    // assert
    for (const call of calls) expect(call).not.toThrow();
    expect(warnings).toHaveLength(2);
  });
});
