/**
 * The local stack's dynalite patch (`scripts/local/dynalite-patch.ts`) is neutral: the same
 * corpus of DynamoDB requests, valid and invalid (conditional failures, validation errors,
 * BatchGetItem of missing keys, the item size limit, unknown operations, malformed JSON, missing
 * authentication), sent in the same order to an unpatched and a patched dynalite process,
 * gets the same status, the same body and the same headers; only the random request ids differ,
 * in the same format. Then hostile items drawn by fast-check go to both.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { forkTs, OutputCapture, stopChild, whenReady } from '../../scripts/local/processes';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Server {
  child: ChildProcess;
  port: number;
}

/** Unpatched dynalite's own CRC32 (`buffer-crc32`, resolved from dynalite; it ships no types). */
const crc32 = createRequire(require.resolve('dynalite'))('buffer-crc32') as {
  unsigned(input: string): number;
};
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let reference: Server;
let patched: Server;

/** A dynalite process, patched or not, on a LevelDB folder of its own (`path`) or in memory. */
async function startServer(patch: boolean, path: string | undefined): Promise<Server> {
  const child = forkTs('dynalite-process.ts', { patch, path }, new OutputCapture(false));
  const { port } = await whenReady(child, `dynalite (patch ${patch})`);
  return { child, port: port as number };
}

afterAll(() => agent.destroy());

const SIGNED = {
  authorization:
    'AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00',
  'x-amz-date': '20260101T000000Z',
};

