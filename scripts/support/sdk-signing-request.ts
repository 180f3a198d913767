/**
 * The request `SignedHttpCaller` sends, as the AWS SDK's signer (`@smithy/signature-v4`) takes
 * it: what `DynamoSigner` is compared with (`test/unit/dynamo-signer.test.ts`) and timed against
 * (`npm run bench`, its SigV4 rows).
 */
export function sdkSigningRequest(endpoint: URL, target: string, body: string) {
  return {
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: endpoint.pathname,
    query: {},
    headers: {
      host: endpoint.host,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': target,
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  };
}
