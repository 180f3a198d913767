/**
 * The export's byte-level CSV writer against the text it replaces: for any numbers, the file
 * must hold exactly `${id},${values.join(',')}\n` per row (training reads these numbers back,
 * so one digit off would change the model).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CsvWriter } from '../../models/training/csv-writer';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'csv-writer-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Numbers as the export meets them, and every edge of the integer fast path. */
const value = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.integer({ min: -1, max: 30 }),
  fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
  fc.constantFrom(
    0,
    -0,
    -1,
    9,
    10,
    99,
    100,
    2 ** 31,
    2 ** 53 - 1,
    2 ** 53,
    -(2 ** 53),
    1e21,
    1e-7,
    0.1,
    Math.log1p(597),
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ),
);
const row = fc.record({
  id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
  values: fc.array(value, { minLength: 1, maxLength: 30 }),
});

let files = 0;
function written(rows: readonly { id: string; values: readonly number[] }[], bufferBytes: number): string {
  files += 1;
  const path = join(dir, `${files}.csv`);
  const csv = new CsvWriter(path, bufferBytes);
  csv.text('header,ü\n');
  for (const { id, values } of rows) {
    csv.text(id);
    for (const number of values) {
      csv.comma();
      csv.number(number);
    }
    csv.endRow();
  }
  csv.close();
  return readFileSync(path, 'utf8');
}

describe('CsvWriter', () => {
  it('writes exactly the text of join(",") for any numbers, across buffer flushes', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), fc.constantFrom(0, 9000), (rows, bufferBytes) => {
        // prepare
        const expected = `header,ü\n${rows.map(({ id, values }) => `${id},${values.join(',')}\n`).join('')}`;

        // act
        const text = written(rows, bufferBytes);

        // assert
        expect(text).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('loses nothing where rows meet the end of the buffer, at every offset', () => {
    // prepare: rows of growing length, so the buffer's end falls at every position in a row
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      id: `t${'x'.repeat(i % 97)}`,
      values: Array.from({ length: 1 + (i % 40) }, (_, k) => (k % 2 === 0 ? -(i * 1e9 + k) : Math.PI * i)),
    }));
    const expected = `header,ü\n${rows.map(({ id, values }) => `${id},${values.join(',')}\n`).join('')}`;

    // act
    const text = written(rows, 0);

    // assert
    expect(text.length).toBe(expected.length);
    expect(text).toBe(expected);
  });

  it('writes a text longer than its buffer whole', () => {
    // prepare
    const long = 'x'.repeat(50_000);

    // act
    const text = written([{ id: long, values: [1.5, -0, 7] }], 0);

    // assert
    expect(text).toBe(`header,ü\n${long},1.5,0,7\n`);
  });
});
