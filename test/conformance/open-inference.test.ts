/**
 * Open Inference Protocol (KServe v2 REST) conformance, as Triton implements it, for the
 * fraud-seq model. The same suite runs against any server:
 *
 *   NEURAL_BASE_URL=http://triton:8000 NEURAL_METRICS_URL=http://triton:8002/metrics npx jest test/conformance
 *
 * Without NEURAL_BASE_URL it starts the local twin (`services/neural/main.ts`) as a real
 * process. Where Triton versions differ (400 or 404 for an unknown model) the suite accepts
 * either 4xx, and always requires the protocol's `{"error": "<message>"}` body.
 *
 * The binary tensor data extension (Triton's `extension_binary_data.md`) is exercised with
 * bodies built here byte by byte, not with the project's own codec, so a shared mistake in
 * the codec cannot pass on both sides; the hostile cases only use what the spec defines.
 */

import fc from 'fast-check';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';
import { readNeuralReplay, replayBatch } from '../../models/training/neural-parity';
import { startTwinProcess, type TwinProcess } from '../support/neural-twin';

const MODEL = process.env.NEURAL_MODEL ?? 'fraud-seq';
const MODEL_DIR = 'models/fraud-seq/1.0.0';
const ROW = SEQUENCE_STEPS * SEQUENCE_WIDTH;

let base = process.env.NEURAL_BASE_URL ?? '';
let metricsUrl = process.env.NEURAL_METRICS_URL ?? '';
let twin: TwinProcess | undefined;

beforeAll(async () => {
  if (!base) {
    twin = await startTwinProcess();
    base = twin.url;
  }
  if (!metricsUrl) metricsUrl = `${base}/metrics`;
});

