import { BatchGetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HttpResponse } from '@smithy/core/transport';
import { Readable } from 'node:stream';
const body = JSON.stringify({ Responses: { f: [{ pk: { S: 'card#1' }, updatedAt: { N: '1700000000000' } }] }, UnprocessedKeys: {} });
const handler = {
  handle: async () => ({ response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Readable.from([Buffer.from(body)]) }) }),
  updateHttpClientConfig() {}, httpHandlerConfigs() { return {}; }, destroy() {},
};
const c = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, requestHandler: handler as never });
const keys = [{ pk: { S: 'card#1' } }, { pk: { S: 'merchant#1' } }];
(async () => {
  const n = 8000; const t = performance.now();
  for (let i = 0; i < n; i++) await c.send(new BatchGetItemCommand({ RequestItems: { f: { Keys: keys } } }));
  console.log((((performance.now() - t) / n) * 1000).toFixed(1), 'µs');
})();
