/**
 * A DynamoDB request replayed as raw HTTP, for `npm run bench`: the exact request the store's
 * client sends (captured once, headers and body as signed), sent again over one kept-alive
 * socket with no SDK around it. What it takes is the embedded server's own time plus the
 * loopback: the floor under every row that goes through the SDK. dynalite checks the
 * signature's format, not its value, so a replayed (or edited) body is accepted.
 */
import { Agent, request as httpRequest } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** What {@link RawDynamoRequest.send} got back. */
export interface RawResponse {
  readonly status: number;
  readonly body: string;
}

/** Thrown by the capturing request handler once it holds the request: nothing is sent. */
class Captured extends Error {
  constructor(readonly request: { path: string; headers: Record<string, string>; body: string }) {
    super('captured');
  }
}

export class RawDynamoRequest {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  private constructor(
    private readonly endpoint: URL,
    private readonly path: string,
    private readonly headers: Readonly<Record<string, string>>,
    /** The body as the SDK serialized it. */
    readonly body: string,
  ) {}

  /**
   * The request `call` makes through a client of `endpoint`: the client's request handler keeps
   * it and fails the call, so the server never sees it.
   */
  static async capture(
    endpoint: string,
    call: (client: DynamoDBClient) => Promise<unknown>,
  ): Promise<RawDynamoRequest> {
    const client = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: {
        handle: async (request: { path: string; headers: Record<string, string>; body: unknown }) => {
          // The SDK's JSON codec hands over a Uint8Array (and warns if it is used as a string).
          const bytes = request.body as Uint8Array;
          const body =
            typeof request.body === 'string'
              ? request.body
              : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
          throw new Captured({ path: request.path, headers: request.headers, body });
        },
      },
    });
    try {
      await call(client);
    } catch (error) {
      if (error instanceof Captured) {
        const { path, headers, body } = error.request;
        return new RawDynamoRequest(new URL(endpoint), path, headers, body);
      }
      throw error;
    } finally {
      client.destroy();
    }
    throw new Error('the call sent no request');
  }

  /** Sends the captured request, or the same headers with another `body` (its length set anew). */
  send(body: string = this.body): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      for (const name in this.headers)
        if (name.toLowerCase() !== 'content-length') headers[name] = this.headers[name] as string;
      headers['content-length'] = String(Buffer.byteLength(body));
      const req = httpRequest(
        {
          host: this.endpoint.hostname,
          port: this.endpoint.port,
          path: this.path,
          method: 'POST',
          headers,
          agent: this.agent,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Closes the kept-alive socket. */
  close(): void {
    this.agent.destroy();
  }
}
