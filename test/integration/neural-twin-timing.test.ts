/**
 * The twin's bench-only timing header (`--timing`): absent unless asked for (the protocol's
 * answers stay exactly Triton's), and, when asked for, marks on the machine's monotonic clock
 * in the order a request goes through the twin.
 */
import fc from 'fast-check';
import { encodeInferRequest } from '#adapters/neural-codec';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';
import { type RunningTwin, startTwin } from '../../services/neural/server';
import { monotonicMicroseconds, parseTwinTiming, TWIN_TIMING_HEADER } from '../../services/neural/timing';
import { startTwinProcess, type TwinProcess } from '../support/neural-twin';

const REPOSITORY = 'models/fraud-seq/1.0.0/triton';
const ROW = SEQUENCE_STEPS * SEQUENCE_WIDTH;

const twins: RunningTwin[] = [];
const processes: TwinProcess[] = [];
afterAll(async () => {
  for (const twin of twins) await twin.close();
  for (const process of processes) await process.stop();
});

/**
 * One binary inference against a twin in this process, or (`process`) in its own process with
 * `--timing`, where its marks come from another process's clock.
 */
async function infer(timing: boolean, process = false) {
  let twin: { url: string };
  if (process) {
    const started = await startTwinProcess(['--timing']);
    processes.push(started);
    twin = started;
  } else {
    const started = await startTwin({ repository: REPOSITORY, port: 0, timing });
    twins.push(started);
    twin = started;
  }
  const { body, headers } = encodeInferRequest(new Float32Array(ROW).fill(0.25), 'binary');
  const before = monotonicMicroseconds();
  const response = await fetch(`${twin.url}/v2/models/fraud-seq/infer`, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
    body,
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const after = monotonicMicroseconds();
  return { response, bytes, before, after };
}

describe('twin timing header', () => {
  it('is absent unless the twin runs with timing', async () => {
    // prepare / act
    const { response, bytes } = await infer(false);
    // assert
    expect(response.status).toBe(200);
    expect(bytes.length).toBeGreaterThan(4);
    expect(response.headers.get(TWIN_TIMING_HEADER)).toBeNull();
  });

  it('with --timing, marks the phases in order on the monotonic clock all processes share, inside the round trip', async () => {
    // prepare / act: the twin in its own process, so its clock pairing is not this one's
    const { response, before, after } = await infer(true, true);
    const marks = parseTwinTiming(response.headers.get(TWIN_TIMING_HEADER) ?? undefined);
    // assert
    expect(response.status).toBe(200);
    expect(marks).toBeDefined();
    const { r, b, p, s, c, w, n } = marks as NonNullable<typeof marks>;
    // 0.1 µs of rounding in the header, and the two clocks' pairing in each process
    const slack = 50;
    expect(r).toBeGreaterThanOrEqual(before - slack);
    for (const [earlier, later] of [
      [r, b],
      [b, p],
      [p, s],
      [s, c],
      [c, w],
    ] as const) {
      expect(later).toBeGreaterThanOrEqual(earlier - 1);
    }
    expect(w).toBeLessThanOrEqual(after + slack);
    expect(n).toBe(1);
  });
});

describe('parseTwinTiming', () => {
  it('reads a complete header and refuses a missing, partial or non-numeric one', () => {
    // prepare
    const complete = 'r=1.5,b=2,p=3,s=4,c=5,w=6.5,n=1';
    // act / assert
    expect(parseTwinTiming(complete)).toEqual({ r: 1.5, b: 2, p: 3, s: 4, c: 5, w: 6.5, n: 1 });
    expect(parseTwinTiming(undefined)).toBeUndefined();
    expect(parseTwinTiming(['r=1'])).toBeUndefined();
    expect(parseTwinTiming('r=1,b=2,p=3,s=4,c=5,w=6')).toBeUndefined();
    expect(parseTwinTiming('r=1,b=2,p=3,s=x,c=5,w=6,n=1')).toBeUndefined();
  });

  it('reads back any marks the twin writes (property)', () => {
    // prepare: seven finite numbers, written as the twin writes them
    const mark = fc.double({ min: 0, max: 1e12, noNaN: true });
    fc.assert(
      fc.property(fc.tuple(mark, mark, mark, mark, mark, mark, fc.integer({ min: 1, max: 64 })), (values) => {
        const [r, b, p, s, c, w, n] = values.map((v, i) => (i < 6 ? Number(v.toFixed(1)) : v));
        // act
        const marks = parseTwinTiming(`r=${r},b=${b},p=${p},s=${s},c=${c},w=${w},n=${n}`);
        // assert
        expect(marks).toEqual({ r, b, p, s, c, w, n });
      }),
    );
  });

  it('never throws, and only ever returns finite marks (property)', () => {
    // prepare: any text at all
    fc.assert(
      fc.property(fc.string(), (text) => {
        // act
        const marks = parseTwinTiming(text);
        // assert
        if (marks !== undefined) {
          for (const key of ['r', 'b', 'p', 's', 'c', 'w', 'n'] as const)
            expect(Number.isFinite(marks[key])).toBe(true);
        }
      }),
    );
  });
});