afterAll(async () => {
  await twin?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: protocol bodies are checked by the assertions
type Json = any;

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

const cases = readNeuralReplay(MODEL_DIR).slice(0, 8);
const batch = replayBatch(cases);

function inferBody(
  rows: number,
  data: unknown = Array.from(batch.subarray(0, rows * ROW)),
  extra: Json = {},
) {
  return {
    inputs: [
      { name: 'sequence', shape: [rows, SEQUENCE_STEPS, SEQUENCE_WIDTH], datatype: 'FP32', data, ...extra },
    ],
  };
}

function expectProtocolError(response: { status: number; json: Json }, status: number | number[]) {
  const allowed = Array.isArray(status) ? status : [status];
  expect(allowed).toContain(response.status);
  expect(typeof response.json?.error).toBe('string');
  expect(response.json.error.length).toBeGreaterThan(0);
}

describe('health', () => {
  it('is live and ready with 200', async () => {
    // act
    const live = await call('GET', '/v2/health/live');
    const ready = await call('GET', '/v2/health/ready');
    // assert
    expect(live.status).toBe(200);
    expect(ready.status).toBe(200);
  });

  it('reports the model ready, with and without a version', async () => {
    // act
    const ready = await call('GET', `/v2/models/${MODEL}/ready`);
    const versioned = await call('GET', `/v2/models/${MODEL}/versions/1/ready`);
    // assert
    expect(ready.status).toBe(200);
    expect(versioned.status).toBe(200);
  });

  it('answers 4xx for the readiness of an unknown model', async () => {
    // act
    const response = await call('GET', '/v2/models/no-such-model/ready');
    // assert
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});

describe('metadata', () => {
  it('server metadata names the server, its version and extensions', async () => {
    // act
    const response = await call('GET', '/v2');
    // assert
    expect(response.status).toBe(200);
    expect(typeof response.json.name).toBe('string');
    expect(typeof response.json.version).toBe('string');
    expect(Array.isArray(response.json.extensions)).toBe(true);
  });

  it('model metadata gives the platform and tensors with a variable batch dimension', async () => {
    // act
    const plain = await call('GET', `/v2/models/${MODEL}`);
    const versioned = await call('GET', `/v2/models/${MODEL}/versions/1`);
    // assert
    expect(plain.status).toBe(200);
    expect(plain.json).toMatchObject({
      name: MODEL,
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'sequence', datatype: 'FP32', shape: [-1, SEQUENCE_STEPS, SEQUENCE_WIDTH] }],
      outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
    });
    expect(plain.json.versions).toContain('1');
    expect(versioned.status).toBe(200);
    expect(versioned.json.name).toBe(MODEL);
  });

  it('unknown model or version is a 4xx with an error message', async () => {
    // act
    const model = await call('GET', '/v2/models/no-such-model');
    const version = await call('GET', `/v2/models/${MODEL}/versions/999`);
    // assert
    expectProtocolError(model, [400, 404]);
    expectProtocolError(version, [400, 404]);
  });
});

describe('inference', () => {
  it('scores one request as the trainer did (within 1e-4)', async () => {
    // act
    const response = await call('POST', `/v2/models/${MODEL}/infer`, inferBody(1));
    // assert
    expect(response.status).toBe(200);
    expect(response.json.model_name).toBe(MODEL);
    const [output] = response.json.outputs;
    expect(output).toMatchObject({ name: 'score', datatype: 'FP32', shape: [1, 1] });
    expect(Math.abs(output.data[0] - (cases[0]?.score as number))).toBeLessThanOrEqual(1e-4);
  });

  it('scores a batch in one request, row by row', async () => {
    // act
    const response = await call('POST', `/v2/models/${MODEL}/versions/1/infer`, inferBody(cases.length));
    // assert
    expect(response.status).toBe(200);
    const [output] = response.json.outputs;
    expect(output.shape).toEqual([cases.length, 1]);
    cases.forEach((c, i) => {
      expect(Math.abs(output.data[i] - c.score)).toBeLessThanOrEqual(1e-4);
    });
  });

  it('accepts nested (row-major) data and echoes the request id and requested outputs', async () => {
    // prepare
    const flat = Array.from(batch.subarray(0, ROW));
    const nested = [
      Array.from({ length: SEQUENCE_STEPS }, (_, s) =>
        flat.slice(s * SEQUENCE_WIDTH, (s + 1) * SEQUENCE_WIDTH),
      ),
    ];
    const body = { id: 'req-42', ...inferBody(1, nested), outputs: [{ name: 'score' }] };
    // act
    const response = await call('POST', `/v2/models/${MODEL}/infer`, body);
    // assert
    expect(response.status).toBe(200);
    expect(response.json.id).toBe('req-42');
    expect(Math.abs(response.json.outputs[0].data[0] - (cases[0]?.score as number))).toBeLessThanOrEqual(
      1e-4,
    );
  });

  it('concurrent requests each get their own row back (batching never mixes rows)', async () => {
    // act
    const responses = await Promise.all(
      cases.map((_, i) =>
        call(
          'POST',
          `/v2/models/${MODEL}/infer`,
          inferBody(1, Array.from(batch.subarray(i * ROW, (i + 1) * ROW))),
        ),
      ),
    );
    // assert
    responses.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(Math.abs(r.json.outputs[0].data[0] - (cases[i]?.score as number))).toBeLessThanOrEqual(1e-4);
    });
  });

  const bad: [string, () => unknown][] = [
    ['invalid JSON', () => '{"inputs": ['],
    ['no inputs', () => ({ inputs: [] })],
    ['an unknown input name', () => ({ inputs: [{ ...inferBody(1).inputs[0], name: 'nope' }] })],
    ['a wrong datatype', () => inferBody(1, undefined, { datatype: 'INT64' })],
    ['a wrong shape', () => inferBody(1, undefined, { shape: [1, SEQUENCE_STEPS, SEQUENCE_WIDTH + 1] })],
    ['too few values for the shape', () => inferBody(1, Array.from(batch.subarray(0, ROW - 1)))],
    ['non-numeric data', () => inferBody(1, ['a', ...Array.from(batch.subarray(1, ROW))])],
    [
      'a batch above max_batch_size',
      () => inferBody(1000, [], { shape: [1000, SEQUENCE_STEPS, SEQUENCE_WIDTH] }),
    ],
    ['an unknown requested output', () => ({ ...inferBody(1), outputs: [{ name: 'nope' }] })],
  ];
  it.each(bad)('rejects %s with 400 and an error message', async (_, body) => {
    // act
    const response = await call('POST', `/v2/models/${MODEL}/infer`, body());
    // assert
    expectProtocolError(response, 400);
  });

  it('rejects inference on an unknown model with 4xx', async () => {
    // act
    const response = await call('POST', '/v2/models/no-such-model/infer', inferBody(1));
    // assert
    expectProtocolError(response, [400, 404]);
  });
});

/** A JSON header followed by raw tensor bytes; `headerLength` overrides Inference-Header-Content-Length. */
async function callBinary(path: string, header: unknown, tensors: Uint8Array[], headerLength?: string) {
  const json = Buffer.from(JSON.stringify(header));
  const body = Buffer.concat([json, ...tensors]);
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': headerLength ?? String(json.length),
    },
    body,
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const length = response.headers.get('inference-header-content-length');
  const jsonLength = length === null ? bytes.length : Number(length);
  let json_: Json;
  try {
    json_ = JSON.parse(bytes.toString('utf8', 0, jsonLength));
  } catch {
    json_ = undefined;
  }
  return {
    status: response.status,
    json: json_,
    binary: bytes.subarray(jsonLength),
    headerLength: length,
    contentType: response.headers.get('content-type'),
  };
}

