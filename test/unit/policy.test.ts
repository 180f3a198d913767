import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyError } from '#domain/errors';
import { type DecisionInput, decide, parsePolicy } from '#domain/policy';

const basePolicy = {
  policyVersion: 'test-1',
  mode: 'all-match',
  allow: { cards: ['card_vip'], merchants: [], countries: [] },
  block: { cards: ['card_vip', 'card_bad'], merchants: ['m_bad'], countries: ['KP'] },
  rules: [
    {
      id: 'burst',
      when: [{ field: 'card_distinct_merchants_1h', op: 'gte', value: 6 }],
      decision: 'decline',
      reason: 'CARD_TESTING_PATTERN',
    },
    {
      id: 'big',
      when: [{ field: 'amount', op: 'gte', value: 100000 }],
      decision: 'review',
      reason: 'LARGE_AMOUNT',
    },
    {
      id: 'risky-mcc',
      when: [{ field: 'mcc', op: 'in', value: ['6051', '4829'] }],
      decision: 'review',
      reason: 'HIGH_RISK_MCC',
    },
  ],
  fallback: { decision: 'approve' },
};

function input(overrides: Partial<DecisionInput> = {}, features: Record<string, number> = {}): DecisionInput {
  return {
    score: 0.001,
    features: { card_distinct_merchants_1h: 1, ...features },
    request: {
      cardId: 'card_1',
      merchantId: 'm_1',
      country: 'DE',
      amount: 1000,
      mcc: '5411',
      channel: 'ecommerce',
      currency: 'EUR',
    },
    thresholds: { review: 0.1, decline: 0.5 },
    ...overrides,
  };
}

describe('parsePolicy', () => {
  it('accepts the shipped policy', () => {
    // prepare
    const shipped = JSON.parse(readFileSync(join(__dirname, '../../functions/score/policy.json'), 'utf8'));
    // act
    const policy = parsePolicy(shipped);
    // assert
    expect(policy.rules.length).toBeGreaterThan(0);
  });

  it('rejects a rule on an unknown field, naming the path', () => {
    // prepare
    const bad = {
      ...basePolicy,
      rules: [{ ...basePolicy.rules[0], when: [{ field: 'nope', op: 'gt', value: 1 }] }],
    };
    // act, assert
    expect(() => parsePolicy(bad)).toThrow(PolicyError);
    expect(() => parsePolicy(bad)).toThrow(/rules\.0\.when\.0\.field/);
  });

  it('rejects duplicate rule ids and unknown decisions', () => {
    // act, assert
    expect(() => parsePolicy({ ...basePolicy, rules: [basePolicy.rules[1], basePolicy.rules[1]] })).toThrow(
      /duplicate rule id/,
    );
    expect(() => parsePolicy({ ...basePolicy, fallback: { decision: 'maybe' } })).toThrow(PolicyError);
  });
});

describe('decide', () => {
  const policy = parsePolicy(basePolicy);

  it('uses the model thresholds when no rule matches', () => {
    // act
    const below = decide(policy, input({ score: 0.05 }));
    const atReview = decide(policy, input({ score: 0.1 }));
    const atDecline = decide(policy, input({ score: 0.5 }));
    // assert
    expect(below.decision).toBe('approve');
    expect(atReview.decision).toBe('review');
    expect(atDecline).toMatchObject({
      decision: 'decline',
      decidedBy: 'threshold',
    });
  });

  it('lets policy thresholds override the model card', () => {
    // prepare
    const strict = parsePolicy({ ...basePolicy, thresholds: { review: 0.01 } });
    // act
    const result = decide(strict, input({ score: 0.02 }));
    // assert
    expect(result.decision).toBe('review');
  });

  it('puts the allow list above the block list, and the block list above everything else', () => {
    // prepare
    const vip = input({ score: 0.99, request: { ...input().request, cardId: 'card_vip' } });
    const blocked = input({ score: 0.0, request: { ...input().request, country: 'KP' } });
    // act
    const vipResult = decide(policy, vip);
    const blockedResult = decide(policy, blocked);
    // assert
    expect(vipResult).toMatchObject({ decision: 'approve', reasons: ['ALLOW_LIST_CARD'] });
    expect(blockedResult).toMatchObject({ decision: 'decline', reasons: ['BLOCK_LIST_COUNTRY'] });
  });

  it('in all-match mode reports every matched rule and keeps the most severe outcome', () => {
    // act
    const result = decide(
      policy,
      input(
        { request: { ...input().request, amount: 200000, mcc: '6051' } },
        { card_distinct_merchants_1h: 7 },
      ),
    );
    // assert
    expect(result.decision).toBe('decline');
    expect(result.matchedRules).toEqual(['burst', 'big', 'risky-mcc']);
    expect(result.reasons).toEqual(['CARD_TESTING_PATTERN', 'LARGE_AMOUNT', 'HIGH_RISK_MCC']);
  });

  it('in all-match mode does not let a milder rule lower a threshold decline', () => {
    // act
    const result = decide(policy, input({ score: 0.9, request: { ...input().request, amount: 200000 } }));
    // assert
    expect(result).toMatchObject({ decision: 'decline', decidedBy: 'threshold', matchedRules: ['big'] });
  });

  it('in first-match mode the first matching rule decides even over the score', () => {
    // prepare
    const first = parsePolicy({ ...basePolicy, mode: 'first-match' });
    // act
    const result = decide(
      first,
      input({ score: 0.9, request: { ...input().request, amount: 200000, mcc: '6051' } }),
    );
    // assert
    expect(result).toMatchObject({ decision: 'review', matchedRules: ['big'], decidedBy: 'rule' });
  });

  it('falls back to rules only when there is no score', () => {
    // prepare
    const noModel = input({ score: undefined });
    const withRule = input({ score: undefined }, { card_distinct_merchants_1h: 9 });
    const scoreRule = parsePolicy({
      ...basePolicy,
      rules: [
        { id: 's', when: [{ field: 'score', op: 'lt', value: 0.5 }], decision: 'review', reason: 'LOW' },
      ],
    });
    // act
    const fallback = decide(policy, noModel);
    const ruled = decide(policy, withRule);
    const scoreOnly = decide(scoreRule, noModel);
    // assert
    expect(fallback).toMatchObject({ decision: 'approve', decidedBy: 'fallback' });
    expect(ruled).toMatchObject({ decision: 'decline', decidedBy: 'rule' });
    expect(scoreOnly.matchedRules).toEqual([]);
  });
});
