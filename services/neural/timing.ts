/**
 * The twin's bench-only timing header (`--timing`): each inference answer carries the twin's
 * phase marks on the machine's monotonic clock, so a client can split a round trip into wire and
 * twin time. Not part of the protocol (Triton sends no such header), so off unless asked for.
 */

/** The bench-only response header of `TwinOptions.timing`. */
export const TWIN_TIMING_HEADER = 'neural-twin-timing';

/**
 * Converts `performance.now()` to the system's monotonic clock in microseconds
 * (`process.hrtime`, CLOCK_MONOTONIC on Linux), which every process on the machine shares:
 * marks taken in the twin and in its client then sit on one time line.
 */
export function monotonicMicroseconds(now = performance.now()): number {
  return now * 1000 + MONOTONIC_OFFSET_US;
}
/** Read between two `performance.now()` calls (the first one warms it up), so the pair is µs-close. */
const MONOTONIC_OFFSET_US = ((): number => {
  performance.now();
  const before = performance.now();
  const monotonic = Number(process.hrtime.bigint() / 1000n);
  return monotonic - ((before + performance.now()) / 2) * 1000;
})();

/**
 * One inference request's marks in the twin, as monotonic microseconds: `r` request event
 * (headers parsed), `b` body read, `p` request parsed and validated, `s` its batch started, `c`
 * the batch computed, `w` the response handed to the socket; `n` rows in the batch.
 */
export interface TwinTiming {
  r: number;
  b: number;
  p: number;
  s: number;
  c: number;
  w: number;
  n: number;
}

/** Reads a {@link TWIN_TIMING_HEADER} value (`r=…,b=…,…`). */
export function parseTwinTiming(value: string | string[] | undefined): TwinTiming | undefined {
  if (typeof value !== 'string') return undefined;
  const marks = Object.fromEntries(
    value.split(',').map((pair) => {
      const [key, number] = pair.split('=');
      return [key, Number(number)];
    }),
  ) as Partial<TwinTiming>;
  const keys = ['r', 'b', 'p', 's', 'c', 'w', 'n'] as const;
  return keys.every((k) => Number.isFinite(marks[k])) ? (marks as TwinTiming) : undefined;
}

/**
 * The header value for one answer: its marks as `performance.now()` milliseconds (`arrived`,
 * `bodyRead`, `parsed`, the batch's start and compute in microseconds as the batcher reports
 * them), `written` taken now.
 */
export function twinTimingHeader(marks: {
  readonly arrived: number;
  readonly bodyRead: number;
  readonly parsed: number;
  readonly batchStartedMicroseconds: number;
  readonly computeMicroseconds: number;
  readonly batchRows: number;
}): string {
  const mark = (ms: number) => monotonicMicroseconds(ms).toFixed(1);
  const batchStarted = marks.batchStartedMicroseconds / 1000;
  const batchComputed = batchStarted + marks.computeMicroseconds / 1000;
  return `r=${mark(marks.arrived)},b=${mark(marks.bodyRead)},p=${mark(marks.parsed)},s=${mark(batchStarted)},c=${mark(batchComputed)},w=${mark(performance.now())},n=${marks.batchRows}`;
}
