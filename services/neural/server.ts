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
 *
 * This file is the HTTP server and its routes; the request and response codec is
 * `./protocol`, the model repository `./repository`, the options and faults `./options`, the
 * bench-only timing header `./timing`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { INFERENCE_HEADER_CONTENT_LENGTH } from '#shared/open-inference';
import type { BatchResult } from './batcher';
import { TwinMetrics } from './metrics';
import type { TwinOptions } from './options';
import { decodeInferRequest, inferResponse, ProtocolError } from './protocol';
import { type LoadedModel, loadRepository } from './repository';
import { TWIN_TIMING_HEADER, twinTimingHeader } from './timing';

const SERVER_VERSION = '1.0.0';

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
      const request = decodeInferRequest(req.headers[INFERENCE_HEADER_CONTENT_LENGTH], body, model.config);
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
        res.setHeader(
          TWIN_TIMING_HEADER,
          twinTimingHeader({
            arrived,
            bodyRead: started,
            parsed: parsedAt,
            batchStartedMicroseconds: result.startedMicroseconds,
            computeMicroseconds: result.computeMicroseconds,
            batchRows: result.batchRows,
          }),
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
