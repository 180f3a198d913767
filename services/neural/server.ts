/**
 * The local CPU twin of the GPU neural service: an Open Inference Protocol (KServe v2)
 * HTTP/REST server, as Triton speaks it, over a Triton model repository
 * (`<model>/config.pbtxt`, `<model>/<version>/model.onnx`), on onnxruntime-node.
 *
 * Endpoints: `GET /v2`, `GET /v2/health/live`, `GET /v2/health/ready`,
 * `GET /v2/models/{name}[/versions/{v}]`, `GET /v2/models/{name}[/versions/{v}]/ready`,
 * `POST /v2/models/{name}[/versions/{v}]/infer` (JSON tensors, and the binary tensor data
 * extension for inputs and outputs, `#shared/open-inference`), `GET /metrics` (Prometheus,
 * Triton's metric names; Triton serves it on its own port 8002, the twin on the same port).
 * Errors are `{"error": "<message>"}` with a 4xx/5xx status, as the protocol writes them: 400
 * for a bad request (Triton's wording where it has one), 404 for an unknown model or version
 * or path, 405 for a wrong method, 413 for an oversized body, 500 when inference fails.
 *
 * Test-only fault injection (`fault`): answer every inference slowly, with an HTTP error
 * status, or with a malformed tensor, so the client's budget and breaker can be tested
 * against a real process.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import {
  bytesToFp32,
  FP32_BYTES,
  fp32ToBytes,
  INFERENCE_HEADER_CONTENT_LENGTH,
  type InferenceBodyError,
  inferenceHeaderLength,
} from '#shared/open-inference';
import { type BatchResult, DynamicBatcher } from './batcher';
import { type TwinMetrics as Metrics, type ModelSeries, TwinMetrics } from './metrics';
import { type ModelConfig, parseModelConfig } from './model-config';

const { InferenceSession, Tensor }: typeof Ort = require('onnxruntime-node');

/** Injected misbehaviour for fault tests. */
export type TwinFault =
  | { kind: 'slow'; ms: number }
  | { kind: 'status'; status: number }
  | { kind: 'malformed' };

/** Reads `slow:<ms>`, `status:<code>` or `malformed`. */
export function parseFault(text: string | undefined): TwinFault | undefined {
  if (!text) return undefined;
  const [kind, value] = text.split(':');
  if (kind === 'malformed') return { kind };
  const n = Number(value);
  if (kind === 'slow' && Number.isFinite(n) && n >= 0) return { kind, ms: n };
  if (kind === 'status' && Number.isInteger(n) && n >= 400 && n <= 599) return { kind, status: n };
  throw new Error(`bad fault '${text}': use slow:<ms>, status:<code> or malformed`);
}

