/**
 * Reads a Triton model configuration (`config.pbtxt`, protobuf text format) into the subset
 * the local twin needs: name, platform, max batch size, inputs and outputs, dynamic batching
 * and instance groups. The GPU service loads the same file unchanged, so the twin batches
 * exactly as configured for Triton.
 *
 * The parser handles the text-format constructs Triton configurations use: `field: value`,
 * `field { ... }`, `field [ { ... }, { ... } ]`, `field: [ 1, 2 ]`, repeated fields, quoted
 * strings, enum identifiers and `#` comments. Unknown fields are kept in the tree and ignored.
 */

/** A parsed text-format message: every field maps to the list of its values, in order. */
export type PbMessage = { [field: string]: PbValue[] };
export type PbValue = string | number | boolean | PbMessage;

/** The configuration is not valid text format or misses what the twin needs. */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
}

type Token = { kind: 'ident' | 'string' | 'number' | 'punct'; text: string; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if ('{}[]:,;<>'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, at: i });
      i += 1;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) j += 1;
        value += text[j];
        j += 1;
      }
      if (j >= text.length) throw new ModelConfigError(`unterminated string at offset ${i}`);
      tokens.push({ kind: 'string', text: value, at: i });
      i = j + 1;
    } else {
      const match = /^[-+]?[A-Za-z0-9_.]+/.exec(text.slice(i));
      if (!match) throw new ModelConfigError(`unexpected character '${c}' at offset ${i}`);
      const word = match[0];
      tokens.push({ kind: /^[-+]?(\d|\.\d)/.test(word) ? 'number' : 'ident', text: word, at: i });
      i += word.length;
    }
  }
  return tokens;
}

/** Parses protobuf text format into a {@link PbMessage}. */
export function parseTextProto(text: string): PbMessage {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => {
    const token = tokens[pos];
    if (!token) throw new ModelConfigError('unexpected end of configuration');
    pos += 1;
    return token;
  };
  const expect = (text: string) => {
    const token = next();
    if (token.text !== text || token.kind !== 'punct') {
      throw new ModelConfigError(`expected '${text}' at offset ${token.at}, got '${token.text}'`);
    }
  };
  const scalar = (token: Token): PbValue => {
    if (token.kind === 'string') return token.text;
    if (token.kind === 'number') {
      const value = Number(token.text);
      if (Number.isNaN(value)) throw new ModelConfigError(`bad number '${token.text}' at offset ${token.at}`);
      return value;
    }
    if (token.kind === 'ident')
      return token.text === 'true' ? true : token.text === 'false' ? false : token.text;
    throw new ModelConfigError(`unexpected '${token.text}' at offset ${token.at}`);
  };
  const value = (): PbValue => {
    const token = peek();
    if (token?.kind === 'punct' && (token.text === '{' || token.text === '<')) {
      next();
      return message(token.text === '{' ? '}' : '>');
    }
    return scalar(next());
  };
  const message = (close?: string): PbMessage => {
    const out: PbMessage = {};
    for (;;) {
      const token = peek();
      if (!token) {
        if (close) throw new ModelConfigError(`missing '${close}' at end of configuration`);
        return out;
      }
      if (token.kind === 'punct' && token.text === close) {
        next();
        return out;
      }
      if (token.kind === 'punct' && (token.text === ',' || token.text === ';')) {
        next();
        continue;
      }
      const field = next();
      if (field.kind !== 'ident') throw new ModelConfigError(`expected a field name at offset ${field.at}`);
      const values = out[field.text] ?? [];
      out[field.text] = values;
      if (peek()?.kind === 'punct' && peek()?.text === ':') next();
      if (peek()?.kind === 'punct' && peek()?.text === '[') {
        next();
        while (!(peek()?.kind === 'punct' && peek()?.text === ']')) {
          values.push(value());
          if (peek()?.kind === 'punct' && peek()?.text === ',') next();
        }
        expect(']');
      } else {
        values.push(value());
      }
    }
  };
  return message();
}

/** Triton data types the twin accepts, with their KServe v2 names. */
const DATA_TYPES: Readonly<Record<string, string>> = { TYPE_FP32: 'FP32' };

/** One input or output tensor, as configured (dims exclude the batch dimension). */
export interface TensorConfig {
  name: string;
  /** KServe v2 datatype, e.g. `FP32`. */
  datatype: string;
  dims: number[];
}

