/** Fake ports and fixtures shared by unit tests. */
import { FEATURE_DEFAULTS, FEATURE_NAMES } from '#domain/features';
import type { SaveAnswerResult, StoredAnswer } from '#domain/idempotency';
import { parsePolicy } from '#domain/policy';
import type { FeatureLookup, ModelRunner, ScoringKeys, ScoringLookup, ScoringStore } from '#domain/ports';
import type { ScoringDeps } from '#domain/score';

export const validRequest = {
  transactionId: 'tx-1',
  cardId: 'card_000001',
  merchantId: 'm_00001',
  mcc: '5411',
  amount: 4599,
  currency: 'EUR',
  country: 'DE',
  channel: 'card_present' as const,
  timestamp: '2026-11-23T10:00:00.000Z',
};

/** A linear "model": sigmoid of a weighted sum, so contributions are predictable. */
export class FakeModel implements ModelRunner {
  readonly model = { name: 'fake', version: '0.0.1' };
  calls: number[][][] = [];
  constructor(
    private readonly weights: Record<string, number> = {},
    private readonly fail = false,
  ) {}
  async score(rows: readonly (readonly number[])[]): Promise<number[]> {
    this.calls.push(rows.map((r) => r.slice()));
    if (this.fail) throw new Error('session exploded');
    return rows.map((row) => {
      const z = FEATURE_NAMES.reduce(
        (sum, name, i) =>
          sum + (this.weights[name] ?? 0) * ((row[i] as number) - (FEATURE_DEFAULTS[i] as number)),
        -4,
      );
      return 1 / (1 + Math.exp(-z));
    });
  }
}

/** A scoring store whose reads behave as told (a lookup, an error, or a hang until aborted) and whose answers live in a map. */
export class FakeFeatureStore implements ScoringStore {
  calls = 0;
  readonly answers = new Map<string, StoredAnswer>();
  constructor(private readonly behaviour: FeatureLookup | Error | 'hang' = { ageMs: {} }) {}
  async read(keys: ScoringKeys, signal?: AbortSignal): Promise<ScoringLookup> {
    this.calls += 1;
    if (this.behaviour === 'hang') {
      return new Promise((_, reject) =>
        signal?.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    }
    if (this.behaviour instanceof Error) throw this.behaviour;
    const answer = keys.transactionId === undefined ? undefined : this.answers.get(keys.transactionId);
    return { ...this.behaviour, answer };
  }
  async saveAnswer(transactionId: string, answer: StoredAnswer): Promise<SaveAnswerResult> {
    const existing = this.answers.get(transactionId);
    if (existing) return { stored: false, existing };
    this.answers.set(transactionId, answer);
    return { stored: true };
  }
}

export const testPolicy = parsePolicy({
  policyVersion: 'test-1',
  mode: 'all-match',
  rules: [
    {
      id: 'burst',
      when: [{ field: 'card_distinct_merchants_1h', op: 'gte', value: 6 }],
      decision: 'decline',
      reason: 'CARD_TESTING_PATTERN',
    },
  ],
  fallback: { decision: 'review' },
});

export function scoringDeps(overrides: Partial<ScoringDeps> = {}): ScoringDeps {
  return {
    store: new FakeFeatureStore(),
    model: new FakeModel({ card_count_1h: 0.5, amount_log: 1 }),
    thresholds: { review: 0.2, decline: 0.8 },
    policy: testPolicy,
    featureTimeoutMs: 50,
    maxFeatureAgeMs: 3_600_000,
    ...overrides,
  };
}
