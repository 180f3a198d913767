/**
 * The rows `npm run bench` times, in the order each iteration runs them: the store's reads and
 * writes through the SDK and as raw HTTP, the inference alone, and the score function built
 * four ways. Their order is part of the measurement (see `measureInterleaved`), so a new row
 * goes last.
 */
import type { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { DynamoScoringStore } from '#adapters/dynamo-scoring-store';
import type { DynamoSigner } from '#adapters/dynamo-signer';
import type { OnnxModelRunner } from '#adapters/onnx-model-runner';
import type { StoredAnswer } from '#domain/idempotency';
import type { ScoreRequest } from '#domain/types';
import type { createScoreFunction } from '../../functions/score/index';
import { lambdaContext } from '../local/api-gateway';
import type { RawDynamoRequest } from '../support/raw-dynamo-request';
import { sdkSigningRequest } from '../support/sdk-signing-request';
import { type Row, type Stats, timedPart } from './measure';

/** A score function as the Lambda entry and the local stack build it. */
export type BenchScoreFunction = Awaited<ReturnType<typeof createScoreFunction>>;

/** An API Gateway event carrying `body` as JSON. */
export function apiEvent(body: unknown): APIGatewayProxyEvent {
  return { body: JSON.stringify(body), isBase64Encoded: false } as unknown as APIGatewayProxyEvent;
}

/** What the rows run against, built once before the measurement. */
export interface BenchSubjects {
  /** The seeding time; every transaction id carries it, so reruns never collide. */
  readonly now: number;
  readonly request: ScoreRequest;
  readonly store: DynamoScoringStore;
  /** The same store through the SDK client (`DYNAMODB_CLIENT=sdk`). */
  readonly sdkStore: DynamoScoringStore;
  readonly model: OnnxModelRunner;
  /** The bench card's feature vector, and the batch the handler runs for it (row + perturbations). */
  readonly vector: number[];
  readonly batch: number[][];
  /** The answer the stored path writes, for the PutItem rows. */
  readonly answer: StoredAnswer;
  readonly rawRead: RawDynamoRequest;
  /** The captured PutItem, its transaction id `putTemplate` replaced per iteration. */
  readonly rawPut: RawDynamoRequest;
  readonly putTemplate: string;
  /** Answers not stored, stored, with a store in memory, and with production observability. */
  readonly plain: BenchScoreFunction;
  readonly stored: BenchScoreFunction;
  readonly memory: BenchScoreFunction;
  readonly observed: BenchScoreFunction;
  /** Not stored and stored, calling DynamoDB through the SDK client. */
  readonly plainSdk: BenchScoreFunction;
  readonly storedSdk: BenchScoreFunction;
  /** The observability row counts its answers here (for stdout writes per answer). */
  readonly stdout: { answers: number };
  /** The signer of the signed HTTP caller, the SDK's signer, and the read's body they sign. */
  readonly signer: DynamoSigner;
  readonly sdkSigner: SignatureV4;
  readonly readBody: string;
  readonly endpoint: URL;
}

/** The rows by name, in measurement order. */
export function benchRows(s: BenchSubjects) {
  const { now, request, store, model, answer, rawPut, putTemplate } = s;
  const score = (fn: BenchScoreFunction, transactionId: string) =>
    fn.handler(apiEvent({ ...request, transactionId }), lambdaContext('score'));
  return {
    get: {
      label: 'BatchGetItem (card + merchant, dynalite)',
      work: () => store.read({ cardId: 'card_bench', merchantId: 'm_bench' }),
    },
    rawGet: { label: 'BatchGetItem, raw HTTP (dynalite alone)', work: () => s.rawRead.send() },
    put: {
      label: 'PutItem of an answer, conditional',
      work: (i) => store.saveAnswer(`put-${i}-${now}`, answer),
    },
    putAfterRead: {
      // As in the stored path: the write follows the read at once (only the write is timed).
      label: 'PutItem right after a BatchGetItem',
      work: (i) =>
        timedPart(
          () => store.read({ cardId: 'card_bench', merchantId: 'm_bench' }),
          () => store.saveAnswer(`after-read-${i}-${now}`, answer),
        ),
    },
    rawPut: {
      label: 'PutItem, raw HTTP (dynalite alone)',
      work: (i) => rawPut.send(rawPut.body.replace(putTemplate, `raw-${i}-${now}`)),
    },
    one: { label: 'inference, 1 row', work: () => model.score([s.vector]) },
    inf: { label: `inference, handler batch (${s.batch.length} rows)`, work: () => model.score(s.batch) },
    plain: {
      label: 'score function in-process (answers not stored)',
      work: (i) => score(s.plain, `plain-${i}-${now}`),
    },
    stored: {
      label: 'score function in-process (answers stored)',
      work: (i) => score(s.stored, `idem-${i}-${now}`),
    },
    memory: {
      label: 'same, not stored, store in memory (no DynamoDB)',
      work: (i) => score(s.memory, `mem-${i}-${now}`),
    },
    observed: {
      label: 'same, not stored, metrics + INFO logs on',
      work: (i) => {
        s.stdout.answers += 1;
        return score(s.observed, `obs-${i}-${now}`);
      },
    },
    infAfterRead: {
      // As in the handler: the inference follows the read's wait (only the inference is timed).
      // Last, so that the rows before keep the neighbours they were measured with.
      label: 'same batch right after a BatchGetItem',
      work: () =>
        timedPart(
          () => store.read({ cardId: 'card_bench', merchantId: 'm_bench' }),
          () => model.score(s.batch),
        ),
    },
    getSdk: {
      label: 'BatchGetItem, SDK client',
      work: () => s.sdkStore.read({ cardId: 'card_bench', merchantId: 'm_bench' }),
    },
    plainSdk: {
      label: 'score function, not stored, SDK client',
      work: (i) => score(s.plainSdk, `plain-sdk-${i}-${now}`),
    },
    storedSdk: {
      label: 'score function, stored, SDK client',
      work: (i) => score(s.storedSdk, `idem-sdk-${i}-${now}`),
    },
    signSdk: {
      label: "SigV4 of the read, the SDK's signer",
      work: () =>
        s.sdkSigner.sign(sdkSigningRequest(s.endpoint, 'DynamoDB_20120810.BatchGetItem', s.readBody)),
    },
    sign: {
      label: 'SigV4 of the read, DynamoSigner (what is sent)',
      work: () => s.signer.sign('DynamoDB_20120810.BatchGetItem', s.readBody),
    },
    putInPlace: {
      // As the stored path sends it: after the read and the inference, while dynalite sat idle
      // (only the write is timed).
      label: 'PutItem after a read and the inference',
      work: (i) =>
        timedPart(
          async () => {
            await store.read({ cardId: 'card_bench', merchantId: 'm_bench' });
            await model.score(s.batch);
          },
          () => store.saveAnswer(`in-place-${i}-${now}`, answer),
        ),
    },
  } satisfies Record<string, Row>;
}

/** The bench's rows by name. */
export type BenchRows = ReturnType<typeof benchRows>;

/** Each row's figures, by the row's name. */
export type BenchResults = { readonly [name in keyof BenchRows]: Stats };

/** Names `measured` (in the rows' order) by row. */
export function byRow(rows: BenchRows, measured: readonly Stats[]): BenchResults {
  return Object.fromEntries(Object.keys(rows).map((name, i) => [name, measured[i] as Stats])) as BenchResults;
}
