/**
 * Accumulates a backtest as the replay streams authorizations: per arm, decisions by final
 * label in count and amount, rules fired, scores for the curves; per segment, the same mix;
 * and every transaction whose decision differs between the arms.
 */
import { DECISIONS, type Decision } from '#domain/policy';
import { SEGMENT_KEYS } from '#domain/segment';
import type { Replayed } from './replay';

/** Counts and amounts (minor units) of one slice, split by final label. */
export interface Split {
  fraud: number;
  legit: number;
  fraudAmount: number;
  legitAmount: number;
}

const split = (): Split => ({ fraud: 0, legit: 0, fraudAmount: 0, legitAmount: 0 });

function add(s: Split, fraud: boolean, amount: number): void {
  if (fraud) {
    s.fraud += 1;
    s.fraudAmount += amount;
  } else {
    s.legit += 1;
    s.legitAmount += amount;
  }
}

/** One arm's totals. */
export interface ArmTally {
  all: Split;
  decisions: Record<Decision, Split>;
  /** Rule id (or `allow-list` / `block-list`) → rows it fired on, split by label. */
  rules: Map<string, Split>;
  /** Which step decided (`threshold`, `rule`, `fallback`, lists). */
  decidedBy: Map<string, number>;
  /** Model failures: rows decided without a score. */
  unscored: number;
}

/** One segment's totals: one tally of decisions per arm and the changes between them. */
export interface SegmentTally {
  all: Split;
  decisions: Record<Decision, Split>[];
  changed: number;
}

/** A transaction the arms decided differently. */
export interface Change {
  transactionId: string;
  timestamp: string;
  segment: string;
  amount: number;
  currency: string;
  fraud: boolean;
  labelled: boolean;
  /** Per arm: score (null when unscored), decision and what fired. */
  arms: { score: number | null; decision: Decision; decidedBy: string; rules: string[] }[];
}

const decisionSplits = (): Record<Decision, Split> => ({
  approve: split(),
  review: split(),
  decline: split(),
});

/** Kept in memory for the report; the full list goes to the changes file as it streams. */
export const KEPT_CHANGES = 5000;

export class BacktestTally {
  readonly arms: ArmTally[];
  readonly segments = new Map<string, SegmentTally>();
  /** Per arm, the score of every authorization (NaN when unscored), for curves and histograms. */
  readonly scores: number[][];
  readonly labels: boolean[] = [];
  /** transition `from→to` (arm 0 → arm 1) → count. */
  readonly transitions = new Map<string, number>();
  readonly changes: Change[] = [];
  changedTotal = 0;
  authorizations = 0;
  labelled = 0;
  readonly currencies = new Map<string, number>();
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;

  constructor(
    readonly armNames: readonly string[],
    private readonly onChange?: (change: Change) => void,
  ) {
    this.arms = armNames.map(() => ({
      all: split(),
      decisions: decisionSplits(),
      rules: new Map(),
      decidedBy: new Map(),
      unscored: 0,
    }));
    this.scores = armNames.map(() => []);
    for (const key of SEGMENT_KEYS) this.segment(key);
  }

  private segment(key: string): SegmentTally {
    let tally = this.segments.get(key);
    if (tally === undefined) {
      tally = { all: split(), decisions: this.armNames.map(decisionSplits), changed: 0 };
      this.segments.set(key, tally);
    }
    return tally;
  }

  add(row: Replayed): void {
    const { event, fraud } = row;
    const amount = event.amount;
    this.authorizations += 1;
    if (row.labelled) this.labelled += 1;
    this.first = Math.min(this.first, row.eventMs);
    this.last = Math.max(this.last, row.eventMs);
    this.currencies.set(event.currency, (this.currencies.get(event.currency) ?? 0) + 1);
    this.labels.push(fraud);
    const segment = this.segment(row.segment);
    add(segment.all, fraud, amount);
    row.outcomes.forEach((outcome, i) => {
      const arm = this.arms[i] as ArmTally;
      add(arm.all, fraud, amount);
      add(arm.decisions[outcome.decision], fraud, amount);
      add((segment.decisions[i] as Record<Decision, Split>)[outcome.decision], fraud, amount);
      const fired =
        outcome.decidedBy === 'allow-list' || outcome.decidedBy === 'block-list'
          ? [outcome.decidedBy]
          : outcome.matchedRules;
      for (const rule of fired) {
        let s = arm.rules.get(rule);
        if (s === undefined) {
          s = split();
          arm.rules.set(rule, s);
        }
        add(s, fraud, amount);
      }
      arm.decidedBy.set(outcome.decidedBy, (arm.decidedBy.get(outcome.decidedBy) ?? 0) + 1);
      if (outcome.score === undefined) arm.unscored += 1;
      (this.scores[i] as number[]).push(outcome.score ?? Number.NaN);
    });
    const [from, to] = row.outcomes;
    if (from && to && from.decision !== to.decision) {
      const key = `${from.decision}→${to.decision}`;
      this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
      segment.changed += 1;
      this.changedTotal += 1;
      const change: Change = {
        transactionId: event.transactionId,
        timestamp: event.timestamp,
        segment: row.segment,
        amount,
        currency: event.currency,
        fraud,
        labelled: row.labelled,
        arms: row.outcomes.map((o) => ({
          score: o.score ?? null,
          decision: o.decision,
          decidedBy: o.decidedBy,
          rules: o.matchedRules,
        })),
      };
      if (this.changes.length < KEPT_CHANGES) this.changes.push(change);
      this.onChange?.(change);
    }
  }
}

/** Detection figures of one decision mix, by count and by amount. */
export interface Rates {
  n: number;
  declineRate: number;
  reviewRate: number;
  /** Decline only. */
  recall: number;
  precision: number;
  fpr: number;
  /** Review or decline ("flagged"). */
  flaggedRecall: number;
  flaggedPrecision: number;
  flaggedFpr: number;
  /** Fraud amount declined / all fraud amount. */
  amountRecall: number;
  /** Fraud amount declined (minor units). */
  fraudAmountStopped: number;
  /** Legitimate amount declined (minor units) and its share of all legitimate amount. */
  legitAmountDeclined: number;
  legitAmountDeclinedShare: number;
  /** Fraud amount / all declined amount. */
  amountPrecision: number;
}

const ratio = (a: number, b: number) => (b === 0 ? Number.NaN : a / b);

/** Turns a decision mix into rates; NaN where a denominator is empty (no fraud, nothing declined). */
export function ratesOf(all: Split, decisions: Record<Decision, Split>): Rates {
  const n = all.fraud + all.legit;
  const d = decisions.decline;
  const r = decisions.review;
  return {
    n,
    declineRate: ratio(d.fraud + d.legit, n),
    reviewRate: ratio(r.fraud + r.legit, n),
    recall: ratio(d.fraud, all.fraud),
    precision: ratio(d.fraud, d.fraud + d.legit),
    fpr: ratio(d.legit, all.legit),
    flaggedRecall: ratio(d.fraud + r.fraud, all.fraud),
    flaggedPrecision: ratio(d.fraud + r.fraud, d.fraud + d.legit + r.fraud + r.legit),
    flaggedFpr: ratio(d.legit + r.legit, all.legit),
    amountRecall: ratio(d.fraudAmount, all.fraudAmount),
    fraudAmountStopped: d.fraudAmount,
    legitAmountDeclined: d.legitAmount,
    legitAmountDeclinedShare: ratio(d.legitAmount, all.legitAmount),
    amountPrecision: ratio(d.fraudAmount, d.fraudAmount + d.legitAmount),
  };
}

export { DECISIONS };
