/**
 * The one record check of the archive's readers (`#domain/archive-records`): on hostile input
 * it never throws and accepts only records with the fields the join reads, typed as the writer
 * wrote them; and the two calibration readers — S3 (mocked client) and the local directory —
 * skip exactly the same malformed lines of the same objects and yield the same records.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { FileArchiveReader } from '#adapters/file-archive-reader';
import { S3ArchiveObjects, S3ArchiveReader } from '#adapters/s3-archive-reader';
import { answerOf, exportableEventOf, labelOf } from '#domain/archive-records';
import { isContractId, TIMESTAMP_PATTERN } from '#domain/contract';
import { LABELS } from '#domain/types';
import { archivedAnswer, serveArchiveObjects } from '../support/archive-objects';

const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());

const answer = archivedAnswer;
const label = (id = 'tx-1', value = 'chargeback'): Record<string, unknown> => ({
  kind: 'event',
  receivedAt: '2026-11-20T00:00:00Z',
  event: {
    type: 'label',
    eventId: `e-${id}`,
    transactionId: id,
    cardId: 'tok_1',
    merchantId: 'm_1',
    label: value,
    timestamp: '2026-11-20T00:00:00Z',
    transactionTimestamp: '2026-10-10T12:00:00Z',
  },
});

/**
 * Values of the wrong kind for any read field (every one is a string but the score, which is
 * a number or null): what a hand-edited or foreign line may hold. Undefined removes the field.
 */
const wrongValue = fc.oneof(
  fc.constant(undefined),
  fc.boolean(),
  fc.double(),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);

/** A valid record with one field replaced (or removed): the shape damage usually takes. */
const mutated = (base: Record<string, unknown>, paths: readonly string[]) =>
  fc.tuple(fc.constantFrom(...paths), wrongValue).map(([path, value]) => {
    const copy = structuredClone(base);
    const [head, tail] = path.split('.') as [string, string | undefined];
    const target = tail ? (copy[head] as Record<string, unknown>) : copy;
    const key = tail ?? head;
    if (value === undefined) delete target[key];
    else target[key] = value;
    return copy;
  });

/** The readers' longest line in these tests (a record is ~350 characters). */
const MAX_LINE = 1000;

const ANSWER_FIELDS = ['kind', 'transactionId', 'eventTime', 'modelVersion', 'segment', 'score'] as const;
const LABEL_FIELDS = [
  'kind',
  'event',
  'event.type',
  'event.transactionId',
  'event.label',
  'event.transactionTimestamp',
] as const;

/** Any line a reader may meet: valid records, damaged ones, other JSON, text, binary-ish noise. */
const hostileLine = fc.oneof(
  fc.constant(answer()).map((r) => JSON.stringify(r)),
  fc.constant(label()).map((r) => JSON.stringify(r)),
  mutated(answer(), ANSWER_FIELDS).map((r) => JSON.stringify(r)),
  mutated(label(), LABEL_FIELDS).map((r) => JSON.stringify(r)),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constant('x'.repeat(MAX_LINE + 1)), // past the readers' maxLineChars
);

const parse = (line: string): unknown => {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
};

