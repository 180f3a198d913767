/**
 * The score handler's shadow and neural signals: the neural metrics, the shadow metrics with
 * the shadow's own version as a dimension, and the sampled structured log of live/shadow
 * pairs that carries the card token and never card data.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { NeuralUnavailableError } from '#domain/errors';
import { combineScores, neuralCompanion } from '#domain/neural';
import { scoreTransaction } from '#domain/score';
import { treeShadow } from '#domain/scorers';
import { createHandler } from '../../functions/score/handler';
import { lambdaContext } from '../../scripts/local/api-gateway';
import { FakeModel, scoringDeps, validRequest } from '../support/fakes';
import { captureOutput } from '../support/output';

const combination = {
  method: 'logistic-stacker' as const,
  treeModel: { name: 'fake', version: '0.0.1' },
  intercept: 0,
  tree: 1,
  neural: 1,
  clip: 1e-6,
  thresholds: {
    review: { score: 0.3, fpr: 0.01, recall: 0.9 },
    decline: { score: 0.9, fpr: 0.001, recall: 0.8 },
  },
};

function apiEvent(body: unknown): APIGatewayProxyEvent {
  return {
    body: JSON.stringify(body),
    isBase64Encoded: false,
    httpMethod: 'POST',
    path: '/v1/score',
    headers: {},
  } as unknown as APIGatewayProxyEvent;
}

async function run(deps: ReturnType<typeof scoringDeps>, sample: number, random = () => 0.5) {
  const handler = createHandler({
    score: (request) => scoreTransaction(deps, request),
    logger: new Logger({ serviceName: 'score-test', logLevel: 'INFO' }),
    metrics: new Metrics({ namespace: 'FraudScoringTest', serviceName: 'score-test' }),
    dimensions: { functionVersion: '7', modelVersion: '0.0.1' },
    shadowLogSample: sample,
    random,
  });
  const { result, output } = await captureOutput(
    () => handler(apiEvent(validRequest), lambdaContext('score')) as Promise<APIGatewayProxyResult>,
  );
  const lines = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { result, lines };
}

/** The EMF blobs that hold `metric`, with their dimension set. */
function emf(lines: Record<string, unknown>[], metric: string) {
  return lines.filter((l) => metric in l && '_aws' in l);
}

describe('score handler with shadows', () => {
  it('publishes ShadowScore and ShadowAgreement under the shadow version, and logs a sampled pair', async () => {
    // prepare
    const shadow = treeShadow(new FakeModel({ amount_log: 3 }), { review: 0.01, decline: 0.02 });
    const deps = scoringDeps({
      scorers: { shadows: [{ ...shadow, model: { name: 'fraud-gbdt', version: '2.0.0' } }] },
    });

    // act
    const { result, lines } = await run(deps, 1);

    // assert
    const body = JSON.parse(result.body);
    const agreement = emf(lines, 'ShadowAgreement');
    expect(agreement).toHaveLength(1);
    expect(agreement[0]).toMatchObject({
      shadowModel: 'fraud-gbdt',
      shadowVersion: '2.0.0',
      functionVersion: '7',
      modelVersion: '0.0.1',
    });
    expect(emf(lines, 'ShadowScore')).toHaveLength(1);
    const pair = lines.find((l) => l.message === 'shadow pair');
    expect(pair).toMatchObject({
      cardId: validRequest.cardId,
      segment: 'card_present.low.new',
      live: { decision: body.decision, score: body.score },
      shadows: [{ model: { name: 'fraud-gbdt', version: '2.0.0' }, agrees: expect.any(Boolean) }],
    });
    // the main metric blob never carries the shadow dimensions
    expect(emf(lines, 'LatencyTotal')[0]).not.toHaveProperty('shadowVersion');
  });

  it('logs no pair when the sample misses, and none without shadows', async () => {
    // prepare
    const withShadow = scoringDeps({
      scorers: { shadows: [treeShadow(new FakeModel(), { review: 0.2, decline: 0.8 })] },
    });
    // act
    const missed = await run(withShadow, 0.1, () => 0.5);
    const none = await run(scoringDeps(), 1, () => 0);
    // assert
    expect(missed.lines.some((l) => l.message === 'shadow pair')).toBe(false);
    expect(none.lines.some((l) => l.message === 'shadow pair')).toBe(false);
    expect(emf(none.lines, 'ShadowAgreement')).toHaveLength(0);
  });

  it('counts neural latency, timeouts and breaker refusals, and flags the answer', async () => {
    // prepare
    const seq = { name: 'fraud-seq', version: '1.0.0' };
    const timingOut = scoringDeps({
      scorers: {
        live: neuralCompanion(
          { score: async () => Promise.reject(new NeuralUnavailableError('timeout', 'over budget')) },
          seq,
          combination,
        ),
        shadows: [],
      },
    });
    const open = scoringDeps({
      scorers: {
        live: neuralCompanion(
          { score: async () => Promise.reject(new NeuralUnavailableError('breaker_open', 'open')) },
          seq,
          combination,
        ),
        shadows: [],
      },
    });
    const healthy = scoringDeps({
      scorers: { live: neuralCompanion({ score: async () => 0.5 }, seq, combination), shadows: [] },
    });

    // act
    const [t, o, h] = [await run(timingOut, 0), await run(open, 0), await run(healthy, 0)];

    // assert
    const metric = (lines: Record<string, unknown>[], name: string) => emf(lines, name)[0]?.[name];
    expect([metric(t.lines, 'NeuralTimeouts'), metric(t.lines, 'NeuralBreakerOpen')]).toEqual([1, 0]);
    expect([metric(o.lines, 'NeuralTimeouts'), metric(o.lines, 'NeuralBreakerOpen')]).toEqual([0, 1]);
    expect([metric(h.lines, 'NeuralTimeouts'), metric(h.lines, 'NeuralBreakerOpen')]).toEqual([0, 0]);
    expect(typeof metric(h.lines, 'LatencyNeural')).toBe('number');
    expect(JSON.parse(t.result.body).degraded).toEqual(['neural_unavailable']);
    expect(t.result.headers?.['Server-Timing']).toMatch(/neural;dur=[\d.]+;desc="timeout"/);
    const tree = JSON.parse(t.result.body).score as number;
    expect(JSON.parse(h.result.body).score).toBeCloseTo(combineScores(combination, tree, 0.5), 6);
  });
});
