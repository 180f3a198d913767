import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { AuthorizationEvent, LabelEvent } from '#domain/types';
import { eventFiles, lineChunksOf, linesContaining } from '../../models/training/event-files';
import {
  EventSourceError,
  formatBadLines,
  parseEventLine,
  readEvents,
} from '../../models/training/event-source';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');

function auth(i: number, ms: number): AuthorizationEvent {
  return {
    type: 'authorization',
    eventId: `e${i.toString(16)}`,
    transactionId: `t${i.toString(16)}`,
    cardId: `c${i % 7}`,
    merchantId: `m${i % 3}`,
    mcc: '5411',
    amount: 100 + i,
    currency: 'USD',
    country: 'US',
    channel: 'ecommerce',
    timestamp: new Date(ms).toISOString(),
    outcome: 'approved',
  };
}

function label(i: number, ms: number, txMs: number): LabelEvent {
  return {
    type: 'label',
    eventId: `l${i.toString(16)}`,
    transactionId: `t${i.toString(16)}`,
    cardId: `c${i % 7}`,
    merchantId: `m${i % 3}`,
    label: 'chargeback',
    timestamp: new Date(ms).toISOString(),
    transactionTimestamp: new Date(txMs).toISOString(),
  };
}

const jsonl = (items: unknown[]): string => `${items.map((item) => JSON.stringify(item)).join('\n')}\n`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'event-source-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('readEvents', () => {
  it('reads a sorted JSONL file as is and summarises it', async () => {
    // prepare
    const events = [auth(1, T0), auth(2, T0 + 1000), label(1, T0 + 86_400_000, T0)];
    const file = join(dir, 'h.jsonl');
    writeFileSync(file, jsonl(events));

    // act
    const result = await readEvents(file);

    // assert
    expect(result.events).toEqual(events);
    expect(Array.from(result.times)).toEqual([T0, T0 + 1000, T0 + 86_400_000]);
    expect(result.source).toMatchObject({
      path: file,
      lines: 3,
      events: 3,
      authorizations: 2,
      labels: 1,
      badLineCount: 0,
      duplicates: 0,
      reordered: 0,
      first: new Date(T0).toISOString(),
      last: new Date(T0 + 86_400_000).toISOString(),
    });
  });

  it('sorts out-of-order input stably and counts the moved events', async () => {
    // prepare
    const a = auth(1, T0 + 5000);
    const b = auth(2, T0);
    const c = auth(3, T0); // same time as b: must stay after b
    const file = join(dir, 'h.jsonl');
    writeFileSync(file, jsonl([a, b, c]));

    // act
    const result = await readEvents(file);

    // assert
    expect(result.events.map((e) => e.eventId)).toEqual([b.eventId, c.eventId, a.eventId]);
    expect(result.source.reordered).toBe(2);
  });

  it('names the first offending line when sorting is off', async () => {
    // prepare
    const file = join(dir, 'h.jsonl');
    writeFileSync(file, `${jsonl([auth(1, T0), auth(2, T0 + 10)])}\n${jsonl([auth(3, T0 + 5)])}`);

    // act
    const read = readEvents(file, { sort: false });

    // assert
    await expect(read).rejects.toThrow(EventSourceError);
    await expect(readEvents(file, { sort: false })).rejects.toThrow(
      /h\.jsonl:4: event e3 .* before the previous/,
    );
  });

  it('reports bad lines with numbers and reasons and skips them below the threshold', async () => {
    // prepare
    const good = Array.from({ length: 198 }, (_, i) => JSON.stringify(auth(i, T0 + i)));
    const lines = [
      ...good.slice(0, 50),
      '{not json',
      ...good.slice(50),
      JSON.stringify({ ...auth(999, T0), amount: -1 }),
    ];
    const file = join(dir, 'h.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);

    // act
    const result = await readEvents(file, { maxBadFraction: 0.01 });

    // assert
    expect(result.events).toHaveLength(198);
    expect(result.badLines).toEqual([
      { file, line: 51, reason: 'not valid JSON' },
      { file, line: 200, reason: expect.stringMatching(/^amount: /) },
    ]);
    expect(result.source.badLineCount).toBe(2);
    expect(formatBadLines({ ...result.source, badLines: result.badLines })).toMatch(
      /^2 bad lines of 200 \(skipped\):\n {2}.*h\.jsonl:51: not valid JSON/,
    );
  });

  it('refuses when bad lines exceed the threshold, naming the first', async () => {
    // prepare
    const file = join(dir, 'h.jsonl');
    writeFileSync(file, `${jsonl([auth(1, T0), auth(2, T0 + 1)])}{"type":"authorization"}\n`);

    // act
    const read = readEvents(file, { maxBadFraction: 0.2 });

    // assert
    await expect(read).rejects.toThrow(
      /1 of 3 lines are bad \(33\.33 %, limit 20\.00 %\); first: .*h\.jsonl:3: /,
    );
  });

  it('refuses an input with no valid events', async () => {
    // prepare
    const file = join(dir, 'empty.jsonl');
    writeFileSync(file, '\n\n');

    // act
    const read = readEvents(file);

    // assert
    await expect(read).rejects.toThrow(/no valid events/);
  });

  it('rejects a threshold outside [0, 1]', async () => {
    // prepare
    const file = join(dir, 'h.jsonl');
    writeFileSync(file, jsonl([auth(1, T0)]));

    // act
    const read = readEvents(file, { maxBadFraction: 1.5 });

    // assert
    await expect(read).rejects.toThrow(RangeError);
  });

  it('reads a directory recursively, gzip included, batches and archive records, dropping duplicates', async () => {
    // prepare
    mkdirSync(join(dir, 'event', 'dt=2026-03-01'), { recursive: true });
    mkdirSync(join(dir, 'event', 'dt=2026-03-02'), { recursive: true });
    writeFileSync(
      join(dir, 'event', 'dt=2026-03-02', 'b.jsonl.gz'),
      gzipSync(jsonl([auth(3, T0 + 86_400_000)])),
    );
    writeFileSync(
      join(dir, 'event', 'dt=2026-03-01', 'a.jsonl'),
      jsonl([
        { events: [auth(1, T0), auth(2, T0 + 1)] },
        { kind: 'event', receivedAt: new Date(T0).toISOString(), event: auth(2, T0 + 1) },
      ]),
    );
    writeFileSync(join(dir, 'notes.txt'), 'ignored');

    // act
    const result = await readEvents(dir);

    // assert
    expect(result.source.files).toEqual([
      join('event', 'dt=2026-03-01', 'a.jsonl'),
      join('event', 'dt=2026-03-02', 'b.jsonl.gz'),
    ]);
    expect(result.events.map((e) => e.eventId)).toEqual(['e1', 'e2', 'e3']);
    expect(result.source.duplicates).toBe(1);
    expect(eventFiles(dir)).toHaveLength(2);
  });

  it('treats archive score records as bad lines, not events', () => {
    // prepare
    const line = JSON.stringify({ kind: 'score', transactionId: 't1' });

    // act
    const parsed = parseEventLine(line);

    // assert
    expect(parsed).toEqual({ reason: 'archive record of kind "score", not event' });
  });

  it('returns any shuffled history in time order with every event once (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 10 * 86_400_000 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
        async (offsets, junk) => {
          // prepare
          const events = offsets.map((offset, i) => auth(i, T0 + offset));
          const file = join(dir, 'p.jsonl');
          const garbage = junk.map((s) => s.replace(/[\r\n]/g, ' ')).filter((s) => s.trim() !== '');
          writeFileSync(file, `${[...events.map((e) => JSON.stringify(e)), ...garbage].join('\n')}\n`);

          // act
          const result = await readEvents(file, { maxBadFraction: 1 });

          // assert
          const times = Array.from(result.times);
          expect(times).toEqual([...times].sort((a, b) => a - b));
          expect(new Set(result.events.map((e) => e.eventId))).toEqual(new Set(events.map((e) => e.eventId)));
          expect(result.source.badLineCount).toBe(garbage.length);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('lineChunksOf', () => {
  const readlineLines = async (file: string): Promise<string[]> => {
    const lines: string[] = [];
    const input = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of input) lines.push(line);
    return lines;
  };
  const chunkedLines = async (file: string): Promise<string[]> => {
    const lines: string[] = [];
    for await (const chunk of lineChunksOf(file)) lines.push(...chunk);
    return lines;
  };

  it('splits lines where readline does (\\n, \\r\\n, lone \\r, no final break), so line numbers stay the same', async () => {
    const piece = fc.oneof(
      fc.constantFrom('\n', '\r\n', '\r', '\r\r\n', '', ' ', 'é', '{"a":1}'),
      fc.string({ maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 40 }), async (pieces) => {
        // prepare
        const file = join(dir, 'lines.txt');
        writeFileSync(file, pieces.join(''));
        // act
        const lines = await chunkedLines(file);
        // assert
        const numbered = (all: string[]) => all.flatMap((line, i) => (line === '' ? [] : [[i + 1, line]]));
        expect(numbered(lines)).toEqual(numbered(await readlineLines(file)));
      }),
      { numRuns: 150 },
    );
  });

  it('keeps multi-byte characters and lines whole across megabyte reads, plain and gzip', async () => {
    // prepare: lines that straddle the 1 MiB read boundary, with a 3-byte character at it
    const line = `${'x'.repeat(70_000)}€`;
    const text = `${Array.from({ length: 40 }, (_, i) => `${i}${line}`).join('\r\n')}\n`;
    const plain = join(dir, 'big.jsonl');
    const gzipped = join(dir, 'big.jsonl.gz');
    writeFileSync(plain, text);
    writeFileSync(gzipped, gzipSync(text));
    // act
    const fromPlain = await chunkedLines(plain);
    const fromGzip = await chunkedLines(gzipped);
    // assert
    expect(fromPlain).toEqual(await readlineLines(plain));
    expect(fromPlain).toHaveLength(40);
    expect(fromPlain[39]).toBe(`39${line}`);
    expect(fromGzip).toEqual(fromPlain);
  });
});

describe('linesContaining', () => {
  const filtered = async (path: string, needle: string): Promise<string[]> => {
    const lines: string[] = [];
    for (const file of eventFiles(path)) {
      for await (const chunk of lineChunksOf(file))
        lines.push(...chunk.filter((line) => line.includes(needle)));
    }
    return lines;
  };
  const found = async (path: string, needle: string, chunkBytes?: number): Promise<string[]> => {
    const lines: string[] = [];
    for await (const line of linesContaining(path, needle, chunkBytes)) lines.push(line);
    return lines;
  };

  it('yields exactly the lines lineChunksOf gives that contain the needle, for any breaks and read sizes', async () => {
    const piece = fc.oneof(
      fc.constantFrom('\n', '\r\n', '\r', '"label"', '"lab', 'el"', 'é', '€', '{"type":"label"}', ''),
      fc.string({ maxLength: 6 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 60 }),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        async (pieces, chunkBytes, gzipped) => {
          // prepare
          const file = join(dir, gzipped ? 'needle.jsonl.gz' : 'needle.jsonl');
          const text = pieces.join('');
          writeFileSync(file, gzipped ? gzipSync(text) : text);

          // act
          const lines = await found(file, '"label"', chunkBytes);

          // assert
          expect(lines).toEqual(await filtered(file, '"label"'));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads every file of a directory in path order', async () => {
    // prepare
    mkdirSync(join(dir, 'archive', 'dt=2026-03-02'), { recursive: true });
    mkdirSync(join(dir, 'archive', 'dt=2026-03-01'), { recursive: true });
    writeFileSync(join(dir, 'archive', 'dt=2026-03-02', 'b.jsonl'), jsonl([label(2, T0 + 2, T0)]));
    writeFileSync(
      join(dir, 'archive', 'dt=2026-03-01', 'a.jsonl.gz'),
      gzipSync(jsonl([auth(1, T0), label(1, T0 + 1, T0)])),
    );

    // act
    const lines = await found(join(dir, 'archive'), '"label"');

    // assert
    expect(lines.map((line) => JSON.parse(line).eventId)).toEqual(['l1', 'l2']);
  });
});
