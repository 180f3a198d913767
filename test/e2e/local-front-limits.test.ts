/**
 * The local front at API Gateway's limits: a body over the 10 MB payload limit is a 413 from
 * the front, a body over the handler's 8 KB is the handler's 413, and either way the same
 * keep-alive connection answers the next request.
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { API_GATEWAY_MAX_PAYLOAD_BYTES } from '../../scripts/local/api-gateway';
import { type LocalStack, startLocalStack } from '../../scripts/local/app';

interface Answer {
  status: number;
  body: string;
  socket: Socket;
  reused: boolean;
}

function post(stack: LocalStack, agent: Agent, path: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${stack.url}${path}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' }, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            socket: req.socket as Socket,
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer on ${path} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

describe('local front at the payload limits', () => {
  let stack: LocalStack;
  let agent: Agent;

  beforeAll(async () => {
    stack = await startLocalStack({ logLevel: 'ERROR' });
  }, 60_000);
  afterAll(async () => {
    await stack.close();
  });
  beforeEach(() => {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(() => agent.destroy());

  it.each(['/v1/score', '/v1/events'])(
    'answers 413 over 10 MB on %s and the same connection answers the next request',
    async (path) => {
      // prepare
      const oversize = `{"padding":"${'x'.repeat(API_GATEWAY_MAX_PAYLOAD_BYTES)}"}`;
      // act
      const first = await post(stack, agent, path, oversize);
      const second = await post(stack, agent, path, '{}');
      // assert
      expect(first.status).toBe(413);
      expect(JSON.parse(first.body)).toEqual({ message: 'Request Too Long' });
      expect(second.reused).toBe(true);
      expect(second.socket).toBe(first.socket);
      expect(second.status).toBe(400);
      expect(JSON.parse(second.body).error.code).toBe('MISSING_FIELD');
    },
  );

  it('passes 1–10 MB bodies to the handler, which answers BODY_TOO_LARGE, and keeps the connection', async () => {
    // prepare
    const large = `{"padding":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    // act
    const first = await post(stack, agent, '/v1/score', large);
    const second = await post(stack, agent, '/v1/score', '[');
    // assert
    expect(first.status).toBe(413);
    expect(JSON.parse(first.body).error.code).toBe('BODY_TOO_LARGE');
    expect(second.socket).toBe(first.socket);
    expect(JSON.parse(second.body).error.code).toBe('INVALID_JSON');
  });

  it('refuses a declared length too large to drain at once and closes the connection', async () => {
    // prepare
    const { port } = new URL(stack.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    // act: announce 100 MB, send a few bytes, wait for the answer
    socket.write(
      `POST /v1/score HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n{"a":`,
    );
    await closed;
    // assert
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toMatch(/connection: close/i);
    expect(received).toContain('{"message":"Request Too Long"}');
  });

  it('answers 400 TOO_DEEP for deep nesting on both endpoints', async () => {
    for (const path of ['/v1/score', '/v1/events']) {
      for (const body of ['['.repeat(3999), '{"a":'.repeat(3000)]) {
        // act
        const answer = await post(stack, agent, path, body);
        // assert
        expect({ path, status: answer.status, code: JSON.parse(answer.body).error.code }).toEqual({
          path,
          status: 400,
          code: 'TOO_DEEP',
        });
      }
    }
  });
});
