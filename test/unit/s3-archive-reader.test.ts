/**
 * The calibration monitor's S3 archive reader against a mocked S3 client: it lists only the
 * window's date partitions (every ListObjectsV2 page), streams gzip and plain objects of any
 * chunking, keeps the good lines of a damaged object, counts and logs what it skips, and
 * fails on S3's own errors instead of judging a silently partial window.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import {
  decompressed,
  inParallel,
  interner,
  S3ArchiveObjects,
  S3ArchiveReader,
  splitLines,
  writtenInUtc,
} from '#adapters/s3-archive-reader';
import { archivedAnswer, objectBody, serveArchiveObjects } from '../support/archive-objects';

const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());

const answer = (id: string, score: number | null = 0.5) => archivedAnswer(id, score);
const event = (id: string, type: 'label' | 'authorization', label = 'chargeback') => ({
  kind: 'event',
  receivedAt: '2026-11-20T00:00:00Z',
  event: {
    type,
    eventId: `e-${id}`,
    transactionId: id,
    cardId: 'tok_1',
    merchantId: 'm_1',
    timestamp: '2026-11-20T00:00:00Z',
    ...(type === 'label' ? { label, transactionTimestamp: '2026-10-10T12:00:00Z' } : { outcome: 'approved' }),
  },
});
const jsonl = (records: unknown[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;

const body = objectBody;
const objects = (files: Record<string, Uint8Array>, chunk?: number) => serveArchiveObjects(s3, files, chunk);

function reader(log?: (message: string, details: Record<string, unknown>) => void) {
  return new S3ArchiveReader(new S3ArchiveObjects(new S3Client({ region: 'eu-west-1' }), 'archive-bucket'), {
    log,
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('S3ArchiveReader', () => {
  it('lists each day of the window under the root prefix, following every page', async () => {
    // prepare
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(ListObjectsV2Command, {
      Prefix: 'root/score/dt=2026-10-10/',
      ContinuationToken: undefined,
    }).resolves({
      Contents: [{ Key: 'root/score/dt=2026-10-10/b.jsonl.gz' }],
      IsTruncated: true,
      NextContinuationToken: 'page-2',
    });
    s3.on(ListObjectsV2Command, {
      Prefix: 'root/score/dt=2026-10-10/',
      ContinuationToken: 'page-2',
    }).resolves({
      Contents: [{ Key: 'root/score/dt=2026-10-10/a.jsonl.gz' }],
      IsTruncated: false,
    });
    s3.on(GetObjectCommand, { Key: 'root/score/dt=2026-10-10/a.jsonl.gz' }).callsFake(() => ({
      Body: body(gzipSync(jsonl([answer('a1'), answer('a2', null)]))),
    }));
    s3.on(GetObjectCommand, { Key: 'root/score/dt=2026-10-10/b.jsonl.gz' }).callsFake(() => ({
      Body: body(gzipSync(jsonl([answer('b1', 0.9)]))),
    }));
    const archive = new S3ArchiveReader(
      new S3ArchiveObjects(new S3Client({ region: 'eu-west-1' }), 'bucket', 'root/'),
    );
    // act
    const answers = await collect(archive.answers('2026-10-09', '2026-10-11'));
    // assert: keys in order, only the fields the join reads
    expect(answers).toEqual([
      {
        transactionId: 'a1',
        eventTime: '2026-10-10T12:00:00Z',
        modelVersion: '1.0.0',
        score: 0.5,
        segment: 'ecommerce.low.known',
      },
      {
        transactionId: 'a2',
        eventTime: '2026-10-10T12:00:00Z',
        modelVersion: '1.0.0',
        score: null,
        segment: 'ecommerce.low.known',
      },
      {
        transactionId: 'b1',
        eventTime: '2026-10-10T12:00:00Z',
        modelVersion: '1.0.0',
        score: 0.9,
        segment: 'ecommerce.low.known',
      },
    ]);
    const lists = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(lists.map((i) => i.Prefix)).toEqual([
      'root/score/dt=2026-10-09/',
      'root/score/dt=2026-10-10/',
      'root/score/dt=2026-10-10/',
      'root/score/dt=2026-10-11/',
    ]);
    expect(lists[2]).toMatchObject({ Bucket: 'bucket', ContinuationToken: 'page-2' });
    expect(archive.stats).toEqual({ objects: 2, lines: 3, skippedLines: 0, unreadableObjects: 0 });
  });

  it('reads nothing from an empty window and reports nothing skipped', async () => {
    // prepare
    objects({});
    const archive = reader();
    // act
    const answers = await collect(archive.answers('2026-10-10', '2026-10-12'));
    const labels = await collect(archive.labels('2026-10-10', '2026-10-12'));
    // assert
    expect(answers).toEqual([]);
    expect(labels).toEqual([]);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix)).toEqual([
      'score/dt=2026-10-10/',
      'score/dt=2026-10-11/',
      'score/dt=2026-10-12/',
      'event/type=label/dt=2026-10-10/',
      'event/type=label/dt=2026-10-11/',
      'event/type=label/dt=2026-10-12/',
    ]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(archive.stats).toEqual({ objects: 0, lines: 0, skippedLines: 0, unreadableObjects: 0 });
  });

  it('reads labels from the label partitions only, never opening an authorization', async () => {
    // prepare: the authorizations of the same date sit next to the labels, and in the old
    // untyped layout; a stray authorization under `type=label/` is damage
    objects({
      'event/type=authorization/dt=2026-11-20/a.jsonl.gz': gzipSync(jsonl([event('t1', 'authorization')])),
      'event/dt=2026-11-20/old.jsonl.gz': gzipSync(jsonl([event('t9', 'label')])),
      'event/type=label/dt=2026-11-20/x.jsonl.gz': gzipSync(
        jsonl([
          event('t1', 'label'),
          event('t2', 'label', 'confirmed_legitimate'),
          event('t3', 'authorization'),
        ]),
      ),
    });
    const archive = reader();
    // act
    const labels = await collect(archive.labels('2026-11-20', '2026-11-20'));
    // assert
    expect(labels).toEqual([
      { transactionId: 't1', label: 'chargeback', transactionTimestamp: '2026-10-10T12:00:00Z' },
      { transactionId: 't2', label: 'confirmed_legitimate', transactionTimestamp: '2026-10-10T12:00:00Z' },
    ]);
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      'event/type=label/dt=2026-11-20/x.jsonl.gz',
    ]);
    expect(archive.stats).toMatchObject({ objects: 1, lines: 3, skippedLines: 1 });
  });

  it('counts, logs and skips corrupt lines, and keeps the rest of the object', async () => {
    // prepare: not JSON, a score record without a segment, a label without its transaction time,
    // a NaN-free but string score, and an overlong line
    const bad = [
      'not json at all',
      JSON.stringify({ ...answer('x1'), segment: undefined }),
      JSON.stringify({ ...answer('x2'), score: '0.5' }),
      'x'.repeat(600),
    ];
    objects({
      'score/dt=2026-10-10/a.gz': gzipSync(
        `${jsonl([answer('ok1')])}${bad.join('\n')}\n${jsonl([answer('ok2')])}`,
      ),
      'event/type=label/dt=2026-10-10/a.gz': gzipSync(
        `${JSON.stringify({ kind: 'event', event: { type: 'label', transactionId: 't', label: 'chargeback' } })}\n`,
      ),
    });
    const log = jest.fn();
    const archive = new S3ArchiveReader(new S3ArchiveObjects(new S3Client({ region: 'eu-west-1' }), 'b'), {
      log,
      maxLineChars: 500,
    });
    // act
    const answers = await collect(archive.answers('2026-10-10', '2026-10-10'));
    const labels = await collect(archive.labels('2026-10-10', '2026-10-10'));
    // assert
    expect(answers.map((a) => a.transactionId)).toEqual(['ok1', 'ok2']);
    expect(labels).toEqual([]);
    expect(archive.stats).toMatchObject({ objects: 2, skippedLines: 5, unreadableObjects: 0 });
    expect(log.mock.calls.map(([, details]) => [details.key, details.line, details.reason])).toEqual([
      ['score/dt=2026-10-10/a.gz', 2, 'not JSON'],
      ['score/dt=2026-10-10/a.gz', 3, 'not a score record'],
      ['score/dt=2026-10-10/a.gz', 4, 'not a score record'],
      ['score/dt=2026-10-10/a.gz', 5, 'line longer than 500 characters'],
      ['event/type=label/dt=2026-10-10/a.gz', 1, 'not a label record'],
    ]);
  });

  it('keeps the lines before the damage of a truncated or corrupt gzip object and reads the next one', async () => {
    // prepare: enough lines that the truncation falls well inside the stream
    const many = Array.from({ length: 2000 }, (_, i) => answer(`t${i}`, (i % 100) / 100));
    const whole = gzipSync(jsonl(many));
    const flipped = Buffer.from(gzipSync(jsonl([answer('never')])));
    flipped[flipped.length - 6] = (flipped[flipped.length - 6] as number) ^ 0xff; // CRC no longer matches
    objects(
      {
        'score/dt=2026-10-10/1-truncated.gz': whole.subarray(0, Math.floor(whole.length * 0.6)),
        'score/dt=2026-10-10/2-crc.gz': flipped,
        'score/dt=2026-10-10/3-good.gz': gzipSync(jsonl([answer('after')])),
      },
      1000,
    );
    const log = jest.fn();
    const archive = reader(log);
    // act
    const answers = await collect(archive.answers('2026-10-10', '2026-10-10'));
    // assert: a prefix of the truncated object, whole lines only, then the good object
    const ids = answers.map((a) => a.transactionId);
    expect(ids.at(-1)).toBe('after');
    const truncated = ids.slice(0, -1).filter((id) => id !== 'never');
    expect(truncated.length).toBeGreaterThan(100);
    expect(truncated.length).toBeLessThan(2000);
    expect(truncated).toEqual(many.slice(0, truncated.length).map((a) => a.transactionId));
    expect(archive.stats).toMatchObject({ objects: 3, unreadableObjects: 2, skippedLines: 0 });
    expect(log).toHaveBeenCalledWith(
      expect.stringContaining('unreadable'),
      expect.objectContaining({ key: 'score/dt=2026-10-10/1-truncated.gz', error: 'unexpected end of file' }),
    );
    expect(log).toHaveBeenCalledWith(
      expect.stringContaining('unreadable'),
      expect.objectContaining({ key: 'score/dt=2026-10-10/2-crc.gz', error: 'incorrect data check' }),
    );
  });

  it('reads plain and multi-member gzip objects, and a last line without a newline', async () => {
    // prepare
    objects({
      'score/dt=2026-10-10/plain.jsonl': new TextEncoder().encode(
        `${JSON.stringify(answer('p1'))}\r\n${JSON.stringify(answer('p2'))}`,
      ),
      'score/dt=2026-10-10/q-multi.gz': Buffer.concat([
        gzipSync(jsonl([answer('m1')])),
        gzipSync(JSON.stringify(answer('m2'))),
      ]),
    });
    const archive = reader();
    // act
    const answers = await collect(archive.answers('2026-10-10', '2026-10-10'));
    // assert
    expect(answers.map((a) => a.transactionId)).toEqual(['p1', 'p2', 'm1', 'm2']);
    expect(archive.stats.skippedLines).toBe(0);
  });

  it('fails on S3 errors: a denied read, or a connection lost mid-object', async () => {
    // prepare
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'score/dt=2026-10-10/a.gz' }] });
    const lost = new Readable({
      read() {
        this.push(gzipSync(jsonl([answer('a')])).subarray(0, 20));
        this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      },
    });
    s3.on(GetObjectCommand)
      .rejectsOnce(Object.assign(new Error('AccessDenied'), { name: 'AccessDenied' }))
      .resolvesOnce({ Body: lost as never });
    // act
    const denied = collect(reader().answers('2026-10-10', '2026-10-10'));
    // assert
    await expect(denied).rejects.toThrow('AccessDenied');
    // act
    const reset = collect(reader().answers('2026-10-10', '2026-10-10'));
    // assert
    await expect(reset).rejects.toThrow('socket hang up');
  });

  it('logs at most maxLoggedIssues reports but counts every skipped line', async () => {
    // prepare
    objects({ 'score/dt=2026-10-10/a.gz': gzipSync(Array.from({ length: 30 }, () => 'garbage').join('\n')) });
    const log = jest.fn();
    const archive = new S3ArchiveReader(new S3ArchiveObjects(new S3Client({ region: 'eu-west-1' }), 'b'), {
      log,
      maxLoggedIssues: 3,
    });
    // act
    await collect(archive.answers('2026-10-10', '2026-10-10'));
    // assert
    expect(log).toHaveBeenCalledTimes(3);
    expect(archive.stats.skippedLines).toBe(30);
  });
});

describe('writtenInUtc', () => {
  it('tells a UTC time from an offset one in any archived score line, without parsing it', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
        fc.constantFrom('Z', '+02:00', '-05:30', '+00:00'),
        fc.string({ maxLength: 20 }),
        (date, zone, segment) => {
          // prepare: the time as a sender may write it; any text in the other fields
          const time = `${date.toISOString().slice(0, 19)}${zone}`;
          const line = JSON.stringify({ ...answer('t'), segment, eventTime: time });
          // act / assert
          expect(writtenInUtc(line)).toBe(zone === 'Z');
        },
      ),
    );
  });

  it('reads only the offset-written answers of a partition when asked, counting the rest as read', async () => {
    // prepare
    objects({
      'score/dt=2026-10-09/a.gz': gzipSync(
        `${jsonl([answer('utc'), { ...answer('offset'), eventTime: '2026-10-09T23:00:00-03:00' }])}{"eventTime":"2026-10-09T01:00:00Z",\n`,
      ),
    });
    const archive = reader();
    // act
    const answers = await collect(archive.answers('2026-10-09', '2026-10-09', { offsetTimesOnly: true }));
    // assert
    expect(answers.map((a) => a.transactionId)).toEqual(['offset']);
    expect(archive.stats).toMatchObject({ lines: 3, skippedLines: 0 });
  });
});

describe('streaming an object', () => {
  it('yields the same lines however the gzip bytes are cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc
            .string({ unit: 'grapheme', maxLength: 40 })
            .map((s) => s.replaceAll('\n', ' ').replaceAll('\r', ' ')),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        fc.integer({ min: 1, max: 97 }),
        fc.boolean(),
        async (lines, chunk, gzip) => {
          // prepare
          const text = `${lines.join('\n')}\n`;
          const bytes = gzip ? gzipSync(text) : Buffer.from(text, 'utf8');
          // act
          const out = await collect(splitLines(decompressed(body(bytes, chunk)), 1000, () => {}));
          // assert
          expect(out).toEqual(lines);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never holds an overlong line whole: it is reported once and the next line is intact', async () => {
    // prepare
    const text = `short\n${'y'.repeat(10_000)}\nnext\n${'z'.repeat(50)}`;
    const overlong = jest.fn();
    // act
    const out = await collect(splitLines(decompressed(body(Buffer.from(text), 7)), 20, overlong));
    // assert
    expect(out).toEqual(['short', 'next']);
    expect(overlong).toHaveBeenCalledTimes(2);
  });
});

describe('inParallel', () => {
  const source = (id: number, count: number, log?: string[]) =>
    async function* () {
      try {
        for (let i = 0; i < count; i++) {
          await new Promise((r) => setImmediate(r));
          yield `${id}:${i}`;
        }
      } finally {
        log?.push(`closed ${id}`);
      }
    };

  it('yields every item of every source once, whatever the concurrency and buffer size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 7 }),
        async (counts, concurrency, highWater) => {
          // prepare
          const sources = counts.map((count, id) => source(id, count));
          // act
          const items = await collect(inParallel(sources, concurrency, highWater));
          // assert
          const expected = counts.flatMap((count, id) =>
            Array.from({ length: count }, (_, i) => `${id}:${i}`),
          );
          expect([...items].sort()).toEqual([...expected].sort());
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps at most highWater items waiting while the consumer is slow', async () => {
    // prepare
    let produced = 0;
    let consumed = 0;
    let mostWaiting = 0;
    const counting = (id: number) =>
      async function* () {
        for (let i = 0; i < 200; i++) {
          produced += 1;
          yield `${id}:${i}`;
        }
      };
    // act
    for await (const _ of inParallel([counting(0), counting(1), counting(2)], 3, 10)) {
      consumed += 1;
      mostWaiting = Math.max(mostWaiting, produced - consumed);
      await new Promise((r) => setImmediate(r));
    }
    // assert: the high-water mark plus one item in flight per source
    expect(consumed).toBe(600);
    expect(mostWaiting).toBeLessThanOrEqual(10 + 3);
  });

  it('throws the first source error and closes the other sources', async () => {
    // prepare
    const log: string[] = [];
    const failing = async function* () {
      await new Promise((r) => setImmediate(r));
      yield 'x';
      throw new Error('AccessDenied');
    };
    // act
    const run = collect(inParallel([source(0, 1000, log), failing, source(2, 1000, log)], 3, 4));
    // assert
    await expect(run).rejects.toThrow('AccessDenied');
    await new Promise((r) => setTimeout(r, 20));
    expect(log.sort()).toEqual(['closed 0', 'closed 2']);
  });

  it('closes the sources when the consumer stops early', async () => {
    // prepare
    const log: string[] = [];
    // act
    for await (const item of inParallel([source(0, 1000, log), source(1, 1000, log)], 2, 4)) if (item) break;
    await new Promise((r) => setTimeout(r, 20));
    // assert
    expect(log.sort()).toEqual(['closed 0', 'closed 1']);
  });
});

describe('interner', () => {
  it('shares repeated strings and stops remembering past its bound', () => {
    // prepare
    const intern = interner(2);
    // act
    const shared = intern('pos.low.known');
    intern('ecommerce.high.new');
    intern('third');
    // assert
    expect(intern('pos.low.known')).toBe(shared);
    expect(intern('third')).toBe('third');
  });
});
