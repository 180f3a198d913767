import { scoreRequestSchema } from '#domain/contract';
import { validRequest } from '../support/fakes';

describe('scoreRequestSchema', () => {
  it('accepts a valid request with optional fields', () => {
    // prepare
    const request = { ...validRequest, deviceId: 'dev_1', ip: '192.0.2.1' };
    // act
    const parsed = scoreRequestSchema.safeParse(request);
    // assert
    expect(parsed.success).toBe(true);
  });

  it.each([
    ['amount', 0],
    ['amount', 12.5],
    ['mcc', '541'],
    ['currency', 'eur'],
    ['channel', 'fax'],
    ['timestamp', 'yesterday'],
    ['ip', '999.1.1.1'],
  ])('rejects %s = %p', (field, value) => {
    // act
    const parsed = scoreRequestSchema.safeParse({ ...validRequest, [field]: value });
    // assert
    expect(parsed.success).toBe(false);
  });

  it('rejects unknown fields', () => {
    // act
    const parsed = scoreRequestSchema.safeParse({ ...validRequest, extra: 1 });
    // assert
    expect(parsed.success).toBe(false);
  });
});
