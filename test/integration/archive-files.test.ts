/**
 * The local archive for real: the file sink writes the S3 layout (gzip JSON lines, one gzip
 * member per delivery appended to the writer's file), and `events:export --local` reads it
 * back, CLI included: the range's events once each, sorted, as `/v1/events` bodies.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { FileArchiveSink } from '#adapters/file-archive';
import { type ArchiveRecord, eventRecordOf } from '#domain/archive';
import type { AuthorizationEvent } from '#domain/types';
import { exportEvents, LocalArchiveReader } from '../../scripts/archive/export';
import { ROOT } from '../../scripts/local/processes';
import { authorizationEvent, chargebackEvent } from '../support/events';

const run = promisify(execFile);

const authorization = (id: string, timestamp: string) =>
  authorizationEvent({ eventId: id, transactionId: `tx-${id}`, amount: 1500, timestamp });
const chargeback = (id: string, timestamp: string) =>
  chargebackEvent({
    eventId: id,
    transactionId: `tx-${id}`,
    timestamp,
    transactionTimestamp: '2026-10-01T10:00:00Z',
  });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'archive-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FileArchiveSink', () => {
  it('appends each delivery as a gzip member to its writer’s file in event/type=<type>/dt=<date>/', async () => {
    // prepare
    const sink = new FileArchiveSink(dir, { writerId: 'w1' });
    const first: ArchiveRecord[] = [
      eventRecordOf(authorization('a', '2026-11-23T10:00:00Z'), 0),
      eventRecordOf(authorization('b', '2026-11-24T00:00:01Z'), 0),
      eventRecordOf(chargeback('l', '2026-11-23T09:00:00Z'), 0),
    ];
    const second: ArchiveRecord[] = [eventRecordOf(authorization('c', '2026-11-23T11:00:00Z'), 0)];
    // act
    const failed = (await sink.deliver(first)) + (await sink.deliver(second));
    // assert
    expect(failed).toBe(0);
    const day = join(dir, 'event', 'type=authorization', 'dt=2026-11-23', 'w1.jsonl.gz');
    const lines = gunzipSync(readFileSync(day)).toString('utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).event.eventId)).toEqual(['a', 'c']);
    expect(readdirSync(join(dir, 'event'))).toEqual(['type=authorization', 'type=label']);
    expect(readdirSync(join(dir, 'event', 'type=authorization'))).toEqual(['dt=2026-11-23', 'dt=2026-11-24']);
    expect(readdirSync(join(dir, 'event', 'type=label'))).toEqual(['dt=2026-11-23']);
  });

  it('reports the records of a partition it cannot write, and writes the others', async () => {
    // prepare
    await mkdir(join(dir, 'event', 'type=authorization'), { recursive: true });
    writeFileSync(join(dir, 'event', 'type=authorization', 'dt=2026-11-23'), 'a file where a folder must go');
    const sink = new FileArchiveSink(dir, { writerId: 'w1' });
    // act
    const failed = await sink.deliver([
      eventRecordOf(authorization('a', '2026-11-23T10:00:00Z'), 0),
      eventRecordOf(authorization('b', '2026-11-23T11:00:00Z'), 0),
      eventRecordOf(authorization('c', '2026-11-25T10:00:00Z'), 0),
    ]);
    // assert
    expect(failed).toBe(2);
    expect(existsSync(join(dir, 'event', 'type=authorization', 'dt=2026-11-25', 'w1.jsonl.gz'))).toBe(true);
  });
});

describe('events:export --local', () => {
  async function archiveOf(records: ArchiveRecord[][]): Promise<void> {
    for (const [i, batch] of records.entries())
      await new FileArchiveSink(dir, { writerId: `w${i}` }).deliver(batch);
  }

  it('returns the range’s events once each, sorted by time, skipping scores and other days', async () => {
    // prepare
    const inRange = [
      authorization('late', '2026-11-23T23:59:59.999Z'),
      authorization('offset', '2026-11-24T00:30:00+02:00'), // 22:30 UTC on the 23rd, in the 24th's partition
      authorization('early', '2026-11-23T00:00:00Z'),
    ];
    await archiveOf([
      inRange.map((e) => eventRecordOf(e, 0)),
      [
        eventRecordOf(inRange[0] as AuthorizationEvent, 1), // redelivered
        eventRecordOf(authorization('before', '2026-11-22T23:59:59.999Z'), 0),
        eventRecordOf(authorization('after', '2026-11-24T00:00:00Z'), 0),
      ],
    ]);
    // act
    const result = await exportEvents(
      new LocalArchiveReader(dir),
      Date.parse('2026-11-23T00:00:00Z'),
      Date.parse('2026-11-24T00:00:00Z'),
    );
    // assert
    expect(result.events.map((e) => e.eventId)).toEqual(['early', 'offset', 'late']);
    expect(result.events[1]).toEqual(inRange[1]);
    expect(result.duplicates).toBe(1);
  });

  it('reads every event type and the untyped layout written before the split, each event once', async () => {
    // prepare: a label and an authorization in the typed layout; the old layout holds another
    // authorization and a copy of the label (a split that kept its source)
    await archiveOf([
      [
        eventRecordOf(authorization('typed', '2026-11-23T10:00:00Z'), 0),
        eventRecordOf(chargeback('label', '2026-11-23T11:00:00Z'), 0),
      ],
    ]);
    await mkdir(join(dir, 'event', 'dt=2026-11-23'), { recursive: true });
    writeFileSync(
      join(dir, 'event', 'dt=2026-11-23', 'old.jsonl'),
      [authorization('old', '2026-11-23T09:00:00Z'), chargeback('label', '2026-11-23T11:00:00Z')]
        .map((e) => JSON.stringify(eventRecordOf(e, 0)))
        .join('\n'),
    );
    // act
    const result = await exportEvents(
      new LocalArchiveReader(dir),
      Date.parse('2026-11-23T00:00:00Z'),
      Date.parse('2026-11-24T00:00:00Z'),
    );
    // assert
    expect(result.events.map((e) => e.eventId)).toEqual(['old', 'typed', 'label']);
    expect(result).toMatchObject({ objects: 3, duplicates: 1, malformed: 0 });
  });

  it('skips malformed lines and reads plain (not gzipped) objects', async () => {
    // prepare
    await mkdir(join(dir, 'event', 'dt=2026-11-23'), { recursive: true });
    const good = JSON.stringify(eventRecordOf(authorization('ok', '2026-11-23T10:00:00Z'), 0));
    writeFileSync(
      join(dir, 'event', 'dt=2026-11-23', 'plain.jsonl'),
      `${good}\n{not json\n{"kind":"score","transactionId":"x"}\n\n`,
    );
    // act
    const result = await exportEvents(
      new LocalArchiveReader(dir),
      Date.parse('2026-11-23T00:00:00Z'),
      Date.parse('2026-11-24T00:00:00Z'),
    );
    // assert
    expect(result.events.map((e) => e.eventId)).toEqual(['ok']);
    expect(result.malformed).toBe(2);
  });

  it('the CLI writes the JSONL and refuses a backwards range', async () => {
    // prepare
    await archiveOf([[eventRecordOf(authorization('one', '2026-11-23T10:00:00Z'), 0)]]);
    const out = join(dir, 'out', 'events.jsonl');
    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'events-export.ts'), ...args], {
        cwd: ROOT,
      });
    // act
    const ok = await cli(
      '--from',
      '2026-11-23T00:00:00Z',
      '--to',
      '2026-11-24T00:00:00Z',
      '--out',
      out,
      '--local',
      '--archive-dir',
      dir,
    );
    const refused = await cli(
      '--from',
      '2026-11-24T00:00:00Z',
      '--to',
      '2026-11-23T00:00:00Z',
      '--out',
      out,
      '--local',
    ).catch((error: { code: number; stderr: string }) => error);
    // assert
    expect(ok.stderr).toMatch(/^1 events → /);
    expect(readFileSync(out, 'utf8')).toBe(
      `${JSON.stringify(authorization('one', '2026-11-23T10:00:00Z'))}\n`,
    );
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('--to must be after --from') });
  });
});