/** One raw HTTP exchange; `operation` null sends no target, `headers` replace the signed defaults. */
function send(
  port: number,
  operation: string | null,
  body: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        method: options.method ?? 'POST',
        agent,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          ...(operation ? { 'x-amz-target': `DynamoDB_20120810.${operation}` } : {}),
          ...(options.headers ?? SIGNED),
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * What two servers may differ in: a table's times and random id, and the order of a
 * BatchGetItem's items (dynalite reads the keys concurrently; DynamoDB promises no order either).
 */
function normalized(body: string): string {
  const text = body
    .replace(
      /"(CreationDateTime|LastUpdateToPayPerRequestDateTime|LastIncreaseDateTime|LastDecreaseDateTime)":[0-9.]+/g,
      '"$1":0',
    )
    .replace(/"TableId":"[0-9a-f-]+"/g, '"TableId":"?"');
  if (!text.startsWith('{"Responses"')) return text;
  const parsed = JSON.parse(text) as { Responses: Record<string, unknown[]> };
  for (const items of Object.values(parsed.Responses)) {
    items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  return JSON.stringify(parsed);
}

/** Sends one request to both servers and asserts they answered alike; returns the reference answer. */
async function both(
  operation: string | null,
  payload: unknown,
  options?: { method?: string; headers?: Record<string, string> },
): Promise<Answer> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const expected = await send(reference.port, operation, body, options);
  const actual = await send(patched.port, operation, body, options);
  // The request rides along, so a failure says which one differed.
  expect({ operation, body, status: actual.status, answer: normalized(actual.body) }).toEqual({
    operation,
    body,
    status: expected.status,
    answer: normalized(expected.body),
  });
  const { 'x-amzn-requestid': expectedId, date: _d1, ...expectedHeaders } = expected.headers;
  const { 'x-amzn-requestid': actualId, date: _d2, ...actualHeaders } = actual.headers;
  if (actual.body === expected.body) {
    expect(actualHeaders).toEqual(expectedHeaders);
  } else {
    // Bodies equal up to normalization: the CRC differs, so each is checked against its own body.
    expect(Object.keys(actualHeaders).sort()).toEqual(Object.keys(expectedHeaders).sort());
    expect(actual.headers['content-length']).toBe(String(Buffer.byteLength(actual.body)));
  }
  // The patched CRC is the one `buffer-crc32` (unpatched dynalite's) computes for the same body.
  if (actual.headers['x-amz-crc32'] !== undefined && actual.body.startsWith('{')) {
    expect(actual.headers['x-amz-crc32']).toBe(String(crc32.unsigned(actual.body)));
  }
  for (const id of [expectedId, actualId].filter((v) => v !== undefined)) {
    expect(id).toMatch(/^[A-Z0-9]{52}$/);
  }
  expect(actualId === undefined).toBe(expectedId === undefined);
  if (actualId !== undefined) expect(actualId).not.toBe(expectedId);
  // dynalite answers a table change first and flips the table's status (CREATING, UPDATING,
  // DELETING → ACTIVE or gone) on a timer of its own: a request right after it races that timer
  // on each server (a PutItem right after CreateTable failed on the reference and passed on the
  // patched one in a busy CI run). Each change settles before the next request.
  if (operation !== null && /^(Create|Update|Delete)Table$/.test(operation))
    await new Promise((resolve) => setTimeout(resolve, 50));
  return expected;
}

const TABLE = 'conformance';
const item = (pk: string, extra: Record<string, unknown> = {}) => ({
  pk: { S: pk },
  n: { N: '42.5' },
  b: { B: Buffer.from('bytes').toString('base64') },
  ss: { SS: ['a', 'b'] },
  ns: { NS: ['1', '2.5'] },
  l: { L: [{ S: 'x' }, { N: '1' }, { BOOL: true }, { NULL: true }] },
  m: { M: { nested: { S: 'yes' }, deep: { M: { n: { N: '-1e3' } } } } },
  ...extra,
});

// In memory (memory-level), as these tests have always run, and on disk (classic-level), as the
// local stack runs by default: the patch reads LevelDB synchronously through each one's `getSync`.
describe.each(['in memory', 'on disk'])('dynalite patch conformance (%s)', (storage) => {
  let folder: string | undefined;
  beforeAll(async () => {
    folder = storage === 'on disk' ? mkdtempSync(join(tmpdir(), 'dynalite-patch-')) : undefined;
    [reference, patched] = await Promise.all([
      startServer(false, folder && join(folder, 'reference')),
      startServer(true, folder && join(folder, 'patched')),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([stopChild(reference.child), stopChild(patched.child)]);
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('answers a corpus of valid and invalid requests exactly as unpatched dynalite', async () => {
    // prepare
    const create = {
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    };
    const corpus: [operation: string | null, payload: unknown, options?: Parameters<typeof both>[2]][] = [
      ['CreateTable', create],
      ['CreateTable', create],
      ['PutItem', { TableName: TABLE, Item: item('card#1') }],
      ['PutItem', { TableName: TABLE, Item: item('card#2'), ReturnValues: 'ALL_OLD' }],
      ['PutItem', { TableName: TABLE, Item: item('card#2', { v: { N: '2' } }), ReturnValues: 'ALL_OLD' }],
      [
        'PutItem',
        { TableName: TABLE, Item: item('card#1'), ConditionExpression: 'attribute_not_exists(pk)' },
      ],
      [
        'PutItem',
        {
          TableName: TABLE,
          Item: item('card#1'),
          ConditionExpression: 'v = :v',
          ExpressionAttributeValues: { ':v': { N: '7' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      ],
      ['PutItem', { Item: item('card#3') }],
      ['PutItem', { TableName: TABLE, Item: { pk: { S: '' } } }],
      ['PutItem', { TableName: TABLE, Item: { pk: { S: 'x' }, n: { N: 'abc' } } }],
      ['PutItem', { TableName: TABLE, Item: 'not a map' }],
      ['PutItem', { TableName: TABLE, Item: { pk: { S: 'big' }, blob: { S: 'x'.repeat(410 * 1024) } } }],
      ['PutItem', { TableName: 'missing-table', Item: item('card#1') }],
      ['GetItem', { TableName: TABLE, Key: { pk: { S: 'card#1' } } }],
      ['GetItem', { TableName: TABLE, Key: { pk: { S: 'card#1' } }, ConsistentRead: true }],
      ['GetItem', { TableName: TABLE, Key: { pk: { S: 'nobody' } } }],
      ['GetItem', { TableName: TABLE, Key: { pk: { N: '1' } } }],
      [
        'BatchGetItem',
        {
          RequestItems: {
            [TABLE]: {
              Keys: [{ pk: { S: 'card#1' } }, { pk: { S: 'missing#1' } }, { pk: { S: 'card#2' } }],
              ConsistentRead: true,
              ProjectionExpression: 'pk, #m.nested, l[1]',
              ExpressionAttributeNames: { '#m': 'm' },
            },
          },
          ReturnConsumedCapacity: 'TOTAL',
        },
      ],
      ['BatchGetItem', { RequestItems: { [TABLE]: { Keys: [{ pk: { S: 'missing#2' } }] } } }],
      [
        'BatchGetItem',
        {
          RequestItems: {
            [TABLE]: { Keys: Array.from({ length: 101 }, (_, i) => ({ pk: { S: `k${i}` } })) },
          },
        },
      ],
      [
        'BatchWriteItem',
        {
          RequestItems: {
            [TABLE]: [
              { PutRequest: { Item: item('card#4') } },
              { DeleteRequest: { Key: { pk: { S: 'card#2' } } } },
            ],
          },
        },
      ],
      [
        'BatchWriteItem',
        {
          RequestItems: {
            [TABLE]: [
              { PutRequest: { Item: item('dup') } },
              { DeleteRequest: { Key: { pk: { S: 'dup' } } } },
            ],
          },
        },
      ],
      [
        'UpdateItem',
        {
          TableName: TABLE,
          Key: { pk: { S: 'card#1' } },
          UpdateExpression: 'SET v = if_not_exists(v, :zero) + :one, #t = :t REMOVE ss',
          ExpressionAttributeNames: { '#t': 'tag' },
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' }, ':t': { S: 'é✓' } },
          ReturnValues: 'ALL_NEW',
        },
      ],
      ['UpdateItem', { TableName: TABLE, Key: { pk: { S: 'card#1' } }, UpdateExpression: 'SET = broken' }],
      [
        'Query',
        {
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'card#1' } },
        },
      ],
      ['Scan', { TableName: TABLE, Limit: 2 }],
      ['DeleteItem', { TableName: TABLE, Key: { pk: { S: 'card#4' } }, ReturnValues: 'ALL_OLD' }],
      ['DescribeTable', { TableName: TABLE }],
      ['ListTables', {}],
      ['FlyToTheMoon', { TableName: TABLE }],
      ['GetItem', '{"TableName": '],
      ['GetItem', ''],
      ['GetItem', { TableName: TABLE, Key: { pk: { S: 'card#1' } } }, { headers: {} }],
      [null, { TableName: TABLE }],
      [null, '', { method: 'GET' }],
    ];
    // act
    const answers: Answer[] = [];
    for (const [operation, payload, options] of corpus) answers.push(await both(operation, payload, options));
    // assert (each exchange was compared in `both`; the corpus covered what it claims)
    const types = answers.map((a) => /"__type":"[^"]*#(\w+)"/.exec(a.body)?.[1] ?? String(a.status));
    expect(types).toEqual(
      expect.arrayContaining([
        'ResourceInUseException',
        'ConditionalCheckFailedException',
        'ValidationException',
        'ResourceNotFoundException',
        'UnknownOperationException',
        'SerializationException',
        'MissingAuthenticationTokenException',
      ]),
    );
    expect(answers.some((a) => a.body.includes('Item size has exceeded'))).toBe(true);
    expect(answers.some((a) => a.body.includes('"UnprocessedKeys":{}'))).toBe(true);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(15);
  });

  it('answers expressions that repeat, vary and misuse names and values exactly as unpatched dynalite', async () => {
    // prepare: the patch keeps parses; these requests repeat an expression with the same, other,
    // extra and missing names and values, across operations and within one request
    const table = 'expressions';
    const answer = (pk: string, expires: string) => ({ pk: { S: pk }, exp: { N: expires }, n: { N: '1' } });
    const stored = {
      ConditionExpression: 'attribute_not_exists(#id) OR #exp < :now',
      ExpressionAttributeNames: { '#id': 'pk', '#exp': 'exp' },
    };
    const corpus: [operation: string, payload: unknown][] = [
      [
        'CreateTable',
        {
          TableName: table,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        },
      ],
      // The scoring store's put: stored, refused while live, stored again once expired.
      [
        'PutItem',
        {
          TableName: table,
          Item: answer('a#1', '200'),
          ...stored,
          ExpressionAttributeValues: { ':now': { N: '100' } },
        },
      ],
      [
        'PutItem',
        {
          TableName: table,
          Item: answer('a#1', '300'),
          ...stored,
          ExpressionAttributeValues: { ':now': { N: '100' } },
        },
      ],
      [
        'PutItem',
        {
          TableName: table,
          Item: answer('a#1', '400'),
          ...stored,
          ExpressionAttributeValues: { ':now': { N: '250' } },
        },
      ],
      ['GetItem', { TableName: table, Key: { pk: { S: 'a#1' } } }],
      // Same expression: a name or a value too many, a value missing, a name meaning another attribute.
      [
        'PutItem',
        {
          TableName: table,
          Item: answer('a#2', '1'),
          ...stored,
          ExpressionAttributeNames: { ...stored.ExpressionAttributeNames, '#x': 'x' },
          ExpressionAttributeValues: { ':now': { N: '100' } },
        },
      ],
      [
        'PutItem',
        {
          TableName: table,
          Item: answer('a#2', '1'),
          ...stored,
          ExpressionAttributeValues: { ':now': { N: '100' }, ':y': { S: 'y' } },
        },
      ],
      ['PutItem', { TableName: table, Item: answer('a#2', '1'), ...stored }],
      [
        'PutItem',
        {
          TableName: table,
          Item: answer('a#1', '500'),
          ...stored,
          ExpressionAttributeNames: { '#id': 'pk', '#exp': 'n' },
          ExpressionAttributeValues: { ':now': { N: '100' } },
        },
      ],
      [
        'PutItem',
        {
          TableName: table,
          Item: answer('a#1', '500'),
          ...stored,
          ExpressionAttributeValues: { ':now': { S: 'text' } },
        },
      ],
      // A name that the request's update expression uses too, then the same condition alone with
      // the same names and values: the update's value is unused there.
      [
        'UpdateItem',
        {
          TableName: table,
          Key: { pk: { S: 'a#1' } },
          UpdateExpression: 'SET #a = :v',
          ConditionExpression: 'attribute_exists(#a)',
          ExpressionAttributeNames: { '#a': 'n' },
          ExpressionAttributeValues: { ':v': { N: '2' } },
        },
      ],
      [
        'PutItem',
        {
          TableName: table,
          Item: answer('a#3', '1'),
          ConditionExpression: 'attribute_exists(#a)',
          ExpressionAttributeNames: { '#a': 'n' },
          ExpressionAttributeValues: { ':v': { N: '2' } },
        },
      ],
      // One expression as a key condition, a filter and a put's condition.
      [
        'Query',
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'a#1' } },
        },
      ],
      [
        'Scan',
        {
          TableName: table,
          FilterExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'a#1' } },
        },
      ],
      [
        'PutItem',
        {
          TableName: table,
          Item: answer('a#1', '9'),
          ConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'a#1' } },
        },
      ],
      [
        'Query',
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'a#1' } },
        },
      ],
      [
        'Query',
        {
          TableName: table,
          KeyConditionExpression: 'n = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'a#1' } },
        },
      ],
      // Projections repeated, with other names, with a reserved word, and broken twice.
      ...[0, 1].flatMap((): [string, unknown][] => [
        [
          'BatchGetItem',
          {
            RequestItems: {
              [table]: {
                Keys: [{ pk: { S: 'a#1' } }],
                ProjectionExpression: '#e, pk',
                ExpressionAttributeNames: { '#e': 'exp' },
              },
            },
          },
        ],
        [
          'BatchGetItem',
          {
            RequestItems: {
              [table]: {
                Keys: [{ pk: { S: 'a#1' } }],
                ProjectionExpression: '#e, pk',
                ExpressionAttributeNames: { '#e': 'n' },
              },
            },
          },
        ],
        ['GetItem', { TableName: table, Key: { pk: { S: 'a#1' } }, ProjectionExpression: 'size, pk' }],
        ['GetItem', { TableName: table, Key: { pk: { S: 'a#1' } }, ProjectionExpression: 'pk,, n' }],
        ['PutItem', { TableName: table, Item: answer('a#4', '1'), ConditionExpression: 'size(pk) >' }],
      ]),
    ];
    // act
    const answers: Answer[] = [];
    for (const [operation, payload] of corpus) answers.push(await both(operation, payload));
    // assert (each exchange was compared in `both`; the corpus reached both outcomes of a repeat)
    const types = answers.map((a) => /"__type":"[^"]*#(\w+)"/.exec(a.body)?.[1] ?? String(a.status));
    expect(types.slice(1, 4)).toEqual(['200', 'ConditionalCheckFailedException', '200']);
    expect(answers.filter((a) => a.body.includes('unused in expressions')).length).toBe(3);
    expect(answers.filter((a) => a.body.includes('Syntax error')).length).toBe(4);
    expect(answers.filter((a) => a.body.includes('reserved keyword')).length).toBe(2);
  });

  it('answers a table that is described, changed, deleted and made again exactly as unpatched dynalite', async () => {
    // prepare: the patch keeps table descriptions, so each change of one must show at once
    const table = 'lifecycle';
    const byString = {
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    };
    const byNumber = {
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'N' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      ProvisionedThroughput: { ReadCapacityUnits: 3, WriteCapacityUnits: 4 },
    };
    const corpus: [operation: string, payload: unknown][] = [
      ['DescribeTable', { TableName: table }],
      ['PutItem', { TableName: table, Item: { pk: { S: 'a' } } }],
      ['CreateTable', byString],
      ['DescribeTable', { TableName: table }],
      ['PutItem', { TableName: table, Item: { pk: { S: 'a' } } }],
      ['BatchGetItem', { RequestItems: { [table]: { Keys: [{ pk: { S: 'a' } }] } } }],
      [
        'UpdateTable',
        {
          TableName: table,
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 8 },
        },
      ],
      ['DescribeTable', { TableName: table }],
      ['GetItem', { TableName: table, Key: { pk: { S: 'a' } } }],
      [
        'UpdateTable',
        {
          TableName: table,
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'g', AttributeType: 'S' },
          ],
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                IndexName: 'by-g',
                KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'ALL' },
                ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
              },
            },
          ],
        },
      ],
      ['PutItem', { TableName: table, Item: { pk: { S: 'b' }, g: { S: 'x' } } }],
      [
        'Query',
        {
          TableName: table,
          IndexName: 'by-g',
          KeyConditionExpression: 'g = :g',
          ExpressionAttributeValues: { ':g': { S: 'x' } },
        },
      ],
      ['DescribeTable', { TableName: table }],
      ['DeleteTable', { TableName: table }],
      ['DescribeTable', { TableName: table }],
      ['GetItem', { TableName: table, Key: { pk: { S: 'a' } } }],
      ['PutItem', { TableName: table, Item: { pk: { S: 'a' } } }],
      ['BatchGetItem', { RequestItems: { [table]: { Keys: [{ pk: { S: 'a' } }] } } }],
      ['CreateTable', byNumber],
      ['DescribeTable', { TableName: table }],
      ['PutItem', { TableName: table, Item: { pk: { S: 'a' } } }],
      ['PutItem', { TableName: table, Item: { id: { N: '1' } } }],
      ['GetItem', { TableName: table, Key: { pk: { S: 'a' } } }],
      ['GetItem', { TableName: table, Key: { id: { N: '1' } } }],
      ['ListTables', {}],
    ];
    const answers: Answer[] = [];
    // act
    for (const [operation, payload] of corpus) answers.push(await both(operation, payload));
    // assert: both servers answered alike (in `both`), and the corpus met every change
    expect(answers.map((a) => a.status)).toEqual([
      400, 400, 200, 200, 200, 200, 200, 200, 200, 200, 200, 400, 200, 200, 400, 400, 400, 400, 200, 200, 400,
      200, 400, 200, 200,
    ]);
    expect(answers[7]?.body).toContain('"ReadCapacityUnits":7');
    // The status dynalite wrote on its own after the update (UPDATING, then ACTIVE).
    expect(answers[12]?.body).toContain('"TableStatus":"ACTIVE"');
    expect(answers[14]?.body).toContain('ResourceNotFoundException');
    expect(answers[19]?.body).toContain('"AttributeName":"id"');
    expect(answers[23]?.body).toBe('{"Item":{"id":{"N":"1"}}}');
  });

  it('answers hostile items drawn by fast-check exactly as unpatched dynalite', async () => {
    // prepare
    const attribute = fc.oneof(
      fc.record({ S: fc.string({ maxLength: 40 }) }),
      fc.record({ N: fc.oneof(fc.double({ noNaN: false }).map(String), fc.string({ maxLength: 8 })) }),
      fc.record({ BOOL: fc.oneof(fc.boolean(), fc.constant('yes')) }),
      fc.record({ SS: fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }) }),
      fc.record({ NULL: fc.constant(true) }),
      fc.constant({}),
      fc.constant({ S: 'a', N: '1' }),
    );
    const items = fc.record({
      pk: fc.string({ maxLength: 12 }),
      attributes: fc.dictionary(fc.string({ minLength: 0, maxLength: 6 }), attribute, { maxKeys: 5 }),
      condition: fc.constantFrom(undefined, 'attribute_not_exists(pk)', 'attribute_exists(pk)', 'size(pk) >'),
    });
    let exchanges = 0;
    // act
    await fc.assert(
      fc.asyncProperty(items, async ({ pk, attributes, condition }) => {
        await both('PutItem', {
          TableName: TABLE,
          Item: { ...attributes, pk: { S: pk } },
          ...(condition ? { ConditionExpression: condition } : {}),
        });
        await both('BatchGetItem', { RequestItems: { [TABLE]: { Keys: [{ pk: { S: pk } }] } } });
        exchanges += 2;
      }),
      { numRuns: 60, seed: 9 },
    );
    // assert
    expect(exchanges).toBe(120);
  });
});
