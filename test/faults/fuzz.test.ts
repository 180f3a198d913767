/**
 * Fuzz suite: hostile JSON bodies through the real score and events handlers (real parsing,
 * validation and scoring; fake model, feature store and queue), with every log line the
 * Powertools logger writes at DEBUG captured. Promises kept: no 5xx, no call that does not
 * answer within its bound, and no card number that was sent shows up in an answer or a log.
 *
 * `FUZZ_BODIES` (default 10,000 per endpoint) and `FUZZ_SEED` reproduce a run.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { scoreTransaction } from '#domain/score';
import type { TransactionEvent } from '#domain/types';
import { createEventsHandler } from '../../functions/events/handler';
import { createHandler } from '../../functions/score/handler';
import { lambdaContext } from '../../scripts/local/api-gateway';
import { scoringDeps, validRequest } from '../support/fakes';
import { ALL_TEST_CARDS, anyGrouping, inContext, printedForms } from '../support/pan-arbitraries';

const BODIES_PER_ENDPOINT = Number(process.env.FUZZ_BODIES ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
/** A handler call that has not answered by then counts as a hang. */
const CALL_BOUND_MS = 2_000;

/** Serialized JSON text and the card numbers (written forms and bare digits) inside it. */
interface Piece {
  readonly text: string;
  readonly pans: readonly string[];
}

const piece = (text: string, pans: readonly string[] = []): Piece => ({ text, pans });
const str = (value: string): Piece => piece(JSON.stringify(value));

/** A card number as people write it, inside a string, recorded with its bare digits. */
const panString: fc.Arbitrary<Piece> = fc
  .oneof(anyGrouping, fc.constantFrom(...ALL_TEST_CARDS.flatMap(printedForms)))
  .chain((written) =>
    inContext(written).map((text) => {
      const digits = written.replace(/\D/g, '');
      return piece(JSON.stringify(text), written === digits ? [digits] : [written, digits]);
    }),
  );

/** A card number as a JSON number literal (19 digits do not survive a double: still sent). */
const panNumber: fc.Arbitrary<Piece> = fc.constantFrom(...ALL_TEST_CARDS).map((pan) => piece(pan, [pan]));

const SPECIAL_STRINGS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '__defineGetter__',
  '',
  'null',
  'undefined',
  'NaN',
  '\u0000',
  '\ud800',
  '\ufeff',
  '‮',
  '𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏', // mathematical digits: not ASCII, not a PAN to the network
  '٤١١١١١١١١١١١١١١١', // Arabic-Indic digits
  '2026-11-23T10:00:00Z',
  '1e400',
];

const hostileString: fc.Arbitrary<Piece> = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 24 }),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.constantFrom(...SPECIAL_STRINGS),
    fc.uuid(),
    fc.ulid(),
    fc.stringMatching(/^[0-9 ._:/-]{10,30}$/),
    fc.constant('x'.repeat(9000)),
  )
  .map(str);

const hostileNumber: fc.Arbitrary<Piece> = fc
  .oneof(
    fc.constantFrom(
      '1e400',
      '-1e400',
      '123456789012345678901234567890',
      '-0',
      '0.1e-400',
      '1E+2',
      '9007199254740993',
      '4.111111111111111e15',
      '100000000001',
      '1e11',
    ),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
    fc.integer().map(String),
  )
  .map((text) => piece(text));

const leaf: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 2, arbitrary: panString },
  { weight: 1, arbitrary: panNumber },
  { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null').map((t) => piece(t)) },
);

const FIELD_NAMES = [
  ...Object.keys(validRequest),
  'deviceId',
  'ip',
  'customerId',
  'type',
  'eventId',
  'outcome',
  'label',
  'transactionTimestamp',
  'events',
];

const hostileKey: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FIELD_NAMES).map(str) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_STRINGS).map(str) },
  { weight: 2, arbitrary: panString },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).map(str) },
);

function object(entries: ReadonlyArray<readonly [Piece, Piece]>): Piece {
  return piece(
    `{${entries.map(([k, v]) => `${k.text}:${v.text}`).join(',')}}`,
    entries.flatMap(([k, v]) => [...k.pans, ...v.pans]),
  );
}

function array(items: readonly Piece[]): Piece {
  return piece(
    `[${items.map((i) => i.text).join(',')}]`,
    items.flatMap((i) => i.pans),
  );
}

/** Any JSON value up to a few levels, with hostile keys and leaves. */
const value: fc.Arbitrary<Piece> = fc.letrec<{ value: Piece; arr: Piece; obj: Piece }>((tie) => ({
  value: fc.oneof({ maxDepth: 3, depthIdentifier: 'json' }, leaf, tie('arr'), tie('obj')),
  arr: fc.array(tie('value'), { maxLength: 4 }).map(array),
  obj: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map(object),
})).value;

/**
 * A known-good object, mutated: fields dropped or replaced by hostile values, extra entries
 * (PAN keys, prototype keys), a duplicate key whose second value wins in `JSON.parse`.
 */
