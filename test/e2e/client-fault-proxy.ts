/**
 * A small HTTP proxy in front of the local stack that this test controls: it forwards to the
 * real stack, or drops the connection after the stack answered, or answers 429 / 502 as API
 * Gateway does, or never answers. The local stack has no gateway, so throttling and dropped
 * connections are provoked here; every answer that is not injected comes from the real stack.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_ERRORS } from '../../api/errors';

/** What the proxy does with one request. */
export type FaultAction =
  | 'forward'
  /** Forward, let the stack answer in full, then cut the client's connection without a reply. */
  | 'drop-after-forward'
  /** Answer 429 like API Gateway's THROTTLED gateway response. */
  | { throttle: { retryAfterSeconds: number } }
  /** Answer 502 like API Gateway when the integration failed. */
  | 'bad-gateway'
  /** Never answer (until the proxy closes). */
  | 'stall';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The stack's answer, when the request was forwarded. */
  upstream?: { status: number; body: string };
}

export interface FaultProxy {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Decides per request (0-based index since the last `plan` call). */
  plan(decide: (index: number, request: RecordedRequest) => FaultAction): void;
  close(): Promise<void>;
}

const PASSED_HEADERS = ['content-type', 'cache-control', 'server-timing', 'retry-after'];

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const requests: RecordedRequest[] = [];
  let decide: (index: number, request: RecordedRequest) => FaultAction = () => 'forward';
  let offset = 0;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const action = decide(requests.length - 1 - offset, recorded);
      if (action === 'stall') return;
      if (action === 'bad-gateway') {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Internal server error' }));
        return;
      }
      if (typeof action === 'object') {
        res.writeHead(429, {
          'content-type': 'application/json',
          'retry-after': String(action.throttle.retryAfterSeconds),
        });
        res.end(
          JSON.stringify({ error: { code: 'THROTTLED', message: API_ERRORS.THROTTLED.example.message } }),
        );
        return;
      }
      const answer = await fetch(`${upstream}${recorded.path}`, {
        method: recorded.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body: recorded.method === 'GET' ? undefined : recorded.body,
      });
      const body = await answer.text();
      recorded.upstream = { status: answer.status, body };
      if (action === 'drop-after-forward') {
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of PASSED_HEADERS) {
        const value = answer.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      res.writeHead(answer.status, headers);
      res.end(body);
    })().catch(() => {
      res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    plan(next) {
      offset = requests.length;
      decide = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
