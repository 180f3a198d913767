/**
 * The backtest's comparison tables, shared by the terminal summary and the HTML report: the
 * metric rows (rates by count and by amount, AUCs) with their deltas, per-segment rows and the
 * rules fired, computed once per report.
 */
import { type Curves, curves } from '../report/curves';
import type { Arm } from './arm';
import { type BacktestTally, type Rates, ratesOf } from './tally';

const pct = (x: number, digits = 2) => (Number.isNaN(x) ? '–' : `${(100 * x).toFixed(digits)} %`);
export const num = (x: number, digits = 3) => (Number.isNaN(x) ? '–' : x.toFixed(digits));
/** Minor units to major units with thousands separators. */
export const money = (minor: number) => (minor / 100).toLocaleString('en-US', { maximumFractionDigits: 0 });
const signed = (x: number, format: (v: number) => string) =>
  Number.isNaN(x) ? '–' : `${x > 0 ? '+' : x < 0 ? '−' : '±'}${format(Math.abs(x))}`;

interface MetricRow {
  label: string;
  value: (r: Rates, c: Curves) => number;
  format: (x: number) => string;
}

const METRICS: MetricRow[] = [
  { label: 'decline rate', value: (r) => r.declineRate, format: (x) => pct(x) },
  { label: 'review rate', value: (r) => r.reviewRate, format: (x) => pct(x) },
  { label: 'recall (declined fraud / fraud)', value: (r) => r.recall, format: (x) => pct(x, 1) },
  { label: 'precision (fraud / declined)', value: (r) => r.precision, format: (x) => pct(x, 1) },
  { label: 'FPR (declined legit / legit)', value: (r) => r.fpr, format: (x) => pct(x, 3) },
  { label: 'recall, review or decline', value: (r) => r.flaggedRecall, format: (x) => pct(x, 1) },
  { label: 'precision, review or decline', value: (r) => r.flaggedPrecision, format: (x) => pct(x, 1) },
  { label: 'FPR, review or decline', value: (r) => r.flaggedFpr, format: (x) => pct(x, 3) },
  { label: 'fraud amount stopped (declined)', value: (r) => r.fraudAmountStopped, format: money },
  { label: 'share of fraud amount stopped', value: (r) => r.amountRecall, format: (x) => pct(x, 1) },
  { label: 'legitimate amount declined', value: (r) => r.legitAmountDeclined, format: money },
  {
    label: 'share of legitimate amount declined',
    value: (r) => r.legitAmountDeclinedShare,
    format: (x) => pct(x, 3),
  },
  { label: 'precision by amount', value: (r) => r.amountPrecision, format: (x) => pct(x, 1) },
  { label: 'ROC-AUC (score alone)', value: (_, c) => c.rocAuc, format: (x) => num(x, 4) },
  { label: 'PR-AUC (score alone)', value: (_, c) => c.prAuc, format: (x) => num(x, 4) },
];

/** Everything the two outputs share, computed once. */
export interface Computed {
  rates: Rates[];
  sweeps: Curves[];
}

export function compute(tally: BacktestTally): Computed {
  return {
    rates: tally.arms.map((a) => ratesOf(a.all, a.decisions)),
    sweeps: tally.scores.map((scores) => curves(scores, tally.labels)),
  };
}

export function armLabel(arm: Arm): string {
  return `${arm.card.name}@${arm.card.version} + policy ${arm.policy.policyVersion}`;
}

export function summaryRows(computed: Computed): string[][] {
  return METRICS.map((m) => {
    const values = computed.rates.map((r, i) => m.value(r, computed.sweeps[i] as Curves));
    const delta = (values[1] as number) - (values[0] as number);
    return [m.label, ...values.map(m.format), values.length > 1 ? signed(delta, m.format) : ''];
  });
}

export function segmentRows(tally: BacktestTally): (string | number)[][] {
  return [...tally.segments.entries()]
    .filter(([, s]) => s.all.fraud + s.all.legit > 0)
    .map(([key, s]) => {
      const rates = s.decisions.map((d) => ratesOf(s.all, d));
      return [
        key,
        s.all.fraud + s.all.legit,
        s.all.fraud,
        ...rates.map((r) => pct(r.declineRate)),
        ...rates.map((r) => pct(r.recall, 1)),
        ...rates.map((r) => pct(r.fpr, 3)),
        s.changed,
      ];
    });
}

export function ruleRows(tally: BacktestTally, arms: readonly Arm[]): (string | number)[][] {
  const ids = new Set<string>();
  for (const arm of tally.arms) for (const id of arm.rules.keys()) ids.add(id);
  for (const arm of arms) for (const rule of arm.policy.rules) ids.add(rule.id);
  return [...ids].map((id) => {
    const rule = arms.map((a) => a.policy.rules.find((r) => r.id === id)).find((r) => r !== undefined);
    return [
      id,
      rule ? `${rule.decision} ${rule.reason}` : id === 'allow-list' ? 'approve' : 'decline',
      ...tally.arms.flatMap((a) => {
        const s = a.rules.get(id);
        return [s ? s.fraud + s.legit : 0, s ? pct(s.fraud / Math.max(1, s.fraud + s.legit), 1) : '–'];
      }),
    ];
  });
}
