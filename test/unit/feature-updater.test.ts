/**
 * The SQS feature updater: partial batch responses (only failed records come back), invalid
 * bodies reported as failures, and failure logs that locate the message without its body.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { BatchItemResult, EventOutcome } from '#adapters/feature-writer';
import type { TransactionEvent } from '#domain/types';
import { loadUpdaterConfig } from '../../functions/feature-updater/config';
import { createUpdaterHandler } from '../../functions/feature-updater/handler';
import { lambdaContext } from '../../scripts/local/api-gateway';
import { validRequest } from '../support/fakes';
import { captureOutput } from '../support/output';

const event = (n: number) => ({
  ...validRequest,
  type: 'authorization',
  eventId: `evt-${n}`,
  transactionId: `tx-${n}`,
  outcome: 'approved',
});

const record = (messageId: string, body: string, receiveCount = 1) =>
  ({
    messageId,
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount) },
    eventSource: 'aws:sqs',
  }) as unknown as SQSRecord;

/** A writer whose batch applies each event with `apply`, so one event can fail alone. */
function updater(apply: (e: TransactionEvent) => Promise<EventOutcome>) {
  const applyBatch = (events: readonly TransactionEvent[]) =>
    Promise.all(
      events.map((e) =>
        apply(e).then(
          (outcome): BatchItemResult => ({ ok: true, outcome }),
          (error: Error): BatchItemResult => ({ ok: false, error }),
        ),
      ),
    );
  return createUpdaterHandler({
    writer: { applyBatch },
    logger: new Logger({ serviceName: 'feature-updater-test' }),
    metrics: new Metrics({ namespace: 'FraudScoringTest', serviceName: 'feature-updater-test' }),
  });
}

describe('feature updater', () => {
  it('reports only the failed records, and applies the rest', async () => {
    const applied: string[] = [];
    const handler = updater(async (e) => {
      if (e.eventId === 'evt-2') throw new Error('conditional update lost three times');
      applied.push(e.eventId);
      return { card: 'applied', merchant: 'applied' };
    });
    const batch = {
      Records: [
        record('m1', JSON.stringify(event(1))),
        record('m2', JSON.stringify(event(2)), 3),
        record('m3', '{"not":"an event","cardId":"card_secret_token"}'),
        record('m4', JSON.stringify(event(4))),
      ],
    } as SQSEvent;
    const { result, output } = await captureOutput(() => handler(batch, lambdaContext('feature-updater')));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m2', 'm3']);
    expect(applied).toEqual(['evt-1', 'evt-4']);

    const failures = output
      .split('\n')
      .filter((l) => l.includes('"event failed"'))
      .map((l) => JSON.parse(l))
      .sort((a, b) => a.messageId.localeCompare(b.messageId));
    expect(failures).toEqual([
      expect.objectContaining({ messageId: 'm2', eventId: 'evt-2', receiveCount: 3 }),
      expect.objectContaining({ messageId: 'm3', name: 'InvalidEventError', receiveCount: 1 }),
    ]);
    expect(output).not.toContain('card_secret_token');
    expect(output).toMatch(/"EventsFailed":2/);
  });

  it('returns every record as failed when the whole batch fails, instead of throwing', async () => {
    const handler = updater(async () => {
      throw new Error('table unavailable');
    });
    const batch = {
      Records: [record('a', JSON.stringify(event(1))), record('b', JSON.stringify(event(2)))],
    } as SQSEvent;
    const { result } = await captureOutput(() => handler(batch, lambdaContext('feature-updater')));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
  });

  it('hands the valid events of a batch to the writer in one call, in record order', async () => {
    // prepare
    const calls: string[][] = [];
    const handler = createUpdaterHandler({
      writer: {
        applyBatch: async (events) => {
          calls.push(events.map((e) => e.eventId));
          return events.map(() => ({ ok: true, outcome: { card: 'applied', merchant: 'applied' } }));
        },
      },
      logger: new Logger({ serviceName: 'feature-updater-test' }),
      metrics: new Metrics({ namespace: 'FraudScoringTest', serviceName: 'feature-updater-test' }),
    });
    const batch = {
      Records: [
        record('a', JSON.stringify(event(1))),
        record('b', 'not json'),
        record('c', JSON.stringify(event(3))),
      ],
    } as SQSEvent;
    // act
    const { result } = await captureOutput(() => handler(batch, lambdaContext('feature-updater')));
    // assert
    expect(calls).toEqual([['evt-1', 'evt-3']]);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'b' }]);
  });

  it('fails every valid record when the writer throws instead of answering', async () => {
    // prepare
    const handler = createUpdaterHandler({
      writer: {
        applyBatch: async () => {
          throw new Error('socket hang up');
        },
      },
      logger: new Logger({ serviceName: 'feature-updater-test' }),
      metrics: new Metrics({ namespace: 'FraudScoringTest', serviceName: 'feature-updater-test' }),
    });
    const batch = {
      Records: [record('a', JSON.stringify(event(1))), record('b', JSON.stringify(event(2)))],
    } as SQSEvent;
    // act
    const { result } = await captureOutput(() => handler(batch, lambdaContext('feature-updater')));
    // assert
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
  });
});

describe('loadUpdaterConfig', () => {
  it('reads the table, TTL and dedupe time, and refuses a dedupe time under a day', () => {
    // prepare
    const env = { FEATURE_TABLE_NAME: 'features', FEATURE_TTL_SECONDS: '7200' };
    // act
    const config = loadUpdaterConfig(env);
    // assert
    expect(config).toEqual({
      stage: 'dev',
      featureTableName: 'features',
      ttlSeconds: 7200,
      dedupeSeconds: 2_592_000,
      writer: 'transactional',
      dynamoEndpoint: undefined,
      requestTimeoutMs: 2000,
      connectionTimeoutMs: 200,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(
      loadUpdaterConfig({
        ...env,
        DYNAMODB_REQUEST_TIMEOUT_MS: '15000',
        DYNAMODB_CONNECTION_TIMEOUT_MS: '5000',
      }),
    ).toMatchObject({ requestTimeoutMs: 15_000, connectionTimeoutMs: 5000 });
    expect(() => loadUpdaterConfig({ ...env, DYNAMODB_REQUEST_TIMEOUT_MS: '10' })).toThrow(
      /DYNAMODB_REQUEST_TIMEOUT_MS/,
    );
    expect(() => loadUpdaterConfig({ ...env, FEATURE_DEDUPE_SECONDS: '60' })).toThrow(
      /FEATURE_DEDUPE_SECONDS/,
    );
    expect(() => loadUpdaterConfig({})).toThrow(/FEATURE_TABLE_NAME/);
  });
});
