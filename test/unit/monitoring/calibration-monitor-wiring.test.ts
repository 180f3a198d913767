/**
 * The calibration monitor as `lambda.ts` builds it: with `ARCHIVE_BUCKET` it reads the window's
 * partitions from S3 under `ARCHIVE_PREFIX` (mocked client), publishes the figures and the
 * damage it skipped, and logs that damage; without a bucket it reads the local layout and never
 * calls S3; a malformed prefix fails at init.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { loadCalibrationConfig } from '../../../functions/calibration-monitor/config';
import { createCalibrationMonitor } from '../../../functions/calibration-monitor/index';
import { captureOutput } from '../../support/output';

const s3 = mockClient(S3Client);
const NOW = Date.parse('2026-12-01T03:00:00Z');
const CARD = join(__dirname, '..', '..', '..', 'models', 'fraud-gbdt', '1.0.0', 'model.json');

const answer = (id: string, score: number) => ({
  kind: 'score',
  transactionId: id,
  eventTime: '2026-10-12T08:00:00Z',
  modelVersion: '1.0.0',
  score,
  segment: 'pos.low.known',
  decision: 'approve',
});
const chargeback = (id: string) => ({
  kind: 'event',
  receivedAt: '2026-11-02T00:00:00Z',
  event: {
    type: 'label',
    eventId: `l-${id}`,
    transactionId: id,
    label: 'chargeback',
    transactionTimestamp: '2026-10-12T08:00:00Z',
    timestamp: '2026-11-02T00:00:00Z',
  },
});
const gz = (lines: string[]) => gzipSync(`${lines.join('\n')}\n`);

beforeEach(() => {
  s3.reset();
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
});
afterEach(() => jest.restoreAllMocks());

describe('createCalibrationMonitor', () => {
  it('reads the archive bucket when ARCHIVE_BUCKET is set, and publishes what it skipped', async () => {
    // prepare: frauds f1 (declined) and f2 (missed), legit l1; one damaged line
    const files: Record<string, Uint8Array> = {
      'archive/score/dt=2026-10-12/s.jsonl.gz': gz([
        JSON.stringify(answer('f1', 0.9)),
        JSON.stringify(answer('f2', 0.01)),
        JSON.stringify(answer('l1', 0.001)),
        '{"kind":"score",',
      ]),
      'archive/event/type=label/dt=2026-11-02/e.jsonl.gz': gz([
        JSON.stringify(chargeback('f1')),
        JSON.stringify(chargeback('f2')),
      ]),
    };
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: Object.keys(files)
        .filter((k) => k.startsWith(input.Prefix))
        .map((Key) => ({ Key })),
    }));
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
      Body: Readable.from([Buffer.from(files[input.Key] as Uint8Array)]),
    }));
    const handler = createCalibrationMonitor(
      loadCalibrationConfig({
        STAGE: 'prod',
        MODEL_CARD_PATH: CARD,
        ARCHIVE_BUCKET: 'archive-bucket',
        ARCHIVE_PREFIX: 'archive/',
        CALIBRATION_MATURITY_DAYS: '45',
        CALIBRATION_SPAN_DAYS: '7',
        CALIBRATION_MIN_SEGMENT_ANSWERS: '1',
      }),
    );
    // act
    const { result, output } = await captureOutput(() => handler());
    // assert
    expect(result.overall).toMatchObject({ answers: 3, frauds: 2 });
    expect(result.overall?.decline.recall).toBe(0.5);
    expect(result.archive).toEqual({ objects: 2, lines: 6, skippedLines: 1, unreadableObjects: 0 });
    const lists = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(lists.every((i) => i.Bucket === 'archive-bucket')).toBe(true);
    expect(lists.map((i) => i.Prefix)).toContain('archive/score/dt=2026-10-09/');
    expect(lists.map((i) => i.Prefix)).toContain('archive/event/type=label/dt=2026-12-01/');
    expect(
      lists
        .map((i) => i.Prefix)
        .filter((p) => p?.startsWith('archive/event/') && !p.startsWith('archive/event/type=label/')),
    ).toEqual([]);
    expect(output).toContain('"ArchiveLinesSkipped":1');
    expect(output).toContain('"ArchiveObjectsUnreadable":0');
    expect(output).toContain('"RecallGapAtDecline"');
    expect(output).toContain('archive line skipped');
    expect(output).toContain('"key":"score/dt=2026-10-12/s.jsonl.gz"');
  });

  it('reads the local layout without a bucket and never calls S3', async () => {
    // prepare
    const root = mkdtempSync(join(tmpdir(), 'calibration-local-'));
    mkdirSync(join(root, 'score', 'dt=2026-10-12'), { recursive: true });
    writeFileSync(join(root, 'score', 'dt=2026-10-12', 'a.jsonl'), `${JSON.stringify(answer('x', 0.2))}\n`);
    const handler = createCalibrationMonitor(
      loadCalibrationConfig({
        MODEL_CARD_PATH: CARD,
        ARCHIVE_DIR: root,
        CALIBRATION_MIN_SEGMENT_ANSWERS: '1',
      }),
    );
    // act
    const { result } = await captureOutput(() => handler());
    // assert
    expect(result.overall).toMatchObject({ answers: 1, frauds: 0 });
    expect(s3.calls()).toHaveLength(0);
  });

  it('fails at init on a prefix that is not a folder, and on an S3 error at run time', async () => {
    // act / assert
    expect(() => loadCalibrationConfig({ ARCHIVE_BUCKET: 'b', ARCHIVE_PREFIX: 'archive' })).toThrow(
      'ARCHIVE_PREFIX must end with "/"',
    );
    // prepare
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('AccessDenied'), { name: 'AccessDenied' }));
    const handler = createCalibrationMonitor(
      loadCalibrationConfig({ MODEL_CARD_PATH: CARD, ARCHIVE_BUCKET: 'b' }),
    );
    // act
    const run = captureOutput(() => handler());
    // assert
    await expect(run).rejects.toThrow('AccessDenied');
  });
});
