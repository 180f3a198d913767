import { BatchGetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { HttpResponse } from '@smithy/core/transport';
import { Readable } from 'node:stream';

const body = JSON.stringify({ Responses: { f: [{ pk: { S: 'card#1' }, updatedAt: { N: '1700000000000' }, count: { N: '12' }, sum: { N: '123.5' } }, { pk: { S: 'merchant#1' }, updatedAt: { N: '1700000000000' } }] }, UnprocessedKeys: {} });
const handler = {
  handle: async () => ({ response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Readable.from([Buffer.from(body)]) }) }),
  updateHttpClientConfig() {}, httpHandlerConfigs() { return {}; }, destroy() {},
};
function make(strip: string[], maxAttempts = 2, cacheMiddleware = false) {
  const c = new DynamoDBClient({ cacheMiddleware, region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, requestHandler: handler as never });
  for (const s of strip) c.middlewareStack.remove(s);
  return c;
}
const results = new Map<string, number[]>();
async function time(label: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 500; i++) await fn();
  const n = 2000; const t = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const u = process.cpuUsage(t);
  const r = results.get(label) ?? []; r.push((u.user + u.system) / n); results.set(label, r);
}
const keys = [{ pk: { S: 'card#1' } }, { pk: { S: 'merchant#1' } }];
const raw = (c: DynamoDBClient) => () => c.send(new BatchGetItemCommand({ RequestItems: { f: { Keys: keys, ProjectionExpression: '#a, #b', ExpressionAttributeNames: { '#a': 'a', '#b': 'b' } } } }));
(async () => { for (let rep = 0; rep < 3; rep++) {
  const base = make([]);
  const doc = DynamoDBDocumentClient.from(make([]));
  await time('document client', () => doc.send(new BatchGetCommand({ RequestItems: { f: { Keys: [{ pk: 'card#1' }, { pk: 'merchant#1' }], ProjectionExpression: '#a, #b', ExpressionAttributeNames: { '#a': 'a', '#b': 'b' } } } })));
  await time('raw', raw(base));
  await time('raw -logger', raw(make(['loggerMiddleware'])));
  await time('raw -ua', raw(make(['getUserAgentMiddleware'])));
  await time('raw -recursion', raw(make(['recursionDetectionMiddleware'])));
  await time('raw maxAttempts 1', raw(make([], 1)));
  await time('raw -all4', raw(make(['loggerMiddleware','getUserAgentMiddleware','recursionDetectionMiddleware'])));
  await time('raw -all4 -host -contentLength', raw(make(['loggerMiddleware','getUserAgentMiddleware','recursionDetectionMiddleware','hostHeaderMiddleware','contentLengthMiddleware'])));
  await time('raw -all3 maxAttempts1', raw(make(['loggerMiddleware','getUserAgentMiddleware','recursionDetectionMiddleware'], 1)));
  await time('raw -all3 maxAttempts1 cached', raw(make(['loggerMiddleware','getUserAgentMiddleware','recursionDetectionMiddleware'], 1, true)));
  await time('raw cached', raw(make([], 2, true)));
  await time('raw', raw(base));
}
 for (const [k, v] of results) console.log(k.padEnd(40), Math.min(...v).toFixed(1), 'µs cpu (min of 3)', v.map(x=>x.toFixed(0)).join(' '));
})();
