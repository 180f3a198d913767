/**
 * `POST /v1/events` event-time check: events dated beyond the allowed clock skew are refused
 * with 400 `EVENT_IN_FUTURE` naming the field, and nothing of the request is enqueued.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import type { TransactionEvent } from '#domain/types';
import { loadEventsConfig } from '../../functions/events/config';
import { createEventsHandler } from '../../functions/events/handler';
import { lambdaContext } from '../../scripts/local/api-gateway';
import { authorizationEvent, chargebackEvent } from '../support/events';

const NOW = Date.parse('2026-11-20T12:00:00.000Z');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

function authorization(ms: number, i = 0) {
  return authorizationEvent({
    eventId: `evt-${i}`,
    transactionId: `tx-${i}`,
    cardId: 'card_e',
    merchantId: 'm_e',
    amount: 1500,
    timestamp: new Date(ms).toISOString(),
  });
}

function setup(maxFutureSkewMs?: number) {
  const sent: TransactionEvent[][] = [];
  const handler = createEventsHandler({
    queue: { send: async (events) => void sent.push([...events]) },
    logger: new Logger({ serviceName: 'events-test', logLevel: 'ERROR' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'events-test' }),
    clock: () => NOW,
    ...(maxFutureSkewMs === undefined ? {} : { maxFutureSkewMs }),
  });
  const post = async (body: unknown) => {
    const result = await handler(
      { body: JSON.stringify(body), isBase64Encoded: false, headers: {} } as unknown as APIGatewayProxyEvent,
      lambdaContext('events'),
    );
    return { status: result.statusCode, json: JSON.parse(result.body) };
  };
  return { post, sent };
}

describe('events handler: event time', () => {
  it('refuses an authorization dated two hours ahead with 400 EVENT_IN_FUTURE on timestamp', async () => {
    // prepare
    const { post, sent } = setup();
    // act
    const { status, json } = await post(authorization(NOW + 120 * MIN));
    // assert
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'EVENT_IN_FUTURE', field: 'timestamp' });
    expect(sent).toEqual([]);
  });

  it('names the event of a batch, and enqueues none of the batch', async () => {
    // prepare
    const { post, sent } = setup();
    const events = [authorization(NOW - MIN, 1), authorization(NOW, 2), authorization(NOW + 6 * MIN, 3)];
    // act
    const { status, json } = await post({ events });
    // assert
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'EVENT_IN_FUTURE', field: 'events.2.timestamp' });
    expect(sent).toEqual([]);
  });

  it('checks the labelled transaction’s time of a label too', async () => {
    // prepare
    const { post } = setup();
    const label = chargebackEvent({
      eventId: 'lbl-1',
      transactionId: 'tx-1',
      cardId: 'card_e',
      merchantId: 'm_e',
      timestamp: new Date(NOW).toISOString(),
      transactionTimestamp: new Date(NOW + DAY).toISOString(),
    });
    // act
    const { status, json } = await post(label);
    // assert
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'EVENT_IN_FUTURE', field: 'transactionTimestamp' });
  });

  it('accepts exactly the events within the configured skew', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10 * MIN }),
        fc.integer({ min: -10 * MIN, max: 10 * MIN }),
        async (skew, ahead) => {
          // prepare
          const { post, sent } = setup(skew);
          // act
          const { status } = await post(authorization(NOW + ahead));
          // assert
          expect(status).toBe(ahead <= skew ? 202 : 400);
          expect(sent).toHaveLength(ahead <= skew ? 1 : 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads the skew from EVENT_MAX_FUTURE_SKEW_SECONDS, 5 minutes by default, and refuses nonsense', () => {
    // act
    const byDefault = loadEventsConfig({ EVENTS_QUEUE_URL: 'q' }).maxFutureSkewMs;
    const thirtySeconds = loadEventsConfig({
      EVENTS_QUEUE_URL: 'q',
      EVENT_MAX_FUTURE_SKEW_SECONDS: '30',
    }).maxFutureSkewMs;
    const negative = () => loadEventsConfig({ EVENTS_QUEUE_URL: 'q', EVENT_MAX_FUTURE_SKEW_SECONDS: '-1' });
    // assert
    expect(byDefault).toBe(5 * MIN);
    expect(thirtySeconds).toBe(30_000);
    expect(negative).toThrow(/EVENT_MAX_FUTURE_SKEW_SECONDS/);
  });
});
