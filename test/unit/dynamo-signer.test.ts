/**
 * The scoring path's own SigV4 signer against the AWS SDK's (`@smithy/signature-v4`, what the SDK
 * client signs DynamoDB requests with): the same headers, byte for byte, for any body, operation,
 * date, region, endpoint and credentials; and the signing key kept only for its day and secret.
 */
import { createHash, createHmac } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { canonicalPath, DynamoSigner } from '#adapters/dynamo-signer';
import { sdkSigningRequest } from '../../scripts/support/sdk-signing-request';

/** The SHA-256 the SDK's DynamoDB client signs with. */
const SDK_SHA256 = new DynamoDBClient({ region: 'eu-west-1' }).config.sha256;

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What the SDK's signer gives the request `SignedHttpCaller` sends. */
async function sdkHeaders(
  endpoint: URL,
  region: string,
  credentials: Credentials,
  target: string,
  body: string,
  at: number,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: 'dynamodb',
    region,
    credentials,
    sha256: SDK_SHA256,
  });
  const signed = await signer.sign(sdkSigningRequest(endpoint, target, body), { signingDate: new Date(at) });
  return signed.headers;
}

const token = fc.stringMatching(/^[A-Za-z0-9+/=]{1,64}$/);
const credentialsArb: fc.Arbitrary<Credentials> = fc.record(
  {
    accessKeyId: fc.stringMatching(/^[A-Z0-9]{16,20}$/),
    secretAccessKey: fc.string({ minLength: 1, maxLength: 40 }),
    sessionToken: token,
  },
  { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
);
const endpointArb = fc
  .tuple(
    fc.constantFrom('http', 'https'),
    fc.constantFrom(
      '127.0.0.1',
      'localhost',
      'dynamodb.eu-west-1.amazonaws.com',
      'dynamodb-fips.us-gov-west-1.amazonaws.com',
    ),
    fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    fc.constantFrom('/', '', '/dynamo/', '/a/./b/../c', '/with space/x', "/it's(here)*/"),
  )
  .map(([scheme, host, port, path]) => new URL(`${scheme}://${host}${port ? `:${port}` : ''}${path}`));
const operationArb = fc.constantFrom('BatchGetItem', 'PutItem', 'GetItem', 'BatchWriteItem');
// Any instant from 2000 to 2100, to the millisecond.
const atArb = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });

describe('DynamoSigner', () => {
  it('gives the same headers as the SDK signer for any request', async () => {
    await fc.assert(
      fc.asyncProperty(
        endpointArb,
        fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1'),
        credentialsArb,
        operationArb,
        fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })),
        atArb,
        async (endpoint, region, credentials, operation, body, at) => {
          // prepare
          const target = `DynamoDB_20120810.${operation}`;
          const signer = new DynamoSigner({ region, credentials, endpoint, clock: () => at });
          // act
          const ours = await signer.sign(target, body);
          // assert
          expect(ours).toEqual(await sdkHeaders(endpoint, region, credentials, target, body, at));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('follows the SigV4 steps written out here (signing key checked against AWS documentation)', async () => {
    // The signing key of AWS's SigV4 documentation example (secret, 20150830, us-east-1, iam).
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    const derive = (service: string) =>
      ['20150830', 'us-east-1', service, 'aws4_request'].reduce<Buffer | string>(
        (key, part) => createHmac('sha256', key).update(part).digest(),
        `AWS4${secret}`,
      );
    expect((derive('iam') as Buffer).toString('hex')).toBe(
      'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
    );
    // prepare
    const endpoint = new URL('https://dynamodb.us-east-1.amazonaws.com/');
    const body = '{"TableName":"t"}';
    const at = Date.UTC(2015, 7, 30, 12, 36, 0);
    const signer = new DynamoSigner({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret },
      endpoint,
      clock: () => at,
    });
    // act
    const headers = await signer.sign('DynamoDB_20120810.GetItem', body);
    // assert: the signature is the HMAC of the string to sign with the derived key
    const payloadHash = createHash('sha256').update(body).digest('hex');
    const canonical = [
      'POST',
      '/',
      '',
      `content-length:${body.length}`,
      'content-type:application/x-amz-json-1.0',
      'host:dynamodb.us-east-1.amazonaws.com',
      `x-amz-content-sha256:${payloadHash}`,
      'x-amz-date:20150830T123600Z',
      'x-amz-target:DynamoDB_20120810.GetItem',
      '',
      'content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target',
      payloadHash,
    ].join('\n');
    const stringToSign = `AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/dynamodb/aws4_request\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', derive('dynamodb')).update(stringToSign).digest('hex');
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=${signature}`,
    );
  });

  it('derives a new signing key when the day or the secret changes, and asks the provider every time', async () => {
    // prepare
    let at = Date.UTC(2026, 11, 1, 23, 59, 59, 500);
    let current: Credentials = { accessKeyId: 'AKIDONE', secretAccessKey: 'one' };
    let asked = 0;
    const endpoint = new URL('http://127.0.0.1:8000');
    const signer = new DynamoSigner({
      region: 'eu-west-1',
      credentials: async () => {
        asked += 1;
        return current;
      },
      endpoint,
      clock: () => at,
    });
    const same = async () =>
      expect(await signer.sign('DynamoDB_20120810.PutItem', '{}')).toEqual(
        await sdkHeaders(endpoint, 'eu-west-1', current, 'DynamoDB_20120810.PutItem', '{}', at),
      );
    // act + assert: before midnight, after it, after the credentials rotate
    await same();
    at += 1000;
    await same();
    current = { accessKeyId: 'AKIDTWO', secretAccessKey: 'two', sessionToken: 'fresh' };
    await same();
    expect(asked).toBe(3);
  });

  it('rejects credentials without a key id or secret, as the SDK signer does', async () => {
    // prepare
    const signer = new DynamoSigner({
      region: 'eu-west-1',
      credentials: async () => ({ accessKeyId: 'AKID' }) as unknown as Credentials,
      endpoint: new URL('http://127.0.0.1:8000'),
    });
    // act + assert
    await expect(signer.sign('DynamoDB_20120810.PutItem', '{}')).rejects.toThrow(
      'Resolved credential object is not valid',
    );
  });

  it.each([
    ['/', '/'],
    ['', ''],
    ['/a/./b/../c', '/a/c'],
    ['/a//b/', '/a/b/'],
    ['/with%20space', '/with%2520space'],
  ])('canonical path of %j is %j', (path, expected) => {
    expect(canonicalPath(path)).toBe(expected);
  });
});
