/**
 * The Open Inference Protocol's binary tensor data extension, as Triton implements it
 * (`docs/protocol/extension_binary_data.md` in triton-inference-server/server): one contract
 * for both sides of the neural boundary, imported by the score function's client
 * (`adapters/neural-scorer.ts`) and by the local twin (`services/neural/server.ts`).
 *
 * The body of a request or response is the JSON inference object followed by the raw tensor
 * bytes, in the order the tensors are listed in the JSON; each binary tensor carries
 * `parameters.binary_data_size` (bytes) instead of `data`. The `Inference-Header-Content-Length`
 * header gives the JSON part's length; `Content-Length` stays the whole body. Tensor bytes are
 * little-endian, row-major, without padding. A request asks for binary outputs with
 * `parameters.binary_data_output` (all outputs) or `binary_data` on one output.
 *
 * Why: a `[1, 33, 25]` FP32 sequence is 3.3 KB of raw bytes but ~9 KB of JSON numbers that
 * both sides must print and parse on every call; the bytes are copied, not parsed.
 */

/** The header that gives the JSON part's length (HTTP header names are case-insensitive). */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

/** How tensors travel: the binary tensor data extension (raw FP32 bytes) or JSON numbers. */
export const TENSOR_ENCODINGS = ['binary', 'json'] as const;
export type TensorEncoding = (typeof TENSOR_ENCODINGS)[number];

/** Bytes per FP32 element. */
export const FP32_BYTES = 4;

/** A body whose framing contradicts its headers. */
export class InferenceBodyError extends Error {
  override readonly name = 'InferenceBodyError';
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The JSON part's length from `Inference-Header-Content-Length`; the whole body when the header
 * is absent (a plain JSON body). Throws {@link InferenceBodyError} when the value is not a
 * decimal integer in `(0, bodyLength]` (a repeated header arrives joined with commas, so it
 * fails too).
 */
export function inferenceHeaderLength(value: string | string[] | undefined, bodyLength: number): number {
  if (value === undefined) return bodyLength;
  const text = Array.isArray(value) ? value.join(',') : value;
  const length = /^\s*\d{1,15}\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(length > 0 && length <= bodyLength)) {
    throw new InferenceBodyError(
      `inference header size should be in range (0, ${bodyLength}], got: ${text.slice(0, 40)}`,
    );
  }
  return length;
}

/**
 * The little-endian bytes of FP32 values: a view of the same memory on a little-endian host
 * (x86-64, arm64: no copy), a converted copy elsewhere.
 */
export function fp32ToBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * FP32_BYTES, values[i] as number, true);
  return out;
}

/**
 * FP32 values from little-endian bytes (a length that is a multiple of 4). Always a copy: the
 * bytes usually sit at an unaligned offset of a larger network buffer, and the caller may keep
 * the values after the buffer is reused.
 */
export function bytesToFp32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % FP32_BYTES !== 0) {
    throw new InferenceBodyError(`${bytes.byteLength} bytes is not a whole number of FP32 values`);
  }
  const out = new Float32Array(bytes.byteLength / FP32_BYTES);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * FP32_BYTES, true);
  return out;
}
