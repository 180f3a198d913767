/**
 * The local stand-in for API Gateway: routes HTTP requests to the real Lambda handlers as
 * REST proxy events. Its limits behave like API Gateway's (`readRequestBody` in
 * `api-gateway.ts`): a body over the 10 MB payload limit is answered 413 without being
 * buffered, and the connection stays usable.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiGatewayEvent, lambdaContext, payloadTooLarge, readRequestBody } from './api-gateway';

type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface FrontRoutes {
  score: LambdaHandler;
  events: LambdaHandler;
  /** The OpenAPI document served at `GET /openapi.json`. */
  openApi: string;
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

/**
 * Requests one kept-alive connection carries before the front answers with `Connection: close`.
 * The cluster hands out connections, not requests: a payment service's keep-alive agent reuses
 * its most recent socket, so at 100 requests/s nearly every request rode one connection into one
 * worker (55 % of a core against the other's 25 %, the tail waiting behind it). API Gateway sends
 * each request to any free Lambda instance; closing every 64th keeps the local spread close to
 * that for the price of one loopback connect per 64 requests.
 */
export const REQUESTS_PER_CONNECTION = 64;

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
        const read = await readRequestBody(req);
        if ('tooLarge' in read) return send(res, payloadTooLarge(read.closeConnection));
        const event = apiGatewayEvent(req, read.body, stage);
        if (path === 'POST /v1/score') return send(res, await routes.score(event, lambdaContext('score')));
        if (path === 'POST /v1/events') return send(res, await routes.events(event, lambdaContext('events')));
        send(res, json(404, { error: { code: 'NOT_FOUND', message: `no route for ${path}` } }));
      } catch (error) {
        const failed = json(500, { error: { code: 'LOCAL_FRONT_ERROR', message: (error as Error).message } });
        // A request not read to its end leaves the connection unusable: close it, never hang.
        if (!req.complete) failed.headers = { ...failed.headers, Connection: 'close' };
        send(res, failed);
      }
    })();
  });
  server.keepAliveTimeout = 65_000;
  server.maxRequestsPerSocket = REQUESTS_PER_CONNECTION;
  return server;
}
