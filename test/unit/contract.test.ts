import { containsPan, findPan, luhnValid, scoreRequestSchema } from '#domain/contract';
import { validRequest } from '../support/fakes';

describe('PAN detection', () => {
  it.each([
    ['4111111111111111', true],
    ['4111 1111 1111 1111', true],
    ['4111-1111-1111-1111', true],
    ['5500005555555559', true],
    ['378282246310005', true], // Amex, 15 digits
    ['4111111111111112', false], // fails Luhn
    ['123456789012', false], // 12 digits
    ['tx-20261123-000001', false],
    ['2026-11-23T10:00:00.000Z', false],
    ['6011000990139424', true], // Discover
    ['2223003122003222', true], // Mastercard 2-series
    ['135410014004955', true], // UATP, 15 digits starting with 1
    ['tx-1795430000004', false], // epoch ms: 13 digits, Luhn-valid, but no card network starts with 1
    ['8000000000000003', false], // Luhn-valid, leading 8 is no card network
    ['3782 822463 10005', true], // Amex as printed, 4-6-5
    ['tx-1795426770881-10', false], // epoch ms + sequence: 15 digits, leading 1, Luhn-valid, not grouped like a card
    ['ref 135-410014-004955', false], // digit runs split by dashes in no card grouping
    ['41111111 11111111', false],
  ])('containsPan(%s) is %s', (value, expected) => {
    expect(containsPan(value)).toBe(expected);
  });

  it('finds a PAN at any depth and names the field, including unknown fields', () => {
    expect(findPan({ ...validRequest, note: { text: 'card 4111111111111111 used' } })).toBe('note.text');
    expect(findPan({ ...validRequest, list: ['x', '5500005555555559'] })).toBe('list.1');
    expect(findPan({ ...validRequest, cardNumber: 4111111111111111 })).toBe('cardNumber');
    expect(findPan(validRequest)).toBeUndefined();
  });

  it('implements Luhn', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});

describe('scoreRequestSchema', () => {
  it('accepts a valid request with optional fields', () => {
    const parsed = scoreRequestSchema.safeParse({ ...validRequest, deviceId: 'dev_1', ip: '192.0.2.1' });
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
    expect(scoreRequestSchema.safeParse({ ...validRequest, [field]: value }).success).toBe(false);
  });

  it('rejects unknown fields', () => {
    expect(scoreRequestSchema.safeParse({ ...validRequest, extra: 1 }).success).toBe(false);
  });
});