function mutated(base: Record<string, unknown>): fc.Arbitrary<Piece> {
  const names = Object.keys(base);
  return fc
    .record({
      clean: fc.boolean(),
      drop: fc.subarray(names, { maxLength: 2 }),
      overrides: fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 2 }),
      extras: fc.array(fc.tuple(hostileKey, value), { maxLength: 2 }),
      duplicate: fc.option(fc.tuple(fc.constantFrom(...names), value), { freq: 4 }),
    })
    .map(({ clean, drop, overrides, extras, duplicate }) => {
      const fields = new Map<string, Piece>(names.map((name) => [name, str(String(base[name]))]));
      for (const name of names) {
        if (typeof base[name] === 'number') fields.set(name, piece(String(base[name])));
      }
      if (clean) return object([...fields].map(([k, v]) => [str(k), v]));
      for (const name of drop) fields.delete(name);
      for (const [name, v] of overrides) fields.set(name, v);
      const entries: Array<readonly [Piece, Piece]> = [...fields].map(([k, v]) => [str(k), v]);
      entries.push(...extras);
      if (duplicate) entries.push([str(duplicate[0]), duplicate[1]]);
      return object(entries);
    });
}

/** Hostile framing around a body: deep nesting, truncation, a BOM, raw garbage. */
function framed(body: fc.Arbitrary<Piece>): fc.Arbitrary<Piece> {
  return fc.oneof(
    { weight: 12, arbitrary: body },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          body,
          fc.integer({ min: 20, max: 4000 }),
          fc.constantFrom('[', '{"a":', '[{"x":'),
          fc.boolean(),
        )
        .map(([b, depth, open, closed]) => {
          const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
          return piece(`${open.repeat(depth)}${b.text}${closed ? close.repeat(depth) : ''}`, b.pans);
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(body, fc.nat())
        .map(([b, cut]) => piece(b.text.slice(0, cut % (b.text.length + 1)), b.pans)),
    },
    { weight: 1, arbitrary: body.map((b) => piece(`\ufeff${b.text}`, b.pans)) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        value,
        fc.string({ unit: 'binary', maxLength: 64 }).map((t) => piece(t)),
      ),
    },
  );
}

const scoreBodies = framed(mutated({ ...validRequest, deviceId: 'dev-1' }));

const authorization = {
  type: 'authorization',
  eventId: 'evt-1',
  transactionId: 'tx-1',
  cardId: 'card_000001',
  merchantId: 'm_00001',
  mcc: '5411',
  amount: 4599,
  currency: 'EUR',
  country: 'DE',
  channel: 'ecommerce',
  outcome: 'approved',
  timestamp: '2026-11-23T10:00:00.000Z',
};
const label = {
  type: 'label',
  eventId: 'evt-2',
  transactionId: 'tx-1',
  cardId: 'card_000001',
  merchantId: 'm_00001',
  label: 'chargeback',
  timestamp: '2026-11-24T10:00:00.000Z',
  transactionTimestamp: '2026-11-23T10:00:00.000Z',
};
const oneEvent = fc.oneof(mutated(authorization), mutated(label));
const eventsBodies = framed(
  fc.oneof(
    oneEvent,
    fc
      .tuple(
        fc.array(oneEvent, { minLength: 0, maxLength: 30 }),
        fc.array(fc.tuple(hostileKey, value), { maxLength: 1 }),
      )
      .map(([events, extras]) => object([[str('events'), array(events)], ...extras])),
  ),
);

interface Tally {
  bodies: number;
  s2xx: number;
  s4xx: number;
  s5xx: number;
  hangs: number;
  pansSent: number;
  logLines: number;
  leaks: string[];
  fiveHundreds: string[];
}

/** Everything written to stdout/stderr (Powertools logs and EMF) while `work` runs, chunk by chunk. */
const captured: string[] = [];

function captureOutput(): () => void {
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    captured.push(String(chunk));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    captured.push(String(chunk));
    return true;
  });
  return () => {
    out.mockRestore();
    err.mockRestore();
  };
}

function apiEvent(body: string, path: string): APIGatewayProxyEvent {
  return {
    body,
    isBase64Encoded: false,
    httpMethod: 'POST',
    path,
    headers: {},
  } as unknown as APIGatewayProxyEvent;
}

async function bounded(call: Promise<APIGatewayProxyResult>): Promise<APIGatewayProxyResult | 'hang'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), CALL_BOUND_MS);
  });
  try {
    return await Promise.race([call, hang]);
  } finally {
    clearTimeout(timer);
  }
}

