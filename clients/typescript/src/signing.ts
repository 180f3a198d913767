/**
 * SigV4 signing for `execute-api` with the AWS SDK's signer. Credentials come from the
 * default Node chain (environment, SSO/profile, web identity, ECS task role, EC2 instance
 * profile) unless the caller passes its own; the chain is memoized and refreshes before
 * expiry, so signing costs a few HMACs per request.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  SourceData,
} from '@smithy/types';

/** SHA-256 (or HMAC-SHA-256 with a secret) over node:crypto, in the shape the signer takes. */
export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }
  update(data: Uint8Array | string): void {
    this.hash.update(
      typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    );
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key =
      typeof this.secret === 'string'
        ? this.secret
        : ArrayBuffer.isView(this.secret)
          ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength)
          : Buffer.from(this.secret);
    return createHmac('sha256', key);
  }
}

/** What to sign. `headers` must not contain `host`: it is taken from `url`. */
export interface SignableRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface SignerOptions {
  readonly region: string;
  /** @default 'execute-api' */
  readonly service?: string;
  /** @default the default Node credential chain */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** Signs requests; returns the headers to send (with `authorization`, `x-amz-date`, and the session token if any). */
export type RequestSigner = (request: SignableRequest, signingDate?: Date) => Promise<Record<string, string>>;

export function createSigner(options: SignerOptions): RequestSigner {
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: options.region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: NodeSha256,
    // execute-api does not need x-amz-content-sha256; the body hash is signed either way.
    applyChecksum: false,
  });
  return async function signRequest(request, signingDate) {
    const { url } = request;
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams.entries()),
        headers: { ...request.headers, host: url.host },
        body: request.body,
      },
      { signingDate },
    );
    // fetch sets Host from the URL itself (the same value, which is what was signed).
    const { host: _host, ...headers } = signed.headers;
    return headers;
  };
}

/** The region of an `execute-api` URL (`https://<id>.execute-api.<region>.amazonaws.com/...`), if it is one. */
export function regionOfApiUrl(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
}
