/**
 * The neural client's side of the Open Inference Protocol (KServe v2) for the `fraud-seq`
 * model: the request for one sequence row (the binary tensor data extension, or JSON numbers)
 * and the validation of the answer, one FP32 probability. Framing rules shared with the twin
 * are in `#shared/open-inference`.
 */
import { NeuralUnavailableError } from '#domain/errors';
import { SEQUENCE_STEPS, SEQUENCE_WIDTH } from '#domain/sequence';
import {
  FP32_BYTES,
  fp32ToBytes,
  INFERENCE_HEADER_CONTENT_LENGTH,
  type InferenceBodyError,
  inferenceHeaderLength,
  type TensorEncoding,
} from '#shared/open-inference';

/** The response of one inference call, before validation. */
export interface RawResponse {
  status: number;
  body: Buffer;
  /** `Inference-Header-Content-Length`, when the body carries binary tensors. */
  headerLength?: string | string[];
}

const ROW_VALUES = SEQUENCE_STEPS * SEQUENCE_WIDTH;

/** The one input tensor every request sends, whichever encoding carries its values. */
const SEQUENCE_INPUT = {
  name: 'sequence',
  shape: [1, SEQUENCE_STEPS, SEQUENCE_WIDTH],
  datatype: 'FP32',
} as const;

/**
 * The JSON part of every binary request: the same for every call (one row), so it is encoded
 * once; only the tensor bytes after it change.
 */
const BINARY_REQUEST_HEADER = Buffer.from(
  JSON.stringify({
    inputs: [{ ...SEQUENCE_INPUT, parameters: { binary_data_size: ROW_VALUES * FP32_BYTES } }],
    outputs: [{ name: 'score', parameters: { binary_data: true } }],
  }),
);

/** One inference call's body and headers: what the client sends and the benchmark replays. */
export interface InferRequest {
  readonly body: Buffer;
  readonly headers: Record<string, string | number>;
}

/**
 * The request for one `[1, SEQUENCE_STEPS, SEQUENCE_WIDTH]` row in `encoding`: the binary tensor
 * extension (the JSON header encoded once, then the raw FP32 bytes, the score asked back as
 * bytes) or JSON numbers.
 */
export function encodeInferRequest(data: Float32Array, encoding: TensorEncoding): InferRequest {
  if (encoding === 'binary') {
    const body = Buffer.concat([BINARY_REQUEST_HEADER, fp32ToBytes(data)]);
    return {
      body,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        [INFERENCE_HEADER_CONTENT_LENGTH]: BINARY_REQUEST_HEADER.length,
      },
    };
  }
  const body = Buffer.from(
    JSON.stringify({
      inputs: [{ ...SEQUENCE_INPUT, data: Array.from(data) }],
      outputs: [{ name: 'score' }],
    }),
  );
  return { body, headers: { 'content-type': 'application/json', 'content-length': body.length } };
}

interface ResponseOutput {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: { binary_data_size?: unknown };
}

/**
 * Validates the protocol response: one FP32 `score` of shape [1, 1] holding a probability, as
 * JSON `data` or (binary extension) as 4 bytes after the JSON header. Whatever the server
 * sends back, the outcome is a score or a `protocol` failure, never a crash.
 */
export function decodeScore(response: RawResponse): number {
  const { body } = response;
  const bad = (why: string, cause?: unknown): never => {
    throw new NeuralUnavailableError(
      'protocol',
      `neural response ${why}: ${body.toString('utf8', 0, 200)}`,
      cause === undefined ? undefined : { cause },
    );
  };
  let headerLength = body.length;
  try {
    headerLength = inferenceHeaderLength(response.headerLength, body.length);
  } catch (error) {
    bad((error as InferenceBodyError).message, error);
  }
  let json: { outputs?: ResponseOutput[] } | undefined;
  try {
    json = JSON.parse(body.toString('utf8', 0, headerLength));
  } catch (error) {
    bad('is not JSON', error);
  }
  const outputs = Array.isArray(json?.outputs) ? json.outputs : [];
  // Binary outputs follow the header in the order of the outputs array.
  let offset = headerLength;
  let output: ResponseOutput | undefined;
  let scoreOffset = -1;
  for (const o of outputs) {
    const size = o?.parameters?.binary_data_size;
    if (size !== undefined && !(Number.isSafeInteger(size) && (size as number) >= 0))
      bad('has a bad binary_data_size');
    if (o?.name === 'score') {
      output = o;
      if (size !== undefined) scoreOffset = offset;
    }
    offset += (size as number | undefined) ?? 0;
  }
  if (offset !== body.length) bad(`binary data ends at byte ${offset}, the body at ${body.length}`);
  const shape = output?.shape;
  if (
    output?.datatype !== 'FP32' ||
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    shape[0] !== 1 ||
    shape[1] !== 1
  ) {
    bad('has no FP32 score of shape [1, 1]');
  }
  let score: unknown;
  if (scoreOffset >= 0) {
    if (output?.parameters?.binary_data_size !== FP32_BYTES) bad('has a binary score that is not 4 bytes');
    score = body.readFloatLE(scoreOffset);
  } else {
    const data = output?.data;
    if (!Array.isArray(data) || data.length !== 1) bad('has no FP32 score of shape [1, 1]');
    score = (data as unknown[])[0];
  }
  if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
    throw new NeuralUnavailableError(
      'protocol',
      `neural score ${JSON.stringify(score)} is not a probability`,
    );
  }
  return score;
}
