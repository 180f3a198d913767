/**
 * The client's SigV4 signing against vectors of the AWS Signature Version 4 test suite
 * (service `service`, region us-east-1, the suite's example credentials, 2015-08-30T12:36:00Z),
 * and the execute-api scope it uses for real requests.
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { createSigner, NodeSha256, regionOfApiUrl } from '../../clients/typescript/src/signing';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const signingDate = new Date(Date.UTC(2015, 7, 30, 12, 36, 0));
const scope = 'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

describe('SigV4 signing (AWS test suite)', () => {
  it.each([
    [
      'get-vanilla',
      'GET',
      'https://example.amazonaws.com/',
      'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    ],
    [
      'post-vanilla',
      'POST',
      'https://example.amazonaws.com/',
      'SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    ],
    [
      'get-vanilla-query-order-key-case',
      'GET',
      'https://example.amazonaws.com/?Param2=value2&Param1=value1',
      'SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    ],
  ])('%s', async (_name, method, url, expected) => {
    // prepare
    const sign = createSigner({ region: 'us-east-1', service: 'service', credentials });
    // act
    const headers = await sign({ method, url: new URL(url), headers: {} }, signingDate);
    // assert
    expect(headers.authorization).toBe(`AWS4-HMAC-SHA256 ${scope}, ${expected}`);
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers).not.toHaveProperty('host');
  });

  it('signs an execute-api POST with the body, content type and session token', async () => {
    // prepare
    const sign = createSigner({
      region: 'eu-west-1',
      credentials: { ...credentials, sessionToken: 'token-1' },
    });
    const url = new URL('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/v1/score');
    const request = { method: 'POST', url, headers: { 'content-type': 'application/json' } };
    // act
    const a = await sign({ ...request, body: '{"amount":1}' }, signingDate);
    const b = await sign({ ...request, body: '{"amount":2}' }, signingDate);
    // assert
    expect(a.authorization).toContain('Credential=AKIDEXAMPLE/20150830/eu-west-1/execute-api/aws4_request');
    expect(a.authorization).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-security-token');
    expect(a['x-amz-security-token']).toBe('token-1');
    expect(a.authorization).not.toBe(b.authorization);
  });

  it('hashes like node:crypto for any input (NodeSha256 as the signer uses it)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), fc.string(), async (bytes, secret) => {
        // prepare
        const plain = new NodeSha256();
        const keyed = new NodeSha256(secret);
        // act
        plain.update(bytes);
        keyed.update(bytes);
        // assert
        expect(Buffer.from(await plain.digest()).toString('hex')).toBe(
          createHash('sha256').update(bytes).digest('hex'),
        );
        expect(Buffer.from(await keyed.digest()).toString('hex')).toBe(
          createHmac('sha256', secret).update(bytes).digest('hex'),
        );
      }),
      { numRuns: 50 },
    );
  });

  it('reads the region from an execute-api URL and nothing else', () => {
    // act / assert
    expect(regionOfApiUrl(new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/prod'))).toBe(
      'eu-west-1',
    );
    expect(regionOfApiUrl(new URL('https://scoring.example.net/prod'))).toBeUndefined();
  });
});
