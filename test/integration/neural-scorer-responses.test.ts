/**
 * The neural client against hostile inference responses: a local HTTP server on 127.0.0.1
 * answers each call with a body built here (JSON, or the binary tensor extension's JSON header
 * plus raw bytes, with any framing). Whatever comes back, the client resolves with a probability
 * or rejects with a `protocol` NeuralUnavailableError; it never throws anything else.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import fc from 'fast-check';
import { HttpNeuralScorer } from '#adapters/neural-scorer';
import { NeuralUnavailableError } from '#domain/errors';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';

interface Reply {
  body: Buffer;
  headerLength?: string;
}

let server: Server;
let url: string;
let next: Reply = { body: Buffer.alloc(0) };
let lastRequest: { headers: IncomingMessage['headers']; body: Buffer } | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      lastRequest = { headers: req.headers, body: Buffer.concat(chunks) };
      const headers: Record<string, string | number> = { 'content-length': next.body.length };
      if (next.headerLength !== undefined) headers['inference-header-content-length'] = next.headerLength;
      res.writeHead(200, headers);
      res.end(next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const input = { data: new Float32Array(SEQUENCE_STEPS * SEQUENCE_WIDTH).fill(0.5), length: 3 };

function binaryReply(score: number, output: Record<string, unknown> = {}, extra = Buffer.alloc(0)): Reply {
  const header = Buffer.from(
    JSON.stringify({
      model_name: 'fraud-seq',
      outputs: [
        { name: 'score', datatype: 'FP32', shape: [1, 1], parameters: { binary_data_size: 4 }, ...output },
      ],
    }),
  );
  const bytes = Buffer.alloc(4);
  bytes.writeFloatLE(score);
  return { body: Buffer.concat([header, bytes, extra]), headerLength: String(header.length) };
}

async function outcome(client: HttpNeuralScorer): Promise<number | NeuralUnavailableError> {
  try {
    return await client.score(input);
  } catch (error) {
    if (error instanceof NeuralUnavailableError) return error;
    throw error;
  }
}

describe('HttpNeuralScorer, binary tensor extension', () => {
  const clients: HttpNeuralScorer[] = [];
  const client = (options: Partial<ConstructorParameters<typeof HttpNeuralScorer>[0]> = {}) => {
    const c = new HttpNeuralScorer({ baseUrl: url, budgetMs: 2_000, breakerFailures: 1_000_000, ...options });
    clients.push(c);
    return c;
  };
  afterAll(() => {
    for (const c of clients) c.close();
  });

  it('sends the sequence as raw little-endian FP32 after a JSON header and asks for a binary score', async () => {
    // prepare
    next = binaryReply(0.25);
    // act
    const score = await client().score(input);
    // assert
    expect(score).toBe(0.25);
    const request = lastRequest as NonNullable<typeof lastRequest>;
    const headerLength = Number(request.headers['inference-header-content-length']);
    const header = JSON.parse(request.body.toString('utf8', 0, headerLength));
    expect(header.inputs).toEqual([
      {
        name: 'sequence',
        shape: [1, SEQUENCE_STEPS, SEQUENCE_WIDTH],
        datatype: 'FP32',
        parameters: { binary_data_size: SEQUENCE_STEPS * SEQUENCE_WIDTH * 4 },
      },
    ]);
    expect(header.outputs).toEqual([{ name: 'score', parameters: { binary_data: true } }]);
    expect(request.body.length).toBe(headerLength + SEQUENCE_STEPS * SEQUENCE_WIDTH * 4);
    expect(request.body.readFloatLE(headerLength)).toBe(0.5);
  });

  it('with the JSON encoding sends JSON numbers and reads a JSON score', async () => {
    // prepare
    next = {
      body: Buffer.from(
        JSON.stringify({ outputs: [{ name: 'score', datatype: 'FP32', shape: [1, 1], data: [0.75] }] }),
      ),
    };
    // act
    const score = await client({ tensorEncoding: 'json' }).score(input);
    // assert
    expect(score).toBe(0.75);
    const request = lastRequest as NonNullable<typeof lastRequest>;
    expect(request.headers['inference-header-content-length']).toBeUndefined();
    expect(JSON.parse(request.body.toString()).inputs[0].data).toHaveLength(SEQUENCE_STEPS * SEQUENCE_WIDTH);
  });

  it('reads a JSON score even when it asked for binary (a server may answer either way)', async () => {
    // prepare
    next = {
      body: Buffer.from(
        JSON.stringify({ outputs: [{ name: 'score', datatype: 'FP32', shape: [1, 1], data: [0.125] }] }),
      ),
    };
    // act
    const score = await client().score(input);
    // assert
    expect(score).toBe(0.125);
  });

  const hostile: [string, () => Reply][] = [
    ['a header length beyond the body', () => ({ ...binaryReply(0.5), headerLength: '100000' })],
    ['a header length that is not a number', () => ({ ...binaryReply(0.5), headerLength: 'abc' })],
    ['no header length (the bytes make the JSON invalid)', () => ({ body: binaryReply(0.5).body })],
    [
      'a binary score of 8 bytes',
      () => binaryReply(0.5, { parameters: { binary_data_size: 8 } }, Buffer.alloc(4)),
    ],
    ['bytes after the last tensor', () => binaryReply(0.5, {}, Buffer.alloc(4))],
    ['fewer bytes than binary_data_size', () => binaryReply(0.5, { parameters: { binary_data_size: 40 } })],
    ['a negative binary_data_size', () => binaryReply(0.5, { parameters: { binary_data_size: -4 } })],
    ['an FP64 datatype', () => binaryReply(0.5, { datatype: 'FP64' })],
    ['a shape of [2, 1]', () => binaryReply(0.5, { shape: [2, 1] })],
    ['a NaN score', () => binaryReply(Number.NaN)],
    ['a score above 1', () => binaryReply(1.5)],
  ];
  it.each(hostile)('rejects %s as a protocol failure', async (_, reply) => {
    // prepare
    next = reply();
    // act
    const result = await outcome(client());
    // assert
    expect(result).toBeInstanceOf(NeuralUnavailableError);
    expect((result as NeuralUnavailableError).kind).toBe('protocol');
  });

  it('answers any framing with a probability or a protocol failure, never anything else (property)', async () => {
    const c = client();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          score: fc.float(),
          size: fc.oneof(fc.constant(4), fc.integer({ min: -8, max: 64 }), fc.constant('4')),
          datatype: fc.constantFrom('FP32', 'FP32', 'FP16', 'INT64'),
          extra: fc.uint8Array({ maxLength: 12 }),
          cut: fc.integer({ min: 0, max: 8 }),
          headerDelta: fc.oneof(fc.constant(0), fc.integer({ min: -30, max: 30 })),
          headerText: fc.option(fc.constantFrom('', '-1', 'x', '1e2', '0'), { freq: 4 }),
        }),
        async ({ score, size, datatype, extra, cut, headerDelta, headerText }) => {
          // prepare
          const reply = binaryReply(
            score,
            { datatype, parameters: { binary_data_size: size } },
            Buffer.from(extra),
          );
          const body = reply.body.subarray(0, reply.body.length - cut);
          const headerLength = headerText ?? String(Number(reply.headerLength) + headerDelta);
          next = { body, headerLength };
          const valid =
            datatype === 'FP32' &&
            size === 4 &&
            // cutting exactly the extra bytes off leaves a well-formed body
            extra.length === cut &&
            headerText === null &&
            headerDelta === 0 &&
            Math.fround(score) >= 0 &&
            Math.fround(score) <= 1;
          // act
          const result = await outcome(c);
          // assert
          if (valid) expect(result).toBe(Math.fround(score));
          else expect((result as NeuralUnavailableError).kind).toBe('protocol');
        },
      ),
      { numRuns: 150 },
    );
  });
});