/** How to start the twin. */
export interface TwinOptions {
  /** A Triton model repository directory. */
  repository: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 8000 (Triton's HTTP port) */
  port?: number;
  /** Overrides every model's max_batch_size (1 = batching off, for the benchmark). */
  maxBatchSize?: number;
  /** onnxruntime intra-op threads per instance. @default 1 */
  threads?: number;
  /** @default 8 MiB */
  maxBodyBytes?: number;
  fault?: TwinFault;
  /**
   * Bench-only: every inference answer carries a {@link TWIN_TIMING_HEADER} with this twin's
   * phase marks, so a client can split a round trip into wire and twin time. Not part of the
   * protocol (Triton sends no such header), so off unless asked for. @default false
   */
  timing?: boolean;
}

/** The bench-only response header of {@link TwinOptions.timing}. */
export const TWIN_TIMING_HEADER = 'neural-twin-timing';

/**
 * Converts `performance.now()` to the system's monotonic clock in microseconds
 * (`process.hrtime`, CLOCK_MONOTONIC on Linux), which every process on the machine shares:
 * marks taken in the twin and in its client then sit on one time line.
 */
export function monotonicMicroseconds(now = performance.now()): number {
  return now * 1000 + MONOTONIC_OFFSET_US;
}
/** Read between two `performance.now()` calls (the first one warms it up), so the pair is µs-close. */
const MONOTONIC_OFFSET_US = ((): number => {
  performance.now();
  const before = performance.now();
  const monotonic = Number(process.hrtime.bigint() / 1000n);
  return monotonic - ((before + performance.now()) / 2) * 1000;
})();

/**
 * One inference request's marks in the twin, as monotonic microseconds: `r` request event
 * (headers parsed), `b` body read, `p` request parsed and validated, `s` its batch started, `c`
 * the batch computed, `w` the response handed to the socket; `n` rows in the batch.
 */
export interface TwinTiming {
  r: number;
  b: number;
  p: number;
  s: number;
  c: number;
  w: number;
  n: number;
}

/** Reads a {@link TWIN_TIMING_HEADER} value (`r=…,b=…,…`). */
export function parseTwinTiming(value: string | string[] | undefined): TwinTiming | undefined {
  if (typeof value !== 'string') return undefined;
  const marks = Object.fromEntries(
    value.split(',').map((pair) => {
      const [key, number] = pair.split('=');
      return [key, Number(number)];
    }),
  ) as Partial<TwinTiming>;
  const keys = ['r', 'b', 'p', 's', 'c', 'w', 'n'] as const;
  return keys.every((k) => Number.isFinite(marks[k])) ? (marks as TwinTiming) : undefined;
}

interface LoadedModel {
  config: ModelConfig;
  version: string;
  session: Ort.InferenceSession;
  batcher: DynamicBatcher;
  /** This model version's metrics, updated per request. */
  series: ModelSeries;
  /** Each output's dims without the batch dimension, by name. */
  outputDims: ReadonlyMap<string, readonly number[]>;
}

/** A request the protocol rejects; `status` is the HTTP status to answer with. */
class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const SERVER_VERSION = '1.0.0';

function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** Loads the newest numeric version of every model in the repository. */
async function loadRepository(options: TwinOptions, metrics: Metrics): Promise<Map<string, LoadedModel>> {
  const models = new Map<string, LoadedModel>();
  for (const entry of readdirSync(options.repository)) {
    const dir = join(options.repository, entry);
    if (!statSync(dir).isDirectory()) continue;
    const configText = readFileSync(join(dir, 'config.pbtxt'), 'utf8');
    const config = parseModelConfig(configText);
    if (config.name !== entry)
      throw new Error(`${dir}: config name '${config.name}' differs from the directory name`);
    if (options.maxBatchSize !== undefined) {
      config.maxBatchSize = options.maxBatchSize;
      if (config.dynamicBatching) {
        config.dynamicBatching.preferredBatchSizes = config.dynamicBatching.preferredBatchSizes.filter(
          (s) => s <= Math.max(1, options.maxBatchSize as number),
        );
      }
    }
    const versions = readdirSync(dir)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    const version = versions[0];
    if (!version) throw new Error(`${dir}: no numeric version directory`);
    const session = await InferenceSession.create(join(dir, version, 'model.onnx'), {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const width = (t: { dims: number[] }) => product(t.dims);
    const batcher = new DynamicBatcher(
      {
        maxBatchSize: config.maxBatchSize,
        dynamic: config.dynamicBatching,
        instances: config.instanceCount,
        inputWidths: Object.fromEntries(config.inputs.map((t) => [t.name, width(t)])),
        outputWidths: Object.fromEntries(config.outputs.map((t) => [t.name, width(t)])),
      },
      async (inputs, rows) => {
        const feeds: Record<string, Ort.Tensor> = {};
        for (const t of config.inputs) {
          feeds[t.name] = new Tensor('float32', inputs[t.name] as Float32Array, [rows, ...t.dims]);
        }
        const result = await session.run(feeds);
        return Object.fromEntries(config.outputs.map((t) => [t.name, result[t.name]?.data as Float32Array]));
      },
      // Before registration (the warm-up below) nothing is counted.
      (batch) => series?.batch(batch.rows, batch.computeMicroseconds),
    );
    let series: ModelSeries | undefined;
    // Warm-up with one zero row, so the first request pays no graph initialisation (not counted).
    await batcher.submit(
      Object.fromEntries(config.inputs.map((t) => [t.name, new Float32Array(width(t))])),
      1,
    );
    series = metrics.register(config.name, version, () => batcher.pending);
    models.set(config.name, {
      config,
      version,
      session,
      batcher,
      series,
      outputDims: new Map(config.outputs.map((t) => [t.name, t.dims])),
    });
  }
  if (models.size === 0) throw new Error(`${options.repository}: no models`);
  return models;
}

const JSON_HEADERS = (length: number) => ({ 'content-type': 'application/json', 'content-length': length });

function send(res: ServerResponse, status: number, body?: unknown, contentType = 'application/json'): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The whole body as bytes, at most `limit` of them (the binary extension carries raw tensor bytes). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new ProtocolError(413, `request body exceeds ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Flattens row-major nested arrays (the protocol allows both flat and nested data). */
function flatten(data: unknown, out: number[]): void {
  if (Array.isArray(data)) {
    for (const v of data) flatten(v, out);
    return;
  }
  if (typeof data !== 'number' || !Number.isFinite(data)) {
    throw new ProtocolError(
      400,
      `tensor data must be finite numbers for datatype FP32, got ${JSON.stringify(data)}`,
    );
  }
  out.push(data);
}

/** The input's values as float32, checked against the shape; flat arrays take the fast path. */
function tensorData(data: unknown, name: string, shape: readonly number[]): Float32Array {
  const count = product(shape);
  let values: ArrayLike<unknown> = [];
  if (Array.isArray(data) && data.length === count && (count === 0 || !Array.isArray(data[0]))) {
    values = data;
  } else {
    const flat: number[] = [];
    flatten(data, flat);
    values = flat;
  }
  if (values.length !== count) {
    throw new ProtocolError(
      400,
      `unexpected number of values for input '${name}': shape [${shape.join(',')}] needs ${count}, got ${values.length}`,
    );
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ProtocolError(
        400,
        `tensor data must be finite numbers for datatype FP32, got ${JSON.stringify(v)}`,
      );
    }
    out[i] = v;
  }
  return out;
}

interface InferRequestInput {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  parameters?: unknown;
  data?: unknown;
}

/** A JSON object (not null, not an array), or undefined when absent; 400 otherwise. */
function parameters(value: unknown, where: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(400, `Unable to parse 'parameters' of ${where}: must be an object`);
  }
  return value as Record<string, unknown>;
}

/** A bool parameter, as Triton reads `binary_data` and `binary_data_output`. */
function boolParameter(params: Record<string, unknown> | undefined, key: string): boolean | undefined {
  const value = params?.[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ProtocolError(400, `Unable to parse '${key}'`);
  return value;
}

/**
 * The binary tensor section after the JSON header, consumed input by input in the order of the
 * request's `inputs` (the extension's rule); what is left over at the end is an error.
 */
class BinarySection {
  private offset = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly model: string,
  ) {}

  take(input: string, size: number): Buffer {
    const available = this.bytes.length - this.offset;
    if (size > available) {
      throw new ProtocolError(
        400,
        `unexpected size for input '${input}', expecting ${size - available} additional bytes for model '${this.model}'`,
      );
    }
    const slice = this.bytes.subarray(this.offset, this.offset + size);
    this.offset += size;
    return slice;
  }

  finish(): void {
    if (this.offset !== this.bytes.length)
      throw new ProtocolError(400, `unexpected additional input data for model '${this.model}'`);
  }
}

/** One input's values from `binary_data_size` bytes of the binary section, checked against the shape. */
function binaryTensorData(
  params: Record<string, unknown>,
  name: string,
  shape: readonly number[],
  section: BinarySection,
): Float32Array {
  const size = params.binary_data_size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new ProtocolError(400, "Unable to parse 'binary_data_size'");
  }
  const bytes = section.take(name, size);
  const expected = product(shape) * FP32_BYTES;
  if (size !== expected) {
    throw new ProtocolError(
      400,
      `input byte size mismatch for input '${name}': expected ${expected}, got ${size}`,
    );
  }
  return bytesToFp32(bytes);
}

/** A validated inference request: inputs by name, rows, and each requested output's encoding. */
interface InferRequest {
  id?: string;
  inputs: Record<string, Float32Array>;
  rows: number;
  outputs: { name: string; binary: boolean }[];
}

/**
 * Validates an inference request against the model configuration; returns its inputs and batch
 * size. `binary` is the body after the JSON header (empty for a plain JSON body).
 */
function parseInferRequest(body: unknown, model: LoadedModel, binary: Buffer): InferRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtocolError(400, 'inference request must be a JSON object');
  }
  const request = body as { id?: unknown; inputs?: unknown; outputs?: unknown; parameters?: unknown };
  if (request.id !== undefined && typeof request.id !== 'string')
    throw new ProtocolError(400, "'id' must be a string");
  if (!Array.isArray(request.inputs) || request.inputs.length === 0) {
    throw new ProtocolError(400, "inference request must have a non-empty 'inputs' array");
  }
  const { config } = model;
  const binaryOutput = boolParameter(parameters(request.parameters, 'the request'), 'binary_data_output');
  const section = new BinarySection(binary, config.name);
  const batched = config.maxBatchSize > 0;
  const inputs: Record<string, Float32Array> = {};
  let rows = -1;
  for (const raw of request.inputs as InferRequestInput[]) {
    if (typeof raw !== 'object' || raw === null) throw new ProtocolError(400, 'each input must be an object');
    const spec = config.inputs.find((t) => t.name === raw.name);
    if (!spec)
      throw new ProtocolError(
        400,
        `unexpected inference input '${String(raw.name)}' for model '${config.name}'`,
      );
    if (inputs[spec.name]) throw new ProtocolError(400, `input '${spec.name}' is given twice`);
    const params = parameters(raw.parameters, `input '${spec.name}'`);
    if (params && 'shared_memory_region' in params) {
      throw new ProtocolError(400, 'the shared-memory extension is not supported by this server');
    }
    const isBinary = params !== undefined && 'binary_data_size' in params;
    if (isBinary === (raw.data !== undefined)) {
      throw new ProtocolError(
        400,
        `Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters'. But ${
          isBinary ? "set 'data' 'binary_data_size'" : 'no field is set'
        }`,
      );
    }
    if (raw.datatype !== spec.datatype) {
      throw new ProtocolError(
        400,
        `inference input '${spec.name}' data-type is '${String(raw.datatype)}', but model '${config.name}' expects '${spec.datatype}'`,
      );
    }
    const shape = raw.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ProtocolError(400, `input '${spec.name}' shape must be an array of non-negative integers`);
    }
    const expected = batched ? [-1, ...spec.dims] : spec.dims;
    const matches =
      shape.length === expected.length && expected.every((d, i) => d === -1 || d === (shape[i] as number));
    if (!matches) {
      throw new ProtocolError(
        400,
        `unexpected shape for input '${spec.name}' for model '${config.name}'. Expected [${expected.join(',')}], got [${shape.join(',')}]`,
      );
    }
    const batch = batched ? (shape[0] as number) : 1;
    if (batched && (batch < 1 || batch > config.maxBatchSize)) {
      throw new ProtocolError(
        400,
        `inference request batch-size ${batch} must be between 1 and max_batch_size ${config.maxBatchSize} for model '${config.name}'`,
      );
    }
    if (rows !== -1 && rows !== batch)
      throw new ProtocolError(400, 'all inputs must have the same batch size');
    rows = batch;
    inputs[spec.name] = isBinary
      ? binaryTensorData(params, spec.name, shape as number[], section)
      : tensorData(raw.data, spec.name, shape as number[]);
  }
  section.finish();
  for (const spec of config.inputs) {
    if (!inputs[spec.name])
      throw new ProtocolError(400, `expected input '${spec.name}' for model '${config.name}'`);
  }
  let outputs = config.outputs.map((t) => ({ name: t.name, binary: binaryOutput ?? false }));
  if (request.outputs !== undefined) {
    if (!Array.isArray(request.outputs)) throw new ProtocolError(400, "'outputs' must be an array");
    outputs = (request.outputs as { name?: unknown; parameters?: unknown }[]).map((o) => {
      const name = typeof o === 'object' && o !== null ? o.name : undefined;
      if (!config.outputs.some((t) => t.name === name)) {
        throw new ProtocolError(
          400,
          `unexpected inference output '${String(name)}' for model '${config.name}'`,
        );
      }
      const own = boolParameter(parameters(o.parameters, `output '${String(name)}'`), 'binary_data');
      return { name: name as string, binary: own ?? binaryOutput ?? false };
    });
  }
  return { id: request.id as string | undefined, inputs, rows: Math.max(1, rows), outputs };
}

/**
 * The inference response body: JSON alone, or (when any output is binary) the JSON header
 * followed by the binary outputs in order, with the header's length for
 * `Inference-Header-Content-Length`.
 */
function inferResponse(
  head: { model_name: string; model_version: string; id?: string },
  outputs: readonly { name: string; shape: readonly number[]; data: Float32Array; binary: boolean }[],
): { body: Buffer; headerLength?: number } {
  const tensors: Uint8Array[] = [];
  const json = {
    ...head,
    outputs: outputs.map((o) => {
      if (!o.binary) return { name: o.name, datatype: 'FP32', shape: o.shape, data: Array.from(o.data) };
      tensors.push(fp32ToBytes(o.data));
      return {
        name: o.name,
        datatype: 'FP32',
        shape: o.shape,
        parameters: { binary_data_size: o.data.byteLength },
      };
    }),
  };
  const header = Buffer.from(JSON.stringify(json));
  if (tensors.length === 0) return { body: header };
  return { body: Buffer.concat([header, ...tensors]), headerLength: header.length };
}

/** A running twin. */
export interface RunningTwin {
  url: string;
  server: Server;
  models: ReadonlyMap<string, LoadedModel>;
  close(): Promise<void>;
}

/** Loads the repository and starts listening; resolves once the models are ready. */
export async function startTwin(options: TwinOptions): Promise<RunningTwin> {
  const metrics = new TwinMetrics();
  const models = await loadRepository(options, metrics);
  const limit = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const fault = options.fault;
  const timing = options.timing ?? false;

  const resolveModel = (name: string, version?: string): LoadedModel => {
    const model = models.get(name);
    if (!model) throw new ProtocolError(404, `Request for unknown model: '${name}' is not found`);
    if (version !== undefined && version !== model.version) {
      throw new ProtocolError(404, `Request for unknown model: '${name}' version ${version} is not found`);
    }
    return model;
  };

  const metadata = (model: LoadedModel) => ({
    name: model.config.name,
    versions: [model.version],
    platform: model.config.platform,
    inputs: model.config.inputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: model.config.maxBatchSize > 0 ? [-1, ...t.dims] : t.dims,
    })),
    outputs: model.config.outputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: model.config.maxBatchSize > 0 ? [-1, ...t.dims] : t.dims,
    })),
  });

  async function infer(
    model: LoadedModel,
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    arrived: number,
  ) {
    const started = performance.now();
    const { series } = model;
    try {
      let headerLength: number;
      try {
        headerLength = inferenceHeaderLength(req.headers[INFERENCE_HEADER_CONTENT_LENGTH], body.length);
      } catch (error) {
        throw new ProtocolError(400, (error as InferenceBodyError).message);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8', 0, headerLength));
      } catch {
        throw new ProtocolError(400, 'failed to parse the request JSON buffer: invalid JSON');
      }
      const request = parseInferRequest(parsed, model, body.subarray(headerLength));
      const parsedAt = timing ? performance.now() : 0;
      if (fault?.kind === 'status')
        throw new ProtocolError(fault.status, `injected fault: HTTP ${fault.status}`);
      let result: BatchResult;
      try {
        result = await model.batcher.submit(request.inputs, request.rows);
      } catch (error) {
        throw new ProtocolError(500, `onnxruntime execution failure: ${(error as Error).message}`);
      }
      if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
      const outputs = request.outputs.map((out) => {
        const dims = model.outputDims.get(out.name) ?? [];
        const data = result.outputs[out.name] as Float32Array;
        return fault?.kind === 'malformed'
          ? { ...out, shape: [request.rows + 1, 3], data: new Float32Array(data.length).fill(Number.NaN) }
          : { ...out, shape: model.config.maxBatchSize > 0 ? [request.rows, ...dims] : dims, data };
      });
      const response = inferResponse(
        request.id === undefined
          ? { model_name: model.config.name, model_version: model.version }
          : { model_name: model.config.name, model_version: model.version, id: request.id },
        outputs,
      );
      if (timing) {
        const mark = (ms: number) => monotonicMicroseconds(ms).toFixed(1);
        const batchStarted = result.startedMicroseconds / 1000;
        const batchComputed = batchStarted + result.computeMicroseconds / 1000;
        res.setHeader(
          TWIN_TIMING_HEADER,
          `r=${mark(arrived)},b=${mark(started)},p=${mark(parsedAt)},s=${mark(batchStarted)},c=${mark(batchComputed)},w=${mark(performance.now())},n=${result.batchRows}`,
        );
      }
      if (response.headerLength === undefined) {
        res.writeHead(200, JSON_HEADERS(response.body.length));
      } else {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': response.body.length,
          [INFERENCE_HEADER_CONTENT_LENGTH]: response.headerLength,
        });
      }
      res.end(response.body);
      series.success(Math.round((performance.now() - started) * 1000), result.queueMicroseconds);
    } catch (error) {
      series.failure();
      throw error;
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, arrived: number): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] as string;
    const method = req.method ?? 'GET';
    const only = (allowed: string) => {
      if (method !== allowed) throw new ProtocolError(405, `method ${method} is not allowed on ${path}`);
    };
    if (path === '/v2/health/live' || path === '/v2/health/ready') {
      only('GET');
      return send(res, 200);
    }
    if (path === '/v2') {
      only('GET');
      return send(res, 200, {
        name: 'fraud-scoring-neural-twin',
        version: SERVER_VERSION,
        extensions: ['binary_tensor_data'],
      });
    }
    if (path === '/metrics') {
      only('GET');
      return send(res, 200, metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
    }
    const match = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(path);
    if (!match) throw new ProtocolError(404, `no route for ${method} ${path}`);
    const [, rawName, version, action] = match;
    const model = resolveModel(decodeURIComponent(rawName as string), version && decodeURIComponent(version));
    if (action === '/ready') {
      only('GET');
      return send(res, 200);
    }
    if (action === '/infer') {
      only('POST');
      const body = await readBody(req, limit);
      return infer(model, req, body, res, arrived);
    }
    only('GET');
    return send(res, 200, metadata(model));
  }

  const server = createServer((req, res) => {
    route(req, res, timing ? performance.now() : 0).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      const status = error instanceof ProtocolError ? error.status : 500;
      send(res, status, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  // Keep-alive longer than the clients' idle timeouts, so a pooled socket is never closed under a request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    server,
    models,
    async close() {
      for (const model of models.values()) model.batcher.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const model of models.values()) await model.session.release();
    },
  };
}