/** What the twin uses of a Triton model configuration. */
export interface ModelConfig {
  name: string;
  platform: string;
  /** 0 means the model takes no batch dimension; Triton then never batches. */
  maxBatchSize: number;
  inputs: TensorConfig[];
  outputs: TensorConfig[];
  /** Absent when the configuration has no `dynamic_batching` block. */
  dynamicBatching?: { preferredBatchSizes: number[]; maxQueueDelayMicroseconds: number };
  /** Total instances over all instance groups (at least 1). */
  instanceCount: number;
}

function one<T extends PbValue>(
  message: PbMessage,
  field: string,
  check: (v: PbValue) => v is T,
): T | undefined {
  const values = message[field];
  if (!values || values.length === 0) return undefined;
  const last = values[values.length - 1] as PbValue;
  if (!check(last)) throw new ModelConfigError(`field '${field}' has the wrong type`);
  return last;
}
const isString = (v: PbValue): v is string => typeof v === 'string';
const isNumber = (v: PbValue): v is number => typeof v === 'number';
const isMessage = (v: PbValue): v is PbMessage => typeof v === 'object';

function tensors(message: PbMessage, field: 'input' | 'output'): TensorConfig[] {
  return (message[field] ?? []).map((entry, i) => {
    if (!isMessage(entry)) throw new ModelConfigError(`${field}[${i}] is not a message`);
    const name = one(entry, 'name', isString);
    const type = one(entry, 'data_type', isString);
    const dims = (entry.dims ?? []).map((d) => {
      if (!isNumber(d) || !Number.isInteger(d))
        throw new ModelConfigError(`${field}[${i}].dims must be integers`);
      return d;
    });
    if (!name) throw new ModelConfigError(`${field}[${i}] has no name`);
    const datatype = type ? DATA_TYPES[type] : undefined;
    if (!datatype)
      throw new ModelConfigError(`${field} '${name}': data_type ${type} is not supported by the twin`);
    if (dims.length === 0) throw new ModelConfigError(`${field} '${name}' has no dims`);
    if (dims.some((d) => d < 1))
      throw new ModelConfigError(`${field} '${name}': variable dims are not supported`);
    return { name, datatype, dims };
  });
}

/** Reads the configuration the twin needs; throws {@link ModelConfigError} naming the problem. */
export function parseModelConfig(text: string): ModelConfig {
  const root = parseTextProto(text);
  const name = one(root, 'name', isString);
  const platform = one(root, 'platform', isString) ?? one(root, 'backend', isString);
  if (!name) throw new ModelConfigError("configuration has no 'name'");
  if (platform !== 'onnxruntime_onnx' && platform !== 'onnxruntime') {
    throw new ModelConfigError(`platform ${platform} is not supported by the twin (onnxruntime_onnx only)`);
  }
  const maxBatchSize = one(root, 'max_batch_size', isNumber) ?? 0;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 0)
    throw new ModelConfigError('max_batch_size must be ≥ 0');
  const inputs = tensors(root, 'input');
  const outputs = tensors(root, 'output');
  if (inputs.length === 0 || outputs.length === 0)
    throw new ModelConfigError('configuration needs inputs and outputs');
  const batching = one(root, 'dynamic_batching', isMessage);
  let dynamicBatching: ModelConfig['dynamicBatching'];
  if (batching) {
    const preferred = (batching.preferred_batch_size ?? []).map((v) => {
      if (!isNumber(v) || !Number.isInteger(v) || v < 1 || v > Math.max(1, maxBatchSize)) {
        throw new ModelConfigError(`preferred_batch_size ${String(v)} must be between 1 and max_batch_size`);
      }
      return v;
    });
    const delay = one(batching, 'max_queue_delay_microseconds', isNumber) ?? 0;
    if (delay < 0) throw new ModelConfigError('max_queue_delay_microseconds must be ≥ 0');
    dynamicBatching = {
      preferredBatchSizes: [...new Set(preferred)].sort((a, b) => a - b),
      maxQueueDelayMicroseconds: delay,
    };
  }
  const groups = (root.instance_group ?? []).filter(isMessage);
  const instanceCount =
    groups.length === 0 ? 1 : groups.reduce((sum, g) => sum + (one(g, 'count', isNumber) ?? 1), 0);
  return {
    name,
    platform,
    maxBatchSize,
    inputs,
    outputs,
    dynamicBatching,
    instanceCount: Math.max(1, instanceCount),
  };
}
