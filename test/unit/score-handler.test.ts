import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { IdempotencyConflictError } from '#domain/errors';
import { scoreTransaction } from '#domain/score';
import { createHandler, type ScoreHandlerDeps } from '../../functions/score/handler';
import { metricDimensions } from '../../functions/score/metrics';
import { createReplayHandler, isReplayRequest } from '../../functions/score/replay';
import { lambdaContext } from '../../scripts/local/api-gateway';
import { FakeModel, scoringDeps, validRequest } from '../support/fakes';
import { captureOutput } from '../support/output';

const PAN = '4111111111111111';

type ScoreFn = ScoreHandlerDeps['score'];

function apiEvent(body: unknown): APIGatewayProxyEvent {
  return {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    httpMethod: 'POST',
    path: '/v1/score',
    headers: {},
  } as unknown as APIGatewayProxyEvent;
}

function handlerWith(score: ScoreFn) {
  return createHandler({
    score,
    logger: new Logger({ serviceName: 'score-test', logLevel: 'DEBUG' }),
    metrics: new Metrics({ namespace: 'FraudScoringTest', serviceName: 'score-test' }),
    dimensions: { functionVersion: '7', modelVersion: '0.0.1' },
  });
}

const realScore: ScoreFn = (request) => scoreTransaction(scoringDeps(), request);

async function call(score: ScoreFn, body: unknown) {
  const handler = handlerWith(score);
  const { result, output } = await captureOutput(
    () => handler(apiEvent(body), lambdaContext('score')) as Promise<APIGatewayProxyResult>,
  );
  return { response: result, json: JSON.parse(result.body), output };
}

describe('score handler', () => {
  it('answers 200 with the decision, a Server-Timing header and EMF metrics', async () => {
    // act
    const { response, json, output } = await call(realScore, validRequest);
    // assert
    expect(response.statusCode).toBe(200);
    expect(json).toMatchObject({ transactionId: 'tx-1', decision: expect.any(String), degraded: [] });
    expect(response.headers?.['Server-Timing']).toMatch(
      /^features;dur=[\d.]+, inference;dur=[\d.]+, total;dur=[\d.]+$/,
    );
    expect(output).toContain('"LatencyTotal"');
    expect(output).toContain('"modelVersion":"0.0.1"');
  });

  it.each([
    ['not json', 400, 'INVALID_JSON', undefined],
    [{ ...validRequest, amount: undefined }, 400, 'MISSING_FIELD', 'amount'],
    [{ ...validRequest, amount: -5 }, 400, 'INVALID_FIELD', 'amount'],
    [{ ...validRequest, surprise: true }, 400, 'UNKNOWN_FIELD', undefined],
    [{ ...validRequest, padding: 'x'.repeat(9000) }, 413, 'BODY_TOO_LARGE', undefined],
  ])('rejects %#: %s with %s %s', async (body, status, code, field) => {
    // act
    const { response, json } = await call(realScore, body);
    // assert
    expect(response.statusCode).toBe(status);
    expect(json.error.code).toBe(code);
    if (field) expect(json.error.field).toBe(field);
  });

  it('rejects an empty body', async () => {
    // act
    const { response, json } = await call(realScore, '');
    // assert
    expect(response.statusCode).toBe(400);
    expect(json.error.code).toBe('BODY_REQUIRED');
  });

  it('rejects a raw card number with 400 and never writes it to a log', async () => {
    // prepare
    const score = jest.fn(realScore);
    const body = { ...validRequest, cardId: PAN, note: `pan ${PAN}` };
    // act
    const { response, json, output } = await call(score, body);
    // assert
    expect(response.statusCode).toBe(400);
    expect(json.error).toMatchObject({ code: 'PAN_DETECTED', field: 'cardId' });
    expect(score).not.toHaveBeenCalled();
    expect(output).toContain('PAN_DETECTED'); // the rejection is logged…
    expect(output).not.toContain(PAN); // …without the number
    expect(response.body).not.toContain(PAN);
  });

  it('maps idempotency conflicts to 409 with their code', async () => {
    // prepare
    const conflicting: ScoreFn = async () => {
      throw new IdempotencyConflictError('IDEMPOTENCY_MISMATCH', 'different body');
    };
    // act
    const { response, json } = await call(conflicting, validRequest);
    // assert
    expect(response.statusCode).toBe(409);
    expect(json.error.code).toBe('IDEMPOTENCY_MISMATCH');
  });

  it('hides unexpected errors behind a 500 without details', async () => {
    // prepare
    const failing: ScoreFn = async () => {
      throw new Error('secret internals');
    };
    // act
    const { response, json } = await call(failing, validRequest);
    // assert
    expect(response.statusCode).toBe(500);
    expect(json.error.code).toBe('INTERNAL_ERROR');
    expect(response.body).not.toContain('secret');
  });
});