describe('answerOf / labelOf', () => {
  it('never throw, and accept only records whose read fields follow the contract', () => {
    fc.assert(
      fc.property(fc.oneof(hostileLine.map(parse), fc.anything()), (value) => {
        // act
        const a = answerOf(value);
        const l = labelOf(value);
        // assert
        if (a) {
          expect(isContractId(a.transactionId)).toBe(true);
          expect(TIMESTAMP_PATTERN.test(a.eventTime)).toBe(true);
          expect(typeof a.modelVersion).toBe('string');
          expect(typeof a.segment).toBe('string');
          expect(a.score === null || (a.score >= 0 && a.score <= 1)).toBe(true);
          expect(Object.keys(a).sort()).toEqual([
            'eventTime',
            'modelVersion',
            'score',
            'segment',
            'transactionId',
          ]);
        }
        if (l) {
          expect(isContractId(l.transactionId)).toBe(true);
          expect(LABELS).toContain(l.label);
          expect(TIMESTAMP_PATTERN.test(l.transactionTimestamp)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuse a record with any one read field missing or of the wrong kind', () => {
    fc.assert(
      fc.property(mutated(answer(), ANSWER_FIELDS), (record) => {
        // prepare: a score replaced by another number in [0, 1] is no damage
        fc.pre(
          record.score === 0.5 ||
            !(typeof record.score === 'number' && record.score >= 0 && record.score <= 1),
        );
        // act / assert
        expect(answerOf(record)).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(mutated(label(), LABEL_FIELDS), (record) => {
        // act
        const result = labelOf(record);
        // assert: damaged, or (type changed to another string) a valid event that is no label
        const type = (record.event as Record<string, unknown> | undefined)?.type;
        if (typeof type === 'string' && type !== 'label' && record.kind === 'event')
          expect(result).toBeNull();
        else expect(result).toBeUndefined();
      }),
    );
  });

  it('accept what the archive writes, and the edges the contract allows', () => {
    // act / assert
    expect(answerOf(answer('a', null))).toMatchObject({ transactionId: 'a', score: null });
    expect(answerOf(answer('a', 0))?.score).toBe(0);
    expect(answerOf(answer('a', 1))?.score).toBe(1);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -0.01, 1.01, '0.5'])
      expect(answerOf(answer('a', bad))).toBeUndefined();
    expect(answerOf({ ...answer(), eventTime: 'yesterday' })).toBeUndefined();
    expect(answerOf({ ...answer(), transactionId: 'has space' })).toBeUndefined();
    expect(labelOf(label('t', 'confirmed_legitimate'))).toEqual({
      transactionId: 't',
      label: 'confirmed_legitimate',
      transactionTimestamp: '2026-10-10T12:00:00Z',
    });
    expect(labelOf(label('t', 'maybe_fraud'))).toBeUndefined();
    expect(labelOf({ kind: 'event', event: { type: 'authorization' } })).toBeNull();
    expect(exportableEventOf(label('t'))?.event.eventId).toBe('e-t');
    expect(exportableEventOf({ kind: 'event', event: { eventId: 'e1', timestamp: 'now' } })).toBeUndefined();
  });
});

describe('the S3 and the local reader', () => {
  /** The same objects in a directory and behind the mocked S3 client. */
  function both(files: Record<string, Uint8Array>) {
    const root = mkdtempSync(join(tmpdir(), 'archive-records-'));
    for (const [key, bytes] of Object.entries(files)) {
      mkdirSync(dirname(join(root, key)), { recursive: true });
      writeFileSync(join(root, key), bytes);
    }
    serveArchiveObjects(s3, files, 16 * 1024);
    const options = { maxLineChars: MAX_LINE, labelScanConcurrency: 1 };
    return {
      root,
      local: new FileArchiveReader(root, options),
      remote: new S3ArchiveReader(new S3ArchiveObjects(new S3Client({ region: 'eu-west-1' }), 'b'), options),
    };
  }

  async function read(reader: FileArchiveReader) {
    const answers = [];
    for await (const a of reader.answers('2026-10-10', '2026-10-10')) answers.push(a);
    const labels = [];
    for await (const l of reader.labels('2026-11-20', '2026-11-20')) labels.push(l);
    return { answers, labels, stats: { ...reader.stats } };
  }

  it('skip exactly the same malformed lines and yield the same records, whatever the lines', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileLine, { maxLength: 25 }),
        fc.array(hostileLine, { maxLength: 25 }),
        fc.boolean(),
        async (scoreLines, labelLines, gzip) => {
          // prepare
          const encode = (lines: string[]) => {
            const text = `${lines.map((l) => l.replaceAll('\n', ' ')).join('\n')}\n`;
            return gzip ? gzipSync(text) : new TextEncoder().encode(text);
          };
          const { root, local, remote } = both({
            'score/dt=2026-10-10/a.jsonl.gz': encode(scoreLines),
            'event/type=label/dt=2026-11-20/a.jsonl.gz': encode(labelLines),
          });
          try {
            // act
            const fromFiles = await read(local);
            const fromS3 = await read(remote);
            // assert
            expect(fromFiles).toEqual(fromS3);
            const line = (l: string) => l.replaceAll('\n', ' ');
            const wanted = scoreLines.filter((l) => line(l).length <= MAX_LINE && answerOf(parse(line(l))));
            expect(fromFiles.answers).toHaveLength(wanted.length);
            const blank = scoreLines.filter((l) => line(l).trim() === '').length;
            expect(fromFiles.stats.skippedLines).toBeGreaterThanOrEqual(
              scoreLines.length - wanted.length - blank,
            );
          } finally {
            rmSync(root, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('skip the same lines of a truncated gzip object (its lines before the damage are kept)', async () => {
    // prepare
    const many = Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify(answer(`t${(i * 7919).toString(36)}`, (i % 97) / 97)),
    );
    const whole = gzipSync(`${many.join('\n')}\n`);
    const { root, local, remote } = both({
      'score/dt=2026-10-10/cut.jsonl.gz': whole.subarray(0, Math.floor(whole.length / 2)),
    });
    try {
      // act
      const fromFiles = await read(local);
      const fromS3 = await read(remote);
      // assert
      expect(fromFiles).toEqual(fromS3);
      expect(fromFiles.stats.unreadableObjects).toBe(1);
      expect(fromFiles.answers.length).toBeGreaterThan(0);
      expect(fromFiles.answers.length).toBeLessThan(20_000);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
