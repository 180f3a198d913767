/**
 * `events:export` from S3, against a mocked client: it lists only the date partitions of the
 * range (one either side), follows ListObjectsV2 pagination, reads gzip objects under the root
 * prefix, and refuses ranges it should not read.
 */
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { eventRecordOf } from '#domain/archive';
import type { LabelEvent } from '#domain/types';
import { exportEvents, MAX_EXPORT_DAYS, partitionDates, S3ArchiveReader } from '../../scripts/archive/export';
import { chargebackEvent } from '../support/events';

const s3 = mockClient(S3Client);

const label = (id: string, timestamp: string) =>
  chargebackEvent({
    eventId: id,
    transactionId: `tx-${id}`,
    timestamp,
    transactionTimestamp: '2026-10-01T00:00:00Z',
  });

/** What the SDK's streaming body offers the reader (only the method it calls). */
const body = (events: LabelEvent[]) =>
  ({
    transformToByteArray: async () =>
      new Uint8Array(gzipSync(`${events.map((e) => JSON.stringify(eventRecordOf(e, 0))).join('\n')}\n`)),
  }) as never;

beforeEach(() => s3.reset());

describe('events:export from S3', () => {
  it('lists the range’s partitions under the root prefix, pages through them and keeps the range', async () => {
    // prepare
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(ListObjectsV2Command, { Prefix: 'archive/event/type=label/dt=2026-11-23/' })
      .resolvesOnce({
        Contents: [{ Key: 'archive/event/type=label/dt=2026-11-23/a.gz' }],
        IsTruncated: true,
        NextContinuationToken: 'page-2',
      })
      .resolvesOnce({
        Contents: [{ Key: 'archive/event/type=label/dt=2026-11-23/b.gz' }],
        IsTruncated: false,
      });
    s3.on(GetObjectCommand, { Key: 'archive/event/type=label/dt=2026-11-23/a.gz' }).callsFake(() => ({
      Body: body([label('a2', '2026-11-23T12:00:00Z'), label('a1', '2026-11-23T01:00:00Z')]),
    }));
    s3.on(GetObjectCommand, { Key: 'archive/event/type=label/dt=2026-11-23/b.gz' }).callsFake(() => ({
      Body: body([label('a1', '2026-11-23T01:00:00Z'), label('late', '2026-11-23T20:00:00Z')]),
    }));
    const reader = new S3ArchiveReader(new S3Client({ region: 'eu-west-1' }), 'bucket', 'archive/');
    // act
    const result = await exportEvents(
      reader,
      Date.parse('2026-11-23T00:00:00Z'),
      Date.parse('2026-11-23T18:00:00Z'),
    );
    // assert
    expect(result.events.map((e) => e.eventId)).toEqual(['a1', 'a2']);
    expect(result).toMatchObject({ objects: 2, duplicates: 1, malformed: 0 });
    const prefixes = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix);
    // every type's partition and the untyped layout of before the split, one day either side
    expect(new Set(prefixes)).toEqual(
      new Set(
        ['2026-11-22', '2026-11-23', '2026-11-24'].flatMap((day) => [
          `archive/event/type=authorization/dt=${day}/`,
          `archive/event/type=label/dt=${day}/`,
          `archive/event/dt=${day}/`,
        ]),
      ),
    );
    const second = s3.commandCalls(ListObjectsV2Command).find((c) => c.args[0].input.ContinuationToken);
    expect(second?.args[0].input).toMatchObject({ Bucket: 'bucket', ContinuationToken: 'page-2' });
  });

  it('fails on a listing error instead of exporting a silently partial history', async () => {
    // prepare
    s3.on(ListObjectsV2Command).rejects(new Error('AccessDenied'));
    const reader = new S3ArchiveReader(new S3Client({ region: 'eu-west-1' }), 'bucket');
    // act
    const exported = exportEvents(
      reader,
      Date.parse('2026-11-23T00:00:00Z'),
      Date.parse('2026-11-24T00:00:00Z'),
    );
    // assert
    await expect(exported).rejects.toThrow('AccessDenied');
  });
});

describe('partitionDates', () => {
  it('covers the range with one day either side, the end excluded', () => {
    // act
    const dates = partitionDates(Date.parse('2026-12-31T10:00:00Z'), Date.parse('2027-01-02T00:00:00Z'));
    // assert
    expect(dates).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
  });

  it('refuses an empty, backwards or too long range', () => {
    // prepare
    const t = Date.parse('2026-01-01T00:00:00Z');
    // act
    const attempts = [
      () => partitionDates(t, t),
      () => partitionDates(t, t - 1),
      () => partitionDates(t, t + (MAX_EXPORT_DAYS + 1) * 86_400_000),
    ];
    // assert
    for (const attempt of attempts) expect(attempt).toThrow(RangeError);
  });
});