/** Little-endian FP32 bytes, written value by value with DataView (independent of the codec under test). */
function leBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return out;
}

function binaryInput(rows: number, extra: Json = {}, parameters: Json = {}) {
  return {
    name: 'sequence',
    shape: [rows, SEQUENCE_STEPS, SEQUENCE_WIDTH],
    datatype: 'FP32',
    parameters: { binary_data_size: rows * ROW * 4, ...parameters },
    ...extra,
  };
}

const rowsBytes = (rows: number) => leBytes(batch.subarray(0, rows * ROW));

describe('binary tensor data extension', () => {
  it('server metadata lists binary_tensor_data among the extensions', async () => {
    // act
    const response = await call('GET', '/v2');
    // assert
    expect(response.json.extensions).toContain('binary_tensor_data');
  });

  it('scores a binary input and answers JSON when no binary output is asked', async () => {
    // act
    const response = await callBinary(`/v2/models/${MODEL}/infer`, { inputs: [binaryInput(1)] }, [
      rowsBytes(1),
    ]);
    // assert
    expect(response.status).toBe(200);
    expect(response.headerLength).toBeNull();
    const [output] = response.json.outputs;
    expect(output).toMatchObject({ name: 'score', datatype: 'FP32', shape: [1, 1] });
    expect(Math.abs(output.data[0] - (cases[0]?.score as number))).toBeLessThanOrEqual(1e-4);
  });

  it('answers a binary output as raw little-endian bytes after the JSON header, row by row', async () => {
    // prepare
    const rows = cases.length;
    const header = {
      inputs: [binaryInput(rows)],
      outputs: [{ name: 'score', parameters: { binary_data: true } }],
    };
    // act
    const response = await callBinary(`/v2/models/${MODEL}/versions/1/infer`, header, [rowsBytes(rows)]);
    // assert
    expect(response.status).toBe(200);
    expect(Number(response.headerLength)).toBeGreaterThan(0);
    const [output] = response.json.outputs;
    expect(output).toMatchObject({
      name: 'score',
      datatype: 'FP32',
      shape: [rows, 1],
      parameters: { binary_data_size: rows * 4 },
    });
    expect(output.data).toBeUndefined();
    expect(response.binary.length).toBe(rows * 4);
    cases.forEach((c, i) => {
      expect(Math.abs(response.binary.readFloatLE(i * 4) - c.score)).toBeLessThanOrEqual(1e-4);
    });
  });

  it('binary_data_output asks for every output in binary; binary_data false on an output overrides it', async () => {
    // prepare
    const all = { ...inferBody(1), parameters: { binary_data_output: true } };
    const overridden = {
      ...inferBody(1),
      parameters: { binary_data_output: true },
      outputs: [{ name: 'score', parameters: { binary_data: false } }],
    };
    // act
    const binary = await callBinary(`/v2/models/${MODEL}/infer`, all, []);
    const json = await callBinary(`/v2/models/${MODEL}/infer`, overridden, []);
    // assert
    expect(binary.status).toBe(200);
    expect(binary.json.outputs[0].parameters.binary_data_size).toBe(4);
    expect(Math.abs(binary.binary.readFloatLE(0) - (cases[0]?.score as number))).toBeLessThanOrEqual(1e-4);
    expect(json.status).toBe(200);
    expect(json.headerLength).toBeNull();
    expect(Math.abs(json.json.outputs[0].data[0] - (cases[0]?.score as number))).toBeLessThanOrEqual(1e-4);
  });

  const one = rowsBytes(1);
  const hostile: [string, () => [unknown, Uint8Array[], string?]][] = [
    [
      'binary_data_size below the shape',
      () => [{ inputs: [binaryInput(1, {}, { binary_data_size: 3296 })] }, [one.subarray(0, 3296)]],
    ],
    [
      'binary_data_size above the shape',
      () => [{ inputs: [binaryInput(1, {}, { binary_data_size: 3304 })] }, [one, new Uint8Array(4)]],
    ],
    ['fewer bytes than binary_data_size', () => [{ inputs: [binaryInput(1)] }, [one.subarray(0, 100)]]],
    ['bytes left over after the last tensor', () => [{ inputs: [binaryInput(1)] }, [one, new Uint8Array(8)]]],
    ['a header length beyond the body', () => [{ inputs: [binaryInput(1)] }, [one], '999999']],
    ['a header length that is not a number', () => [{ inputs: [binaryInput(1)] }, [one], 'twelve']],
    ['a header length that cuts the JSON', () => [{ inputs: [binaryInput(1)] }, [one], '10']],
    [
      'both data and binary_data_size',
      () => [{ inputs: [binaryInput(1, { data: Array.from(batch.subarray(0, ROW)) })] }, [one]],
    ],
    [
      'a negative binary_data_size',
      () => [{ inputs: [binaryInput(1, {}, { binary_data_size: -4 })] }, [one]],
    ],
    [
      'a string binary_data_size',
      () => [{ inputs: [binaryInput(1, {}, { binary_data_size: '3300' })] }, [one]],
    ],
    [
      'a datatype that does not match the model (INT64 bytes)',
      () => [
        { inputs: [binaryInput(1, { datatype: 'INT64' }, { binary_data_size: ROW * 8 })] },
        [new Uint8Array(ROW * 8)],
      ],
    ],
    [
      'a datatype that does not match the model (FP16 bytes)',
      () => [
        { inputs: [binaryInput(1, { datatype: 'FP16' }, { binary_data_size: ROW * 2 })] },
        [new Uint8Array(ROW * 2)],
      ],
    ],
  ];
  it.each(hostile)('rejects %s with 400 and an error message', async (_, build) => {
    // prepare
    const [header, tensors, headerLength] = build();
    // act
    const response = await callBinary(`/v2/models/${MODEL}/infer`, header, tensors, headerLength);
    // assert
    expectProtocolError(response, 400);
  });

  it('answers hostile framing with 200 only when every size agrees, otherwise 400, and stays up (property)', async () => {
    const datatypes = ['FP32', 'FP32', 'INT64', 'FP16', 'BYTES'];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          rows: fc.integer({ min: 1, max: 3 }),
          datatype: fc.constantFrom(...datatypes),
          sizeDelta: fc.oneof(fc.constant(0), fc.integer({ min: -ROW * 4, max: 64 })),
          bytesDelta: fc.oneof(fc.constant(0), fc.integer({ min: -64, max: 64 })),
          headerDelta: fc.oneof(fc.constant(0), fc.integer({ min: -40, max: 80 })),
          headerText: fc.option(fc.constantFrom('', 'abc', '-5', '1e3', '0x10', ' 12 '), { freq: 4 }),
        }),
        async ({ rows, datatype, sizeDelta, bytesDelta, headerDelta, headerText }) => {
          // prepare
          const size = Math.max(0, rows * ROW * 4 + sizeDelta);
          const header = { inputs: [binaryInput(rows, { datatype }, { binary_data_size: size })] };
          const json = Buffer.byteLength(JSON.stringify(header));
          const bytes = new Uint8Array(Math.max(0, size + bytesDelta)).fill(0x3f);
          const headerLength = headerText ?? String(json + headerDelta);
          const consistent =
            datatype === 'FP32' &&
            size === rows * ROW * 4 &&
            bytes.length === size &&
            headerText === null &&
            headerDelta === 0;
          // act
          const response = await callBinary(`/v2/models/${MODEL}/infer`, header, [bytes], headerLength);
          // assert
          if (consistent) {
            expect(response.status).toBe(200);
            expect(response.json.outputs[0].shape).toEqual([rows, 1]);
          } else {
            expectProtocolError(response, 400);
          }
        },
      ),
      { numRuns: 60 },
    );
    expect((await call('GET', '/v2/health/live')).status).toBe(200);
  });
});

describe('metrics', () => {
  function counter(text: string, name: string): number {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`model="${MODEL}"`));
    return line ? Number(line.split(' ').pop()) : Number.NaN;
  }

  it("exports Triton's request, count and duration counters, and they move", async () => {
    // prepare
    const before = await (await fetch(metricsUrl)).text();
    // act
    await call('POST', `/v2/models/${MODEL}/infer`, inferBody(2));
    const after = await (await fetch(metricsUrl)).text();
    // assert
    expect(
      counter(after, 'nv_inference_request_success') - counter(before, 'nv_inference_request_success'),
    ).toBe(1);
    expect(counter(after, 'nv_inference_count') - counter(before, 'nv_inference_count')).toBe(2);
    for (const name of [
      'nv_inference_request_failure',
      'nv_inference_exec_count',
      'nv_inference_queue_duration_us',
      'nv_inference_compute_infer_duration_us',
      'nv_inference_request_duration_us',
    ]) {
      expect(Number.isFinite(counter(after, name))).toBe(true);
    }
  });
});
