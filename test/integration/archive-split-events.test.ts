/**
 * The one-time move of the untyped event layout into the typed one, on a real directory and
 * against a mocked S3 client: every line lands under its type (damage under `type=unknown/`),
 * the calibration reader then finds the old labels, a second run changes nothing, and an old
 * object is deleted only after its lines were written.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { FileArchiveReader } from '#adapters/file-archive-reader';
import { eventRecordOf } from '#domain/archive';
import type { AuthorizationEvent, LabelEvent } from '#domain/types';
import { LocalSplitStore, S3SplitStore, splitEvents, splitKey } from '../../scripts/archive/split-events';
import { authorizationEvent, chargebackEvent } from '../support/events';

const s3 = mockClient(S3Client);

const authorization = (id: string) =>
  authorizationEvent({ eventId: `a-${id}`, transactionId: id, timestamp: '2026-11-20T10:00:00Z' });
const chargeback = (id: string) =>
  chargebackEvent({
    eventId: `l-${id}`,
    transactionId: id,
    timestamp: '2026-11-20T11:00:00Z',
    transactionTimestamp: '2026-10-10T12:00:00Z',
  });
const line = (event: AuthorizationEvent | LabelEvent) => JSON.stringify(eventRecordOf(event, 0));
const OLD = [line(authorization('t1')), line(chargeback('t1')), 'not json', line(authorization('t2'))];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'split-'));
  s3.reset();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const gunzipLines = (path: string) => gunzipSync(readFileSync(path)).toString('utf8').trim().split('\n');

describe('archive:split-events', () => {
  it('files each old line under its type, after which the monitor reads the old labels', async () => {
    // prepare
    const old = join(dir, 'event', 'dt=2026-11-20');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'stream-1.jsonl.gz'), gzipSync(`${OLD.join('\n')}\n`));
    writeFileSync(join(old, 'plain.jsonl'), `${line(chargeback('t3'))}\n`);
    const before = [];
    for await (const l of new FileArchiveReader(dir).labels('2026-11-20', '2026-11-20')) before.push(l);
    // act
    const result = await splitEvents(new LocalSplitStore(dir), {
      from: '2026-11-19',
      to: '2026-11-21',
      remove: true,
    });
    // assert
    expect(before).toEqual([]);
    expect(result).toEqual({ objects: 2, lines: { authorization: 2, label: 2, unknown: 1 }, removed: 2 });
    const typed = (type: string) => join(dir, 'event', `type=${type}`, 'dt=2026-11-20');
    expect(readdirSync(typed('authorization'))).toEqual(['split-stream-1.jsonl.gz']);
    expect(readdirSync(typed('label')).sort()).toEqual(['split-plain.jsonl.gz', 'split-stream-1.jsonl.gz']);
    expect(gunzipLines(join(typed('authorization'), 'split-stream-1.jsonl.gz'))).toEqual([OLD[0], OLD[3]]);
    expect(gunzipLines(join(typed('unknown'), 'split-stream-1.jsonl.gz'))).toEqual(['not json']);
    expect(readdirSync(old)).toEqual([]);
    const after = [];
    for await (const l of new FileArchiveReader(dir).labels('2026-11-20', '2026-11-20')) after.push(l);
    expect(after.map((l) => l.transactionId).sort()).toEqual(['t1', 't3']);
  });

  it('rewrites the same objects when run again without removing, and writes nothing when dry', async () => {
    // prepare
    const old = join(dir, 'event', 'dt=2026-11-20');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'stream-1.jsonl.gz'), gzipSync(`${OLD.join('\n')}\n`));
    const store = new LocalSplitStore(dir);
    // act
    const dry = await splitEvents(store, { from: '2026-11-20', to: '2026-11-20', dryRun: true });
    const typedAfterDry = readdirSync(join(dir, 'event')).sort();
    await splitEvents(store, { from: '2026-11-20', to: '2026-11-20' });
    const first = readFileSync(
      join(dir, splitKey('event/dt=2026-11-20/stream-1.jsonl.gz', '2026-11-20', 'label')),
    );
    await splitEvents(store, { from: '2026-11-20', to: '2026-11-20' });
    // assert
    expect(dry.lines).toEqual({ authorization: 2, label: 1, unknown: 1 });
    expect(typedAfterDry).toEqual(['dt=2026-11-20']);
    expect(readdirSync(join(dir, 'event', 'type=label', 'dt=2026-11-20'))).toEqual([
      'split-stream-1.jsonl.gz',
    ]);
    expect(gunzipSync(first).toString()).toBe(`${OLD[1]}\n`);
    expect(readdirSync(old)).toEqual(['stream-1.jsonl.gz']);
  });

  it('in S3: puts each type’s object under the root prefix before deleting the old one, and keeps a corrupt one', async () => {
    // prepare
    const whole = gzipSync(`${OLD.join('\n')}\n`);
    const files: Record<string, Uint8Array> = {
      'root/event/dt=2026-11-20/a.jsonl.gz': whole,
      'root/event/dt=2026-11-20/b.jsonl.gz': whole.subarray(0, whole.length - 12),
    };
    const order: string[] = [];
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: Object.keys(files)
        .filter((key) => key.startsWith(input.Prefix))
        .map((Key) => ({ Key })),
    }));
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
      Body: Readable.from([Buffer.from(files[input.Key] as Uint8Array)]),
    }));
    s3.on(PutObjectCommand).callsFake((input: { Key: string }) => order.push(`put ${input.Key}`));
    s3.on(DeleteObjectCommand).callsFake((input: { Key: string }) => order.push(`delete ${input.Key}`));
    const store = new S3SplitStore(new S3Client({ region: 'eu-west-1' }), 'bucket', 'root/');
    // act
    const run = splitEvents(store, { from: '2026-11-20', to: '2026-11-20', remove: true });
    // assert: the corrupt object stops the run, after the good one was moved; it stays in place
    await expect(run).rejects.toThrow();
    expect(order).toEqual([
      'put root/event/type=authorization/dt=2026-11-20/split-a.jsonl.gz',
      'put root/event/type=label/dt=2026-11-20/split-a.jsonl.gz',
      'put root/event/type=unknown/dt=2026-11-20/split-a.jsonl.gz',
      'delete root/event/dt=2026-11-20/a.jsonl.gz',
    ]);
  });
});
