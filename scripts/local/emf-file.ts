/**
 * The local stand-in for CloudWatch Logs' metric extraction: a front worker's EMF lines (what
 * Powertools Metrics and `#shared/emf-lines` print on stdout, exactly as in Lambda) go to a file
 * of their own, `<metrics dir>/<start>-worker-<pid>.jsonl`, one file per worker as Lambda keeps
 * one log stream per execution environment. Every other line (logs) still goes to stdout. The
 * judge's EMF adapter (`#adapters/emf-judge-source`) reads these files.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/** `text` split into the EMF documents it holds and everything else, each kept whole-line. */
export function splitEmfLines(text: string): { metrics: string; other: string } {
  // Fast path: a log line (or partial write) without the EMF key passes untouched.
  if (!text.includes('{"_aws":')) return { metrics: '', other: text };
  let metrics = '';
  let other = '';
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    const line = end < 0 ? text.slice(start) : text.slice(start, end + 1);
    if (line.startsWith('{"_aws":')) metrics += end < 0 ? `${line}\n` : line;
    else other += line;
    start = end < 0 ? text.length : end + 1;
  }
  return { metrics, other };
}

/** The file of one worker's metrics. */
export function metricsFileOf(dir: string, startedAt: number, pid: number): string {
  return join(dir, `${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}-worker-${pid}.jsonl`);
}

/**
 * Diverts the EMF lines this process writes to `stream` (its stdout) into `path` from now on.
 * Powertools writes each document with one `write` of a whole line, `#shared/emf-lines` whole
 * lines too, so a write is split at its newlines without buffering across writes.
 */
export function divertEmfLines(
  stream: NodeJS.WriteStream,
  path: string,
): { readonly file: WriteStream; close(): Promise<void> } {
  mkdirSync(join(path, '..'), { recursive: true });
  const file = createWriteStream(path, { flags: 'a' });
  const original = stream.write.bind(stream);
  const divert = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    const text =
      typeof chunk === 'string'
        ? chunk
        : Buffer.from(chunk as Uint8Array).toString(
            typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
          );
    const { metrics, other } = splitEmfLines(text);
    if (metrics !== '') file.write(metrics);
    if (other !== '') return original(other, done as (error?: Error | null) => void);
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  };
  stream.write = divert as typeof stream.write;
  return {
    file,
    close: () =>
      new Promise<void>((resolve) => {
        stream.write = original as typeof stream.write;
        file.end(() => resolve());
      }),
  };
}

/**
 * Runs one call of `handler` at a time, the next waiting for the previous, as a Lambda execution
 * environment does. Needed wherever a function's metrics are kept: Powertools Metrics holds one
 * request's dimension set and values until its flush, so two requests in flight in one instance
 * mix them (the first flush takes the second's early values and clears its dimensions, and the
 * second's later values go out without `functionVersion`/`modelVersion`).
 */
export function oneRequestAtATime<A extends unknown[], R>(
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return function serialized(...args: A): Promise<R> {
    const run = tail.then(() => handler(...args));
    tail = run.catch(() => undefined);
    return run;
  };
}
