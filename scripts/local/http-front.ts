/**
 * The local stand-in for API Gateway: routes HTTP requests to the real Lambda handlers as
 * REST proxy events. Like API Gateway at its limits, a body over the 10 MB payload limit is
 * answered 413 without being buffered, and the connection stays usable (the rest of the body
 * is read and discarded, so the next request on a keep-alive socket starts where it should).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiGatewayEvent, lambdaContext } from './api-gateway';

/** API Gateway's REST payload limit. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface FrontRoutes {
  score: LambdaHandler;
  events: LambdaHandler;
  /** The OpenAPI document served at `GET /openapi.json`. */
  openApi: string;
}

class PayloadTooLarge extends Error {}

/** Reads the body; past `limit` bytes keeps reading (to keep the socket in sync) but stops buffering. */
async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit) throw new PayloadTooLarge();
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  res.writeHead(result.statusCode, result.headers as Record<string, string>);
  res.end(result.body);
}

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

/** An HTTP server that serves the API from the given handlers. */
export function createFront(routes: FrontRoutes, stage: string): Server {
  const server = createServer((req, res) => {
    void (async function route() {
      const path = `${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname}`;
      try {
        if (path === 'GET /health') return send(res, json(200, { status: 'ok', pid: process.pid }));
        if (path === 'GET /openapi.json') {
          return send(res, {
            statusCode: 200,
            headers: { 'Content-Type': 'application/json' },
            body: routes.openApi,
          });
        }
        const body = await readBody(req, API_GATEWAY_MAX_BODY_BYTES);
        const event = apiGatewayEvent(req, body, stage);
        if (path === 'POST /v1/score') return send(res, await routes.score(event, lambdaContext('score')));
        if (path === 'POST /v1/events') return send(res, await routes.events(event, lambdaContext('events')));
        send(res, json(404, { error: { code: 'NOT_FOUND', message: `no route for ${path}` } }));
      } catch (error) {
        if (error instanceof PayloadTooLarge) {
          return send(res, json(413, { message: 'Request Too Long' }));
        }
        send(res, json(500, { error: { code: 'LOCAL_FRONT_ERROR', message: (error as Error).message } }));
      }
    })();
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
