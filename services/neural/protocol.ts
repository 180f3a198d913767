/**
 * The Open Inference Protocol (KServe v2) codec of the twin: an inference request, JSON tensors
 * (flat or nested) and the binary tensor data extension, checked against the model
 * configuration (in Triton's words where it has them), and the response body, JSON alone or
 * followed by binary outputs. Every rejection is a {@link ProtocolError} carrying the HTTP status
 * to answer with.
 */
import {
  bytesToFp32,
  FP32_BYTES,
  fp32ToBytes,
  type InferenceBodyError,
  inferenceHeaderLength,
} from '#shared/open-inference';
import type { ModelConfig } from './model-config';

/** A request the protocol rejects; `status` is the HTTP status to answer with. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Elements in a tensor of these dims. */
export function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
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
export interface InferRequest {
  id?: string;
  inputs: Record<string, Float32Array>;
  rows: number;
  outputs: { name: string; binary: boolean }[];
}

/**
 * Validates an inference request against the model configuration; returns its inputs and batch
 * size. `binary` is the body after the JSON header (empty for a plain JSON body).
 */
function parseInferRequest(body: unknown, config: ModelConfig, binary: Buffer): InferRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtocolError(400, 'inference request must be a JSON object');
  }
  const request = body as { id?: unknown; inputs?: unknown; outputs?: unknown; parameters?: unknown };
  if (request.id !== undefined && typeof request.id !== 'string')
    throw new ProtocolError(400, "'id' must be a string");
  if (!Array.isArray(request.inputs) || request.inputs.length === 0) {
    throw new ProtocolError(400, "inference request must have a non-empty 'inputs' array");
  }
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
 * Reads an inference request body: the JSON header (the whole body unless
 * `Inference-Header-Content-Length` says where it ends) and the binary section after it,
 * validated against the model configuration.
 */
export function decodeInferRequest(
  headerLengthValue: string | string[] | undefined,
  body: Buffer,
  config: ModelConfig,
): InferRequest {
  let headerLength: number;
  try {
    headerLength = inferenceHeaderLength(headerLengthValue, body.length);
  } catch (error) {
    throw new ProtocolError(400, (error as InferenceBodyError).message);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8', 0, headerLength));
  } catch {
    throw new ProtocolError(400, 'failed to parse the request JSON buffer: invalid JSON');
  }
  return parseInferRequest(parsed, config, body.subarray(headerLength));
}

/**
 * The inference response body: JSON alone, or (when any output is binary) the JSON header
 * followed by the binary outputs in order, with the header's length for
 * `Inference-Header-Content-Length`.
 */
export function inferResponse(
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
