import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { scoreRequestSchema, type ValidScoreRequest } from '#domain/contract';
import { requestHash } from '#domain/idempotency';
import { parseBody } from '#shared/http';
import { checkScoreRequest } from '../../functions/score/request-check';
import { validRequest } from '../support/fakes';

/**
 * The idempotency hash is taken over the parsed request in a canonical form (keys sorted), not
 * over the raw body: a retry that re-serializes the same request (other key order, other
 * whitespace, escaped characters) must replay the stored answer, not get 409
 * IDEMPOTENCY_MISMATCH. These properties pin that, and pin the bytes hashed, so that answers
 * stored before a deploy stay replayable after it.
 */

/** Valid requests with hostile but allowed strings (unicode, quotes, backslashes) and the optional fields. */
const idChars = fc.constantFrom(...'abcXYZ019_-.:'.split(''));
const id = fc.string({ unit: idChars, minLength: 1, maxLength: 40 });
const requestArb: fc.Arbitrary<ValidScoreRequest> = fc
  .record(
    {
      transactionId: id,
      cardId: id,
      merchantId: id,
      amount: fc.integer({ min: 1, max: 1_000_000_000 }),
      deviceId: id,
      customerId: id,
      ip: fc.constantFrom('10.0.0.1', '::1', '2001:db8::1'),
    },
    { requiredKeys: ['transactionId', 'cardId', 'merchantId', 'amount'] },
  )
  .map((fields) => scoreRequestSchema.parse({ ...validRequest, ...fields }));

/** The same object with its keys in another order. */
function reordered(request: ValidScoreRequest, order: number[]): ValidScoreRequest {
  const entries = Object.entries(request);
  const keyed = entries.map((entry, i) => ({ entry, rank: order[i] ?? 0 }));
  keyed.sort((a, b) => a.rank - b.rank);
  return Object.fromEntries(keyed.map(({ entry }) => entry)) as ValidScoreRequest;
}

/** The body a client could send for the request: indented, keys reordered, every character \u-escaped. */
function reserialized(request: ValidScoreRequest, order: number[]): string {
  const text = JSON.stringify(reordered(request, order), null, 2);
  return text.replace(/"([^"\\]*)"/g, (_, inner: string) => {
    const escaped = [...inner].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    return `"${escaped}"`;
  });
}

function parsed(body: string): ValidScoreRequest {
  return parseBody(
    { body, isBase64Encoded: false } as APIGatewayProxyEvent,
    scoreRequestSchema,
    checkScoreRequest,
  );
}

describe('requestHash', () => {
  it('is the SHA-256 (base64url) of the sorted [key, value] pairs as JSON, as stored answers were hashed', () => {
    fc.assert(
      fc.property(requestArb, (request) => {
        // prepare
        const pairs = Object.entries(request)
          .filter(([, value]) => value !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : 1));
        const expected = createHash('sha256').update(JSON.stringify(pairs)).digest('base64url');
        // act
        const hash = requestHash(request);
        // assert
        expect(hash).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('does not depend on key order, whitespace or escaping of the body that carried the request', () => {
    fc.assert(
      fc.property(requestArb, fc.array(fc.integer(), { minLength: 12, maxLength: 12 }), (request, order) => {
        // prepare
        const body = reserialized(request, order);
        // act
        const fromBody = requestHash(parsed(body));
        // assert
        expect(body).not.toBe(JSON.stringify(request));
        expect(fromBody).toBe(requestHash(request));
      }),
      { numRuns: 200 },
    );
  });

  it('treats an optional field set to undefined as absent', () => {
    // prepare
    const request = scoreRequestSchema.parse(validRequest);
    // act
    const withUndefined = requestHash({ ...request, deviceId: undefined, ip: undefined });
    // assert
    expect(withUndefined).toBe(requestHash(request));
  });

  it('changes with any field value, so a different body under the same transactionId is a mismatch', () => {
    fc.assert(
      fc.property(
        requestArb,
        fc.constantFrom('cardId', 'merchantId', 'amount', 'deviceId', 'customerId'),
        (request, field) => {
          // prepare
          const current = request[field as keyof ValidScoreRequest];
          const changed = {
            ...request,
            [field]: typeof current === 'number' ? current + 1 : `${current ?? ''}x`,
          } as ValidScoreRequest;
          // act
          const hashes = [requestHash(request), requestHash(changed)];
          // assert
          expect(hashes[1]).not.toBe(hashes[0]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