async function fuzz(
  name: string,
  path: string,
  bodies: fc.Arbitrary<Piece>,
  handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>,
): Promise<Tally> {
  const tally: Tally = {
    bodies: 0,
    s2xx: 0,
    s4xx: 0,
    s5xx: 0,
    hangs: 0,
    pansSent: 0,
    logLines: 0,
    leaks: [],
    fiveHundreds: [],
  };
  const samples = fc.sample(bodies, { numRuns: BODIES_PER_ENDPOINT, seed: SEED });
  const started = performance.now();
  const restoreOutput = captureOutput();
  try {
    for (const body of samples) {
      captured.length = 0;
      const result = await bounded(handler(apiEvent(body.text, path)));
      const logs = captured.join('');
      tally.bodies += 1;
      tally.logLines += logs.split('\n').filter(Boolean).length;
      if (result === 'hang') {
        tally.hangs += 1;
        continue;
      }
      if (result.statusCode >= 500) {
        tally.s5xx += 1;
        tally.fiveHundreds.push(`${result.statusCode} ${result.body} <- ${body.text.slice(0, 200)}`);
      } else if (result.statusCode >= 400) tally.s4xx += 1;
      else tally.s2xx += 1;
      tally.pansSent += body.pans.filter((pan) => /^\d+$/.test(pan)).length;
      for (const pan of body.pans) {
        if (result.body.includes(pan)) tally.leaks.push(`${name} response: ${pan}`);
        if (logs.includes(pan)) tally.leaks.push(`${name} log: ${pan}`);
      }
    }
  } finally {
    restoreOutput();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(
    `fuzz ${name}: ${tally.bodies} bodies, 2xx ${tally.s2xx} / 4xx ${tally.s4xx} / 5xx ${tally.s5xx}, hangs ${tally.hangs}, ` +
      `${tally.pansSent} card numbers sent, ${tally.logLines} log lines at DEBUG, ${tally.leaks.length} leaks, ${seconds} s (seed ${SEED})\n`,
  );
  return tally;
}

function observability(service: string) {
  return {
    logger: new Logger({ serviceName: service, logLevel: 'DEBUG' }),
    metrics: new Metrics({ namespace: 'FraudScoringFuzz', serviceName: service }),
  };
}

describe(`fuzz: ${BODIES_PER_ENDPOINT} hostile bodies per endpoint`, () => {
  it('POST /v1/score: no 5xx, no hang, no card number in any answer or log line', async () => {
    // prepare
    const deps = scoringDeps();
    const handler = createHandler({
      score: (request) => scoreTransaction(deps, request),
      ...observability('score-fuzz'),
      dimensions: { functionVersion: '1', modelVersion: '0.0.1' },
    });
    // act
    const tally = await fuzz('score', '/v1/score', scoreBodies, (event) =>
      handler(event, lambdaContext('score')),
    );
    // assert
    expect(tally.fiveHundreds.slice(0, 5)).toEqual([]);
    expect(tally.hangs).toBe(0);
    expect(tally.leaks.slice(0, 5)).toEqual([]);
    expect(tally.bodies).toBe(BODIES_PER_ENDPOINT);
    expect(tally.s2xx).toBeGreaterThan(0); // the fuzz reaches the scoring path…
    expect(tally.pansSent).toBeGreaterThan(BODIES_PER_ENDPOINT / 10); // …and sends card numbers
  }, 120_000);

  it('POST /v1/events: no 5xx, no hang, no card number in any answer or log line', async () => {
    // prepare
    const queued: TransactionEvent[] = [];
    const handler = createEventsHandler({
      queue: {
        send: async (events) => {
          queued.push(...events);
        },
      },
      ...observability('events-fuzz'),
    });
    // act
    const tally = await fuzz('events', '/v1/events', eventsBodies, (event) =>
      handler(event, lambdaContext('events')),
    );
    // assert
    expect(tally.fiveHundreds.slice(0, 5)).toEqual([]);
    expect(tally.hangs).toBe(0);
    expect(tally.leaks.slice(0, 5)).toEqual([]);
    expect(tally.s2xx).toBeGreaterThan(0);
    expect(queued.length).toBeGreaterThan(0);
    expect(JSON.stringify(queued)).not.toMatch(/4111111111111111|5555555555554444/);
    expect(tally.pansSent).toBeGreaterThan(BODIES_PER_ENDPOINT / 10);
  }, 120_000);
});

describe('deep nesting regressions (issue 8, item 4)', () => {
  it.each([
    ['/v1/score', '['.repeat(3999)],
    ['/v1/score', '{"a":'.repeat(3000)],
    ['/v1/events', '['.repeat(3999)],
    ['/v1/events', '{"a":'.repeat(3000)],
  ])('%s answers 400 TOO_DEEP for %#', async (path, body) => {
    // prepare
    const { logger, metrics } = observability('deep');
    const handler =
      path === '/v1/score'
        ? createHandler({
            score: (request) => scoreTransaction(scoringDeps(), request),
            logger,
            metrics,
            dimensions: { functionVersion: '1', modelVersion: '0.0.1' },
          })
        : createEventsHandler({ queue: { send: async () => undefined }, logger, metrics });
    // act
    const restoreOutput = captureOutput();
    const result = (await handler(apiEvent(body, path), lambdaContext('deep')).finally(
      restoreOutput,
    )) as APIGatewayProxyResult;
    // assert
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.code).toBe('TOO_DEEP');
  });
});
