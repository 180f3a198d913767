/**
 * The decision policy: declarative, versioned JSON, validated when loaded.
 *
 * Precedence, from strongest to weakest (documented in README "Decision policy"):
 * 1. allow list (card, merchant, country) → approve, whatever else matches;
 * 2. block list → decline;
 * 3. rules and score thresholds:
 *    - `first-match`: rules are tried in order; the first that matches decides. If none
 *      matches, the score thresholds decide.
 *    - `all-match`: every matching rule is reported and the most severe outcome among the
 *      matched rules and the threshold decision wins (decline > review > approve).
 * When the model is unavailable, `score` is absent: rules that test the score do not
 * match, and the threshold step is replaced by `fallback.decision` (the rules-only mode).
 */
import { z } from 'zod';
import { describeFirstIssue, PolicyError } from './errors';
import { FEATURE_NAMES } from './features';

export const DECISIONS = ['approve', 'review', 'decline'] as const;
export type Decision = (typeof DECISIONS)[number];

const SEVERITY: Record<Decision, number> = { approve: 0, review: 1, decline: 2 };

/** Request fields a rule may test, besides the score and the named features. */
const REQUEST_FIELDS = ['amount', 'country', 'mcc', 'channel', 'currency'] as const;
const FIELDS = new Set<string>(['score', ...REQUEST_FIELDS, ...FEATURE_NAMES]);

const conditionSchema = z.discriminatedUnion('op', [
  z.object({
    field: z.string(),
    op: z.enum(['gt', 'gte', 'lt', 'lte']),
    value: z.number(),
  }),
  z.object({ field: z.string(), op: z.enum(['eq', 'neq']), value: z.union([z.number(), z.string()]) }),
  z.object({
    field: z.string(),
    op: z.enum(['in', 'notIn']),
    value: z.array(z.union([z.number(), z.string()])).min(1),
  }),
]);

const listSchema = z
  .object({
    cards: z.array(z.string()).default([]),
    merchants: z.array(z.string()).default([]),
    countries: z.array(z.string().length(2)).default([]),
  })
  .default({ cards: [], merchants: [], countries: [] });

export const policySchema = z
  .object({
    policyVersion: z.string().min(1),
    mode: z.enum(['first-match', 'all-match']),
    /** Overrides of the model card's thresholds; absent means "use the card's". */
    thresholds: z
      .object({ review: z.number().min(0).max(1).optional(), decline: z.number().min(0).max(1).optional() })
      .default({}),
    allow: listSchema,
    block: listSchema,
    rules: z
      .array(
        z.object({
          id: z.string().regex(/^[a-z0-9-]+$/),
          description: z.string().optional(),
          when: z.array(conditionSchema).min(1),
          decision: z.enum(DECISIONS),
          reason: z.string().regex(/^[A-Z0-9_]+$/),
        }),
      )
      .default([]),
    /** Used when the model cannot score: the decision when no rule matches. */
    fallback: z.object({ decision: z.enum(DECISIONS) }),
  })
  .superRefine((policy, ctx) => {
    policy.rules.forEach((rule, i) => {
      rule.when.forEach((condition, j) => {
        if (!FIELDS.has(condition.field)) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'when', j, 'field'],
            message: `unknown field "${condition.field}"`,
          });
        }
      });
    });
    const ids = policy.rules.map((r) => r.id);
    if (new Set(ids).size !== ids.length)
      ctx.addIssue({ code: 'custom', path: ['rules'], message: 'duplicate rule id' });
  });

export type Policy = z.infer<typeof policySchema>;
export type PolicyRule = Policy['rules'][number];

