/**
 * Builds API Gateway REST proxy events and a Lambda context from a local HTTP request, so
 * the real handlers run unchanged behind the local front, and reads request bodies the way
 * API Gateway does at its payload limit.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

/** API Gateway's REST payload limit (10 MB); larger requests never reach the function. */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/**
 * Past this many declared bytes the front does not read the body to its end: it answers 413
 * and closes the connection instead of spending the time to keep it.
 */
const MAX_DRAIN_BYTES = 8 * API_GATEWAY_MAX_PAYLOAD_BYTES;

/** A request body, or why there is none to pass on. */
export type BodyRead =
  | { readonly body: string }
  | { readonly tooLarge: true; readonly closeConnection: boolean };

/**
 * Reads a request body up to `limit` bytes. A larger body is still read to its end but not
 * kept: the next request on a keep-alive connection starts right after it, so reading must
 * not stop in the middle (that left the rest of the body to be parsed as the next request,
 * which then hung until the keep-alive timeout). A declared length beyond any reasonable
 * drain is refused at once, with the connection closed.
 */
export async function readRequestBody(
  req: IncomingMessage,
  limit: number = API_GATEWAY_MAX_PAYLOAD_BYTES,
): Promise<BodyRead> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > MAX_DRAIN_BYTES) return { tooLarge: true, closeConnection: true };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_DRAIN_BYTES) return { tooLarge: true, closeConnection: true };
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit) return { tooLarge: true, closeConnection: false };
  return { body: Buffer.concat(chunks).toString('utf8') };
}

/**
 * API Gateway's answer to a body over its payload limit: the default `REQUEST_TOO_LARGE`
 * gateway response, which REST APIs do not let a stack customize (so not our error shape).
 */
export function payloadTooLarge(closeConnection: boolean): APIGatewayProxyResult {
  return {
    statusCode: 413,
    headers: { 'Content-Type': 'application/json', ...(closeConnection ? { Connection: 'close' } : {}) },
    body: JSON.stringify({ message: 'Request Too Long' }),
  };
}

export function apiGatewayEvent(req: IncomingMessage, body: string, stage: string): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers[name] = value;
    else if (Array.isArray(value)) headers[name] = value.join(',');
  }
  const query = Object.fromEntries(url.searchParams.entries());
  const requestId = randomUUID();
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders: {},
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: req.method ?? 'GET',
      identity: {
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? null,
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/${stage}${url.pathname}`,
      stage,
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: url.pathname,
    },
  };
}

export function lambdaContext(functionName: string, timeoutMs = 3000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
