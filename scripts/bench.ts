/**
 * `npm run bench`: the scoring path's costs, measured side by side in one run.
 *
 * - raw BatchGetItem against the embedded server (in a child process, so it does not share
 *   this process's event loop with the code under test), and the conditional PutItem of a
 *   stored answer, each through the store and as raw HTTP (the same signed request replayed
 *   over one kept-alive socket without the SDK: the server's own time, the floor under both),
 *   and the PutItem timed right after a BatchGetItem, and after a read and the inference (as the
 *   stored path sends it, to a dynalite that sat idle meanwhile);
 * - raw inference: one row, and the batch the handler really runs (row + reason-code
 *   perturbations), alone and right after a BatchGetItem (only the inference timed): after any
 *   wait for I/O the model's trees are no longer in the CPU caches, and the handler's inference
 *   always follows its read;
 * - the score function invoked in-process, built by the same factory as the Lambda entry and
 *   the local stack, with and without stored answers (idempotency reads the answer in the
 *   same BatchGetItem and stores it with one conditional put), and the DynamoDB round trips
 *   each answer costs, counted on the wire;
 * - the score function with a store that answers from memory (no DynamoDB): the function's own
 *   work beside the inference, so the handler ratio's overhead splits into code and the rest;
 * - the same, answers not stored, with production observability (Powertools metrics and the
 *   judge's EMF lines on, logs at INFO; what they write to stdout counted and discarded):
 *   the rows above run with metrics off and logs at ERROR, as they always have;
 * - SigV4 signing of the read's request, by the SDK's signer and by `DynamoSigner` (what the
 *   signed HTTP caller sends since session 11): the same headers, checked in
 *   `test/unit/dynamo-signer.test.ts`;
 * - cold init of the Lambda bundle: module load + ONNX session + warm-up + first score,
 *   in a fresh Node process.
 *
 * The BatchGetItem row reads through the score function's own kind of client
 * (`createScoringCaller`, signed HTTP), so the store's client costs the same in numerator and
 * denominator. The last rows repeat the read and both score functions through the SDK client
 * (`DYNAMODB_CLIENT=sdk`), so the two clients are compared in the same run.
 *
 * Every row runs in each iteration (see {@link measureInterleaved}). Each row also reports this
 * process's CPU time per sample (p50): on a shared machine the wall times include waiting for a
 * core, the CPU time does not, so a before/after of the function's own code reads best there. What the observability row
 * writes to stdout is counted and discarded, so the bench's own output stays readable; a write to
 * a pipe in Lambda costs a syscall more than this.
 *
 * Options: --iterations N (default 2000), --skip-cold.
 *
 * This file builds what the rows run against and runs them; `bench/rows.ts` holds the rows,
 * `bench/measure.ts` how they are timed, `bench/report.ts` what is printed,
 * `bench/observability.ts` and `bench/cold-init.ts` the observability row's setup and the cold
 * start.
 */
