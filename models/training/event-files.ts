/**
 * The files and lines of an event history: which files a path names (a file, or every JSON-lines
 * file below a directory, gzip or not) and their lines, split as an editor counts them. What the
 * lines mean is `event-source.ts`'s concern; this module only finds and splits them.
 */
import { closeSync, createReadStream, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

/** Lists the files to read under `path`, in path order (one file when `path` is a file). */
export function eventFiles(path: string): string[] {
  const stat = statSync(path);
  if (!stat.isDirectory()) return [path];
  const files: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && /\.(jsonl|ndjson|json)(\.gz)?$|\.gz$/.test(entry.name)) files.push(full);
    }
  };
  walk(path);
  return files;
}

function isGzip(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    return readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines of a file, a chunk at a time (each yield is every complete line of one read).
 * Line breaks are those of `readline` with `crlfDelay: Infinity` (`\n`, `\r\n`, and a lone
 * `\r`), so line numbers match what an editor shows. Splitting a megabyte at a time, rather
 * than awaiting `readline` once per line, saves a promise and a microtask per line.
 */
export async function* lineChunksOf(file: string): AsyncGenerator<string[]> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const input = isGzip(file) ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
  raw.on('error', (error) => input.destroy(error));
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      rest = text;
      continue;
    }
    rest = text.slice(end + 1);
    yield splitLines(text.slice(0, end));
  }
  const tail = rest + decoder.end();
  if (tail !== '') yield splitLines(tail);
}

/**
 * The lines of the files under `path` that contain `needle` (ASCII), as {@link lineChunksOf}
 * splits them, in input order: the same as filtering every line, but the search runs over the
 * raw bytes and only matching lines are decoded. For a pass that needs few lines, e.g. the
 * export's label pass (about 1 % of a history's lines), where decoding and splitting every
 * line cost more than the rest of that pass. A long needle ending in a rare character searches
 * fastest (the search skips by its last byte). `chunkBytes` sets the read size (tests).
 */
export async function* linesContaining(
  path: string,
  needle: string,
  chunkBytes = 1 << 20,
): AsyncGenerator<string> {
  const bytes = Buffer.from(needle, 'latin1');
  for (const file of eventFiles(path)) {
    const raw = createReadStream(file, { highWaterMark: chunkBytes });
    const input = isGzip(file) ? raw.pipe(createGunzip({ chunkSize: Math.max(chunkBytes, 64) })) : raw;
    raw.on('error', (error) => input.destroy(error));
    // The start of a line that runs past the last read: it is completed by the next one.
    let rest: Buffer = Buffer.alloc(0);
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const first = chunk.indexOf(0x0a);
      if (first < 0) {
        rest = Buffer.concat([rest, chunk]);
        continue;
      }
      const head = Buffer.concat([rest, chunk.subarray(0, first)]);
      yield* matchingLines(head, head.length, bytes, needle);
      const last = chunk.lastIndexOf(0x0a);
      yield* matchingLines(chunk.subarray(first + 1, last), last - first - 1, bytes, needle);
      rest = Buffer.from(chunk.subarray(last + 1));
    }
    yield* matchingLines(rest, rest.length, bytes, needle);
  }
}

/** The lines of `data[0, end)` (UTF-8, split as {@link splitLines} does) that contain `needle` (`bytes` in latin1). */
function* matchingLines(data: Buffer, end: number, bytes: Buffer, needle: string): Generator<string> {
  let from = 0;
  for (;;) {
    const hit = data.indexOf(bytes, from);
    if (hit < 0 || hit >= end) return;
    const start = data.lastIndexOf(0x0a, hit) + 1;
    let stop = data.indexOf(0x0a, hit);
    if (stop < 0 || stop > end) stop = end;
    for (const line of splitLines(data.toString('utf8', start, stop))) if (line.includes(needle)) yield line;
    from = stop + 1;
  }
}

/** Splits text on `\n`, `\r\n` and lone `\r` (the text ends at a line break or at the end of input). */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (!text.includes('\r')) return lines;
  const out: string[] = [];
  for (const line of lines) {
    const body = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (body.includes('\r')) out.push(...body.split('\r'));
    else out.push(body);
  }
  return out;
}
