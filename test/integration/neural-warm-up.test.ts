/**
 * The neural client's warm-up at init: it opens the keep-alive pool with one real inference,
 * so the first scored request reuses that connection; a service that is down at init costs
 * neither init nor the breaker. A counting OIP stub on 127.0.0.1 shows the connections.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpNeuralScorer } from '#adapters/neural-scorer';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';

interface Stub {
  url: string;
  connections: () => number;
  inferences: () => number;
  close: () => Promise<void>;
}

/** An Open Inference Protocol server that answers every inference with score 0.25. */
function startStub(): Promise<Stub> {
  let connections = 0;
  let inferences = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      inferences += 1;
      const body = JSON.stringify({
        model_name: 'fraud-seq',
        outputs: [{ name: 'score', datatype: 'FP32', shape: [1, 1], data: [0.25] }],
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', () => {
    connections += 1;
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        connections: () => connections,
        inferences: () => inferences,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

const input = () => ({ data: new Float32Array(SEQUENCE_STEPS * SEQUENCE_WIDTH).fill(0.5), length: 5 });

describe('HttpNeuralScorer.warmUp', () => {
  let stub: Stub;
  const clients: HttpNeuralScorer[] = [];
  beforeEach(async () => {
    stub = await startStub();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await stub.close();
  });
  const client = (baseUrl: string, breakerFailures = 1) => {
    const c = new HttpNeuralScorer({ baseUrl, budgetMs: 1_000, breakerFailures });
    clients.push(c);
    return c;
  };

  it('opens the pooled connection with one inference, which the first scored request reuses', async () => {
    // prepare
    const scorer = client(stub.url);
    // act
    const warm = await scorer.warmUp();
    const afterWarmUp = { connections: stub.connections(), inferences: stub.inferences() };
    const score = await scorer.score(input());
    // assert
    expect(warm.ok).toBe(true);
    expect(afterWarmUp).toEqual({ connections: 1, inferences: 1 });
    expect(score).toBe(0.25);
    expect(stub.connections()).toBe(1);
    // The warm-up is not a scored call.
    expect(scorer.stats).toMatchObject({ calls: 1, successes: 1 });
  });

  it('opens as many connections as asked', async () => {
    // prepare
    const scorer = client(stub.url);
    // act
    const warm = await scorer.warmUp(2_000, 3);
    // assert
    expect(warm.ok).toBe(true);
    expect(stub.connections()).toBe(3);
    expect(stub.inferences()).toBe(3);
  });

  it('a service that is down at init: reports the failure, never rejects, leaves the breaker closed', async () => {
    // prepare: a port nothing listens on
    const url = stub.url;
    await stub.close();
    const scorer = client(url, 1);
    // act
    const warm = await scorer.warmUp(500);
    // assert
    expect(warm.ok).toBe(false);
    expect(warm.error).toMatch(/ECONNREFUSED|neural call failed/);
    expect(warm.ms).toBeLessThan(500);
    expect(scorer.breakerState).toBe('closed');
    expect(Object.values(scorer.stats.failures).every((n) => n === 0)).toBe(true);
    stub = await startStub(); // for afterEach
  });

  it('a hung service: gives up after its own timeout', async () => {
    // prepare: a server that never answers
    const hung = createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    const scorer = client(`http://127.0.0.1:${(hung.address() as AddressInfo).port}`);
    try {
      // act
      const warm = await scorer.warmUp(100);
      // assert
      expect(warm.ok).toBe(false);
      expect(warm.ms).toBeGreaterThanOrEqual(95);
      expect(warm.ms).toBeLessThan(1_000);
      expect(scorer.breakerState).toBe('closed');
    } finally {
      hung.closeAllConnections();
      hung.close();
    }
  });
});