export function parsePolicy(json: unknown): Policy {
  const parsed = policySchema.safeParse(json);
  if (!parsed.success) {
    throw new PolicyError(`invalid policy ${describeFirstIssue(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Everything a decision may look at. */
export interface DecisionInput {
  /** Calibrated probability; undefined when the model is unavailable. */
  score?: number;
  features: Readonly<Record<string, number>>;
  request: {
    cardId: string;
    merchantId: string;
    country: string;
    amount: number;
    mcc: string;
    channel: string;
    currency: string;
  };
  /** The model card's thresholds. */
  thresholds: { review: number; decline: number };
}

export interface DecisionResult {
  decision: Decision;
  /** Reason codes from lists and rules, in the order they were applied. */
  reasons: string[];
  /** Ids of the rules that matched. */
  matchedRules: string[];
  /** Which step decided. */
  decidedBy: 'allow-list' | 'block-list' | 'rule' | 'threshold' | 'fallback';
}

function fieldValue(field: string, input: DecisionInput): number | string | undefined {
  if (field === 'score') return input.score;
  if ((REQUEST_FIELDS as readonly string[]).includes(field)) {
    return input.request[field as (typeof REQUEST_FIELDS)[number]];
  }
  return input.features[field];
}

function matches(condition: z.infer<typeof conditionSchema>, input: DecisionInput): boolean {
  const actual = fieldValue(condition.field, input);
  if (actual === undefined) return false;
  switch (condition.op) {
    case 'gt':
      return typeof actual === 'number' && actual > condition.value;
    case 'gte':
      return typeof actual === 'number' && actual >= condition.value;
    case 'lt':
      return typeof actual === 'number' && actual < condition.value;
    case 'lte':
      return typeof actual === 'number' && actual <= condition.value;
    case 'eq':
      return actual === condition.value;
    case 'neq':
      return actual !== condition.value;
    case 'in':
      return condition.value.includes(actual);
    case 'notIn':
      return !condition.value.includes(actual);
  }
}

function listHit(list: Policy['allow'], request: DecisionInput['request']): string | undefined {
  if (list.cards.includes(request.cardId)) return 'CARD';
  if (list.merchants.includes(request.merchantId)) return 'MERCHANT';
  if (list.countries.includes(request.country)) return 'COUNTRY';
  return undefined;
}

function thresholdDecision(score: number, review: number, decline: number): Decision {
  if (score >= decline) return 'decline';
  if (score >= review) return 'review';
  return 'approve';
}

/** Applies the policy; pure and total (every input gets a decision). */
export function decide(policy: Policy, input: DecisionInput): DecisionResult {
  const allowed = listHit(policy.allow, input.request);
  if (allowed)
    return {
      decision: 'approve',
      reasons: [`ALLOW_LIST_${allowed}`],
      matchedRules: [],
      decidedBy: 'allow-list',
    };
  const blocked = listHit(policy.block, input.request);
  if (blocked)
    return {
      decision: 'decline',
      reasons: [`BLOCK_LIST_${blocked}`],
      matchedRules: [],
      decidedBy: 'block-list',
    };

  const matched = policy.rules.filter((rule) => rule.when.every((c) => matches(c, input)));
  const base: { decision: Decision; decidedBy: DecisionResult['decidedBy'] } =
    input.score === undefined
      ? { decision: policy.fallback.decision, decidedBy: 'fallback' }
      : {
          decision: thresholdDecision(
            input.score,
            policy.thresholds.review ?? input.thresholds.review,
            policy.thresholds.decline ?? input.thresholds.decline,
          ),
          decidedBy: 'threshold',
        };

  if (policy.mode === 'first-match') {
    const first = matched[0];
    if (first)
      return {
        decision: first.decision,
        reasons: [first.reason],
        matchedRules: [first.id],
        decidedBy: 'rule',
      };
    return { ...base, reasons: [], matchedRules: [] };
  }
  const strongest = matched.reduce<PolicyRule | undefined>(
    (best, rule) => (best === undefined || SEVERITY[rule.decision] > SEVERITY[best.decision] ? rule : best),
    undefined,
  );
  const ruleWins = strongest !== undefined && SEVERITY[strongest.decision] > SEVERITY[base.decision];
  return {
    decision: ruleWins ? strongest.decision : base.decision,
    reasons: matched.map((r) => r.reason),
    matchedRules: matched.map((r) => r.id),
    decidedBy: ruleWins ? 'rule' : base.decidedBy,
  };
}