describe('score handler: work skipped when nothing would be published', () => {
  async function answer(deps: Partial<ScoreHandlerDeps>, logLevel: 'INFO' | 'WARN') {
    const handler = createHandler({
      score: realScore,
      logger: new Logger({ serviceName: 'score-test', logLevel }),
      metrics: new Metrics({ namespace: 'FraudScoringTest', serviceName: 'score-test' }),
      dimensions: { functionVersion: '7', modelVersion: '0.0.1' },
      ...deps,
    });
    return captureOutput(
      () => handler(apiEvent(validRequest), lambdaContext('score')) as Promise<APIGatewayProxyResult>,
    );
  }

  it('records no answer metrics when metrics are disabled, but still answers and counts the request', async () => {
    // act
    const on = await answer({}, 'INFO');
    const off = await answer({ metricsEnabled: false }, 'INFO');
    // assert
    expect(on.result.statusCode).toBe(200);
    expect(off.result.statusCode).toBe(200);
    expect(on.output).toContain('"LatencyTotal"');
    expect(off.output).not.toContain('"LatencyTotal"');
    expect(off.output).toContain('"Requests"');
  });

  it('writes the scored line at INFO and skips it (and its attributes) above INFO', async () => {
    // act
    const info = await answer({}, 'INFO');
    const warn = await answer({}, 'WARN');
    // assert
    expect(info.output).toContain('"message":"scored"');
    expect(warn.output).not.toContain('"message":"scored"');
    expect(warn.result.headers?.['Server-Timing']).toMatch(/total;dur=/);
  });
});

describe('replay handler', () => {
  it('scores stored feature vectors with the loaded model', async () => {
    // prepare
    const model = new FakeModel({ amount_log: 1 });
    const replay = createReplayHandler(model);
    const row = (await model.score([[0]])).length === 1 ? new Array(21).fill(0) : [];
    // act
    const result = await replay({ kind: 'replay', cases: [{ features: row }, { features: row }] });
    // assert
    expect(result.model).toEqual(model.model);
    expect(result.scores).toHaveLength(2);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('fails when the model is unavailable, so the deployment fails', async () => {
    // prepare
    const replay = createReplayHandler(undefined);
    // act
    const result = replay({ kind: 'replay', cases: [{ features: [1] }] });
    // assert
    await expect(result).rejects.toThrow(/model unavailable/);
  });

  it('is selected for a payload that says kind: replay', () => {
    // act
    const result = isReplayRequest({ kind: 'replay', cases: [] });
    // assert
    expect(result).toBe(true);
  });

  it('is not selected for an API Gateway event', () => {
    // act
    const result = isReplayRequest(apiEvent(validRequest));
    // assert
    expect(result).toBe(false);
  });

  it('is not selected for null', () => {
    // act
    const result = isReplayRequest(null);
    // assert
    expect(result).toBe(false);
  });
});

describe('metric dimensions', () => {
  it('publish under the shipped model version even when the model failed to load', () => {
    // act
    const result = metricDimensions({ functionVersion: '12', modelVersion: '1.0.0' }, undefined);
    // assert
    expect(result).toEqual({ functionVersion: '12', modelVersion: '1.0.0' });
  });

  it('fall back to the loaded model when the deploy names no version (local stack)', () => {
    // act
    const result = metricDimensions({ functionVersion: '$LATEST' }, new FakeModel());
    // assert
    expect(result).toEqual({ functionVersion: '$LATEST', modelVersion: '0.0.1' });
  });

  it('fall back to "none" when the deploy names no version and no model loaded', () => {
    // act
    const result = metricDimensions({ functionVersion: '$LATEST' }, undefined);
    // assert
    expect(result.modelVersion).toBe('none');
  });
});
