import { eventsSchemaFor, MAX_JSON_DEPTH, scoreRequestSchema } from '#domain/contract';
import { ValidationError } from '#domain/errors';
import { REDACTED } from '#domain/pan';
import { parseBody, statusOf } from '#shared/http';
import { validRequest } from '../support/fakes';

const PAN = '4111111111111111';

/** The ValidationError parseBody throws for a raw body, or undefined when it parses. */
function rejection(
  body: string,
  schema: Parameters<typeof parseBody>[1] = scoreRequestSchema,
): ValidationError | undefined {
  try {
    parseBody({ body, isBase64Encoded: false }, schema);
    return undefined;
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
}

/** Everything a rejection shows: what goes into the 400 body and the `rejected` log line. */
function shown(error: ValidationError | undefined): string {
  return JSON.stringify({ code: error?.code, message: error?.message, field: error?.field });
}

describe('parseBody: nesting depth', () => {
  it.each([
    ['[ x 3,999', '['.repeat(3999)],
    ['{"a": x 3,000', '{"a":'.repeat(3000)],
    ['well-formed, 33 levels', `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`],
    [
      'deep in an unknown field',
      JSON.stringify({ ...validRequest, x: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) }),
    ],
  ])('answers 400 TOO_DEEP for %s', (_name, body) => {
    // act
    const error = rejection(body);
    // assert
    expect(statusOf(error)).toBe(400);
    expect(error).toMatchObject({ code: 'TOO_DEEP' });
  });

  it('accepts 32 levels (then judges the content)', () => {
    // prepare
    const body = JSON.stringify({ ...validRequest, x: JSON.parse(`${'['.repeat(31)}${']'.repeat(31)}`) });
    // act
    const error = rejection(body);
    // assert
    expect(error?.code).toBe('UNKNOWN_FIELD');
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    // prepare
    const body = JSON.stringify({ ...validRequest, deviceId: 'd', customerId: 'c' }).replace(
      '"c"',
      JSON.stringify(`c\\"${'['.repeat(100)}`),
    );
    // act
    const error = rejection(body);
    // assert: the brackets were string content, so the schema (not the depth check) answered
    expect(error?.code).toBe('INVALID_FIELD');
    expect(error?.field).toBe('customerId');
  });
});

describe('parseBody: no error repeats a card number', () => {
  it.each([
    ['a key', { [PAN]: 'x' }, REDACTED],
    ['a nested key', { ...validRequest, meta: { [`pan ${PAN}`]: 1 } }, `meta.${REDACTED}`],
    ['a dotted key', { ...validRequest, meta: { '4111.1111.1111.1111': 1 } }, `meta.${REDACTED}`],
    ['a value', { ...validRequest, cardId: PAN }, 'cardId'],
    [
      'an event in a batch',
      { events: [{ type: 'label', cardId: '4111 1111 1111 1111' }] },
      'events.0.cardId',
    ],
  ])('PAN_DETECTED for %s names the path with the number redacted', (_name, body, field) => {
    // act
    const error = rejection(JSON.stringify(body), eventsSchemaFor);
    // assert
    expect(statusOf(error)).toBe(400);
    expect(error).toMatchObject({ code: 'PAN_DETECTED', field });
    expect(shown(error)).not.toMatch(/1111/);
  });

  it('UNKNOWN_FIELD names unknown keys, which hold no card number once the PAN check passed', () => {
    // act
    const error = rejection(JSON.stringify({ ...validRequest, '4111.1111': { '1111.1111': 1 } }));
    // assert
    expect(error).toMatchObject({ code: 'UNKNOWN_FIELD', message: 'unknown field(s): 4111.1111' });
  });

  it('schema messages never quote the value', () => {
    // prepare: invalid values, each with digits that would matter if echoed
    const bodies = [
      { ...validRequest, channel: '1234567890' },
      { ...validRequest, currency: '1234567890' },
      { ...validRequest, timestamp: '1234567890' },
      { ...validRequest, ip: '1234567890' },
      { type: '1234567890', eventId: 'e' },
    ];
    for (const body of bodies) {
      // act
      const error = rejection(JSON.stringify(body), eventsSchemaFor) ?? rejection(JSON.stringify(body));
      // assert
      expect(statusOf(error)).toBe(400);
      expect(shown(error)).not.toContain('1234567890');
    }
  });
});
