import { join } from 'node:path';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { emptyCardState, emptyMerchantState } from '#domain/features';
import type { ScoringKeys, ScoringStore } from '#domain/ports';
import { loadScoreConfig } from '../../functions/score/config';
import { createScoreFunction } from '../../functions/score/index';
import { validRequest } from '../support/fakes';

const ROOT = join(__dirname, '..', '..');

/**
 * The store override of `createScoreFunction` (what `npm run bench` uses to time the function's
 * own work): the function answers from the given store and never reaches the configured
 * endpoint, here a closed port, which the same build without the override cannot read.
 */
const config = loadScoreConfig({
  FEATURE_TABLE_NAME: 'features',
  IDEMPOTENCY_TABLE_NAME: 'answers',
  IDEMPOTENCY_ENABLED: 'false',
  MODEL_DIR: join(ROOT, 'models', 'fraud-gbdt', '1.0.0'),
  POLICY_PATH: join(ROOT, 'functions', 'score', 'policy.json'),
  FEATURE_TIMEOUT_MS: '200',
  POWERTOOLS_TRACE_ENABLED: 'false',
  DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
});

const context = () =>
  ({
    functionName: 'score',
    awsRequestId: 'r-1',
    getRemainingTimeInMillis: () => 3000,
  }) as unknown as Context;
const event = { body: JSON.stringify(validRequest), isBase64Encoded: false } as APIGatewayProxyEvent;

describe('createScoreFunction overrides', () => {
  // Quiet: no EMF documents or log lines from the two builds (both read the environment at construction).
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  });
  afterAll(() => {
    process.env.POWERTOOLS_METRICS_DISABLED = saved.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_LOG_LEVEL = saved.POWERTOOLS_LOG_LEVEL;
    if (saved.POWERTOOLS_METRICS_DISABLED === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    if (saved.POWERTOOLS_LOG_LEVEL === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  });

  it('scores from the given store, not from the configured endpoint', async () => {
    // prepare
    const reads: ScoringKeys[] = [];
    const store: ScoringStore = {
      read: async (keys) => {
        reads.push(keys);
        return { card: emptyCardState(), merchant: emptyMerchantState(), ageMs: { card: 0, merchant: 0 } };
      },
      saveAnswer: async () => ({ stored: true }),
    };
    const fn = await createScoreFunction(config, { store });
    try {
      // act
      const response = await fn.handler(event, context());
      // assert
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body).degraded).toEqual([]);
      expect(reads.at(-1)).toEqual({ cardId: validRequest.cardId, merchantId: validRequest.merchantId });
    } finally {
      await fn.close();
    }
  });

  it('without the override reads the configured endpoint (closed here: the answer degrades)', async () => {
    // prepare
    const fn = await createScoreFunction(config);
    try {
      // act
      const response = await fn.handler(event, context());
      // assert
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body).degraded).toContain('features_unavailable');
    } finally {
      await fn.close();
    }
  });
});