import type { ChildProcess } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { parseArgs } from 'node:util';
import { SignatureV4 } from '@smithy/signature-v4';
import { createDynamoClients, createScoringClient } from '#adapters/dynamo-client';
import { createScoringCaller } from '#adapters/dynamo-http';
import { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import { DynamoSigner } from '#adapters/dynamo-signer';
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import { FEATURE_DEFAULTS, featureVector } from '#domain/features';
import type { StoredAnswer } from '#domain/idempotency';
import type { ScoringLookup, ScoringStore } from '#domain/ports';
import { loadScoreConfig } from '../functions/score/config';
import { createScoreFunction } from '../functions/score/index';
import { coldInit } from './bench/cold-init';
import { measureInterleaved, type Stats } from './bench/measure';
import { discardStdout, withObservability } from './bench/observability';
import { printColdInit, printResults } from './bench/report';
import { apiEvent, benchRows, byRow } from './bench/rows';
import { lambdaContext } from './local/api-gateway';
import { DEFAULT_MODEL_DIR, DEFAULT_POLICY } from './local/app';

/** HTTP requests this process starts (the AWS SDK's included), counted on Node's diagnostics channel. */
let httpRequests = 0;
subscribe('http.client.request.start', () => {
  httpRequests += 1;
});

import { forkTs, OutputCapture, stopChild, whenReady } from './local/processes';
import { BENCH_ANSWER_TABLE, BENCH_FEATURE_TABLE, benchRequest, seedBenchCard } from './support/bench-card';
import { RawDynamoRequest } from './support/raw-dynamo-request';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

/** Starts dynalite in its own process (the local stack's dynalite process) and resolves with its endpoint. */
async function startDynaliteProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = forkTs('dynalite-process.ts', {}, new OutputCapture(true));
  const { port } = await whenReady(child, 'dynalite');
  return { endpoint: `http://127.0.0.1:${port}`, child };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '2000' },
      'skip-cold': { type: 'boolean', default: false },
    },
  });
  const iterations = Number(values.iterations);
  const { endpoint, child } = await startDynaliteProcess();
  const { client, documents } = createDynamoClients({ endpoint, requestTimeoutMs: 2000 });
  const scoringClient = createScoringClient({ endpoint, requestTimeoutMs: 2000 });
  try {
    // A card with a week of history and a busy merchant, written through the real updater.
    const now = await seedBenchCard(client, documents);
    const storeOptions = { featureTableName: BENCH_FEATURE_TABLE, answerTableName: BENCH_ANSWER_TABLE };
    const caller = await createScoringCaller({ endpoint, requestTimeoutMs: 2000 });
    const store = new DynamoScoringStore(caller, storeOptions);
    const sdkStore = new DynamoScoringStore(scoringClient, storeOptions);
    const model = await OnnxModelRunner.load(DEFAULT_MODEL_DIR);
    const request = benchRequest(now);
    const state = await store.read({ cardId: 'card_bench', merchantId: 'm_bench' });
    const vector = featureVector(state, request, now);
    const batch = [
      vector,
      ...vector.flatMap((v, i) =>
        v === FEATURE_DEFAULTS[i]
          ? []
          : [[...vector.slice(0, i), FEATURE_DEFAULTS[i] as number, ...vector.slice(i + 1)]],
      ),
    ];

    process.stdout.write(
      `\nbench: ${iterations} iterations each, rows interleaved, Node ${process.version}, model ${model.model.name}@${model.model.version}\n\n`,
    );
    const scoreFunction = (idempotency: boolean, store?: ScoringStore, dynamoClient = 'http') =>
      createScoreFunction(
        loadScoreConfig({
          STAGE: 'bench',
          FEATURE_TABLE_NAME: BENCH_FEATURE_TABLE,
          IDEMPOTENCY_TABLE_NAME: BENCH_ANSWER_TABLE,
          IDEMPOTENCY_ENABLED: String(idempotency),
          MODEL_DIR: DEFAULT_MODEL_DIR,
          POLICY_PATH: DEFAULT_POLICY,
          FEATURE_TIMEOUT_MS: '1000',
          IDEMPOTENCY_TIMEOUT_MS: '1000',
          POWERTOOLS_TRACE_ENABLED: 'false',
          DYNAMODB_ENDPOINT: endpoint,
          DYNAMODB_CLIENT: dynamoClient,
        }),
        { store },
      );
    const plain = await scoreFunction(false);
    const stored = await scoreFunction(true);
    const plainSdk = await scoreFunction(false, undefined, 'sdk');
    const storedSdk = await scoreFunction(true, undefined, 'sdk');
    const observed = await withObservability(() => scoreFunction(false));
    // The function's own work: the same build, its store answering at once with what dynalite holds.
    const held: ScoringLookup = { ...state, ageMs: { card: 0, merchant: 0 } };
    const inMemory: ScoringStore = { read: async () => held, saveAnswer: async () => ({ stored: true }) };
    const memory = await scoreFunction(false, inMemory);

    // The answer the stored path writes, for the PutItem rows (its own transactionIds).
    const answer: StoredAnswer = {
      requestHash: 'x'.repeat(43),
      response: JSON.parse(
        (
          await plain.handler(
            apiEvent({ ...request, transactionId: `answer-${now}` }),
            lambdaContext('score'),
          )
        ).body,
      ),
      expiresAt: Math.floor(now / 1000) + 3600,
    };
    const rawRead = await RawDynamoRequest.capture(endpoint, (c) =>
      new DynamoScoringStore(c, storeOptions).read({ cardId: 'card_bench', merchantId: 'm_bench' }),
    );
    const putTemplate = `raw-put-template-${now}`;
    const rawPut = await RawDynamoRequest.capture(endpoint, (c) =>
      new DynamoScoringStore(c, storeOptions).saveAnswer(putTemplate, answer),
    );
    if (!rawPut.body.includes(putTemplate))
      throw new Error('the captured PutItem does not carry its transactionId');
    // Each raw request checked once: the read returns the card, the put stores.
    const rawReadCheck = await rawRead.send();
    const rawPutCheck = await rawPut.send(rawPut.body.replace(putTemplate, `raw-check-${now}`));
    if (
      rawReadCheck.status !== 200 ||
      !rawReadCheck.body.includes('card#card_bench') ||
      rawPutCheck.status !== 200
    )
      throw new Error(
        `raw requests failed: ${rawReadCheck.status} ${rawPutCheck.status} ${rawPutCheck.body}`,
      );
    const roundTrips = async (fn: typeof plain, transactionId: string) => {
      const before = httpRequests;
      const response = await fn.handler(apiEvent({ ...request, transactionId }), lambdaContext('score'));
      if (response.statusCode !== 200) throw new Error(`bench request failed: ${response.body}`);
      return httpRequests - before;
    };
    const trips = {
      plain: await roundTrips(plain, `trips-plain-${now}`),
      first: await roundTrips(stored, `trips-${now}`),
      retry: await roundTrips(stored, `trips-${now}`),
    };
    const region = await scoringClient.config.region();
    const endpointUrl = new URL(endpoint);
    const stdout = discardStdout();
    const rows = benchRows({
      now,
      request,
      store,
      sdkStore,
      model,
      vector,
      batch,
      answer,
      rawRead,
      rawPut,
      putTemplate,
      plain,
      stored,
      memory,
      observed,
      plainSdk,
      storedSdk,
      stdout,
      // Both signers as the signed HTTP caller would build them from this client.
      signer: new DynamoSigner({
        region,
        credentials: scoringClient.config.credentials,
        endpoint: endpointUrl,
      }),
      sdkSigner: new SignatureV4({
        service: 'dynamodb',
        region,
        credentials: scoringClient.config.credentials,
        sha256: scoringClient.config.sha256,
      }),
      readBody: rawRead.body,
      endpoint: endpointUrl,
    });
    let measured: Stats[];
    try {
      measured = await measureInterleaved(Object.values(rows), iterations);
    } finally {
      stdout.restore();
    }
    plain.close();
    stored.close();
    plainSdk.close();
    storedSdk.close();
    caller.destroy();
    observed.close();
    memory.close();
    rawRead.close();
    rawPut.close();
    printResults(rows, byRow(rows, measured), trips, stdout);
    if (!values['skip-cold']) printColdInit(coldInit(endpoint));
    process.stdout.write('\n');
  } finally {
    client.destroy();
    scoringClient.destroy();
    await stopChild(child);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
