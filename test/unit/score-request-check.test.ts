import fc from 'fast-check';
import { scoreRequestSchema } from '#domain/contract';
import { CHANNELS } from '#domain/types';
import { parseBody } from '#shared/http';
import { checkScoreRequest } from '../../functions/score/request-check';
import { validRequest } from '../support/fakes';

/** zod's verdict: the parsed value, or undefined when the schema rejects. */
function zodParse(json: unknown): unknown {
  const parsed = scoreRequestSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** The precheck may decline anything, but what it accepts zod must accept, as the same object. */
function agreesWithZod(json: unknown): void {
  const checked = checkScoreRequest(json);
  if (checked === undefined) return;
  const expected = zodParse(json);
  expect(expected).toBeDefined();
  expect(checked).toStrictEqual(expected);
  expect(Object.keys(checked)).toEqual(Object.keys(expected as object));
}

const FIELDS = Object.keys(scoreRequestSchema.shape);

/** Values near the edges of each rule, and some that break them. */
const fieldValue = fc.oneof(
  fc.constantFrom(
    '',
    'a',
    'x'.repeat(128),
    'x'.repeat(129),
    'tx-1',
    'tx 1',
    'tx/1',
    'ü',
    '5411',
    '541',
    '54111',
    '٥٤١١',
    'EUR',
    'eur',
    'EURO',
    'DE',
    'D',
    ...CHANNELS,
    'ECOMMERCE',
    '2026-12-01T06:00:00Z',
    '2026-12-01T06:00:00.123+01:00',
    '2026-02-29T00:00:00Z',
    '2024-02-29T00:00:00Z',
    '2026-12-01T06:00:00',
    '2026-12-01 06:00:00Z',
    '2026-13-01T06:00:00Z',
    '1.2.3.4',
    '::1',
    '256.1.1.1',
  ),
  fc.constantFrom(0, -1, 1, 2500, 1.5, 1e11, 1e11 + 1, 2 ** 53, Number.MAX_VALUE, -0),
  fc.string({ maxLength: 140 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);

describe('checkScoreRequest', () => {
  it('accepts a valid request as zod parses it, optional identifiers included', () => {
    // prepare
    const bodies = [
      validRequest,
      { ...validRequest, deviceId: 'dev-1' },
      { ...validRequest, customerId: 'c-1', deviceId: 'dev-1' },
      Object.fromEntries(Object.entries(validRequest).reverse()),
    ];
    for (const body of bodies) {
      // act
      const checked = checkScoreRequest(JSON.parse(JSON.stringify(body)));
      // assert
      expect(checked).toBeDefined();
      agreesWithZod(JSON.parse(JSON.stringify(body)));
    }
  });

  it('leaves a request with an ip, an unknown field or a missing field to the schema', () => {
    // prepare
    const { amount: _dropped, ...missing } = validRequest;
    const bodies = [{ ...validRequest, ip: '1.2.3.4' }, { ...validRequest, extra: 1 }, missing];
    // act
    const checked = bodies.map((body) => checkScoreRequest(body));
    // assert
    expect(checked).toEqual([undefined, undefined, undefined]);
  });

  it('never accepts what zod rejects, nor differs from what zod returns (one field changed)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS, 'surprise', '__proto__'), fieldValue, (field, value) => {
        // prepare
        const body = JSON.parse(JSON.stringify({ ...validRequest, [field]: value }));
        // act, assert
        agreesWithZod(body);
      }),
      { numRuns: 3000 },
    );
  });

  it('never accepts what zod rejects, on arbitrary JSON and records of the known fields', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record(Object.fromEntries(FIELDS.map((f) => [f, fieldValue])), {
            requiredKeys: [],
          }),
        ),
        (json) => {
          // act, assert
          agreesWithZod(json);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('keeps parseBody answering errors from the schema: the precheck only shortens the valid path', () => {
    // prepare
    const body = JSON.stringify({ ...validRequest, amount: -5 });
    const valid = JSON.stringify(validRequest);
    // act
    const withCheck = () =>
      parseBody({ body, isBase64Encoded: false }, scoreRequestSchema, checkScoreRequest);
    const without = () => parseBody({ body, isBase64Encoded: false }, scoreRequestSchema);
    const parsed = parseBody({ body: valid, isBase64Encoded: false }, scoreRequestSchema, checkScoreRequest);
    // assert
    expect(withCheck).toThrow(expect.objectContaining({ code: 'INVALID_FIELD', field: 'amount' }));
    expect(without).toThrow(expect.objectContaining({ code: 'INVALID_FIELD', field: 'amount' }));
    expect(parsed).toStrictEqual(scoreRequestSchema.parse(JSON.parse(valid)));
  });
});
