/**
 * The backtest's terminal summary and HTML report, side by side for baseline and candidate:
 * rates by count and by amount, per segment, rules fired, decision changes, score
 * distributions by label and ROC / PR curves with each arm's thresholds marked.
 */
import {
  type BarValue,
  type Bin,
  barChart,
  type CurvePoint,
  curveChart,
  histogramChart,
  type Marker,
} from '../report/charts';
import { atThreshold, type Curves, histogram, logEdges, thin } from '../report/curves';
import type { Block, Report, Section } from '../report/page';
import type { Arm } from './arm';
import { armLabel, compute, money, num, ruleRows, segmentRows, summaryRows } from './tables';
import { type BacktestTally, DECISIONS, ratesOf } from './tally';

/** What the run was, for the headers. */
export interface RunInfo {
  readonly source: string;
  readonly events: number;
  readonly badLines: number;
  /** Whole run, reading included. */
  readonly seconds: number;
  /** The replay alone (fold, inference, policy, tally). */
  readonly replaySeconds: number;
  readonly eventsPerSecond: number;
  readonly eventsPerCpuSecond: number;
  readonly changesFile?: string;
}

/** The terminal summary: the side-by-side table, segments with changes, rules, the first changes. */
export function terminalSummary(tally: BacktestTally, arms: readonly Arm[], run: RunInfo): string {
  const computed = compute(tally);
  const names = arms.map((a) => a.name);
  const widths = [38, 18, 18, 14];
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[0] as number) : c.padStart(widths[i] ?? 14))).join(' ');
  const out = [
    '',
    `backtest: ${run.events} events (${tally.authorizations} authorizations, ${tally.labelled} labelled, ${tally.labels.filter(Boolean).length} fraud) from ${run.source}`,
    `  ${new Date(tally.first).toISOString()} … ${new Date(tally.last).toISOString()}; ${run.badLines} bad lines skipped`,
    `  ${run.seconds.toFixed(1)} s in all; replay ${run.replaySeconds.toFixed(1)} s: ${Math.round(run.eventsPerSecond)} events/s (${Math.round(run.eventsPerCpuSecond)} per CPU-second)`,
    ...arms.map(
      (a) =>
        `  ${a.name.padEnd(9)} ${armLabel(a)} (review ≥ ${a.thresholds.review.toPrecision(3)}, decline ≥ ${a.thresholds.decline.toPrecision(3)})`,
    ),
    '',
    line(['', ...names, names.length > 1 ? 'Δ' : '']),
    ...summaryRows(computed).map(line),
  ];
  if (tally.currencies.size > 1)
    out.push(`  note: amounts add minor units of ${tally.currencies.size} currencies as they are`);
  if (names.length > 1) {
    out.push(
      '',
      `decision changes: ${tally.changedTotal} of ${tally.authorizations}` +
        (tally.transitions.size > 0
          ? ` (${[...tally.transitions.entries()].map(([k, v]) => `${k} ${v}`).join(', ')})`
          : ''),
    );
    const bySegment = [...tally.segments.entries()]
      .filter(([, s]) => s.changed > 0)
      .sort((a, b) => b[1].changed - a[1].changed);
    if (bySegment.length > 0)
      out.push(
        `  by segment: ${bySegment
          .slice(0, 8)
          .map(([k, s]) => `${k} ${s.changed}`)
          .join(', ')}`,
      );
    for (const change of tally.changes.slice(0, 10)) {
      out.push(
        `  ${change.transactionId} ${change.timestamp} ${change.segment} ${money(change.amount)} ${change.currency} ${change.fraud ? 'FRAUD' : 'legit'}: ` +
          change.arms
            .map(
              (a) =>
                `${a.decision} (${a.score === null ? 'no score' : a.score.toFixed(4)}${a.rules.length ? `, ${a.rules.join('+')}` : ''})`,
            )
            .join(' → '),
      );
    }
    if (run.changesFile) out.push(`  every change: ${run.changesFile}`);
  }
  const rules = ruleRows(tally, arms);
  if (rules.length > 0) {
    out.push('', `rules fired (${names.map((n) => `${n}: count, fraud share`).join('; ')}):`);
    for (const row of rules)
      out.push(`  ${String(row[0]).padEnd(32)} ${String(row[1]).padEnd(36)} ${row.slice(2).join('  ')}`);
  }
  return out.join('\n');
}

/** Score histogram bins per label for one arm (log-spaced: fraud scores and legit scores live decades apart). */
function scoreBins(tally: BacktestTally, arm: number): Bin[] {
  const scores = tally.scores[arm] as number[];
  const edges = logEdges(1e-5, 1, 50);
  const byLabel = (fraud: boolean) =>
    histogram(
      scores.filter((_, i) => tally.labels[i] === fraud).map((s) => Math.max(s, 1e-5)),
      edges,
    );
  // Legitimate first so the fraud bars are drawn over them.
  return [false, true].flatMap((fraud) =>
    byLabel(fraud).map((count, i) => ({
      series: fraud ? 'fraud' : 'legitimate',
      lo: edges[i] as number,
      hi: edges[i + 1] as number,
      count,
    })),
  );
}

function thresholdMarkers(
  arms: readonly Arm[],
  sweeps: readonly Curves[],
  xy: (p: ReturnType<typeof atThreshold>) => [number, number],
): Marker[] {
  return arms.flatMap((arm, i) =>
    (['review', 'decline'] as const).map((kind) => {
      const threshold = arm.thresholds[kind];
      const [x, y] = xy(atThreshold(sweeps[i] as Curves, threshold));
      return {
        series: arm.name,
        x,
        y,
        label: `${arms.length > 1 ? `${arm.name} ` : ''}${kind} ≥ ${threshold.toPrecision(3)}`,
      };
    }),
  );
}

/** The HTML report. */
export function htmlReport(tally: BacktestTally, arms: readonly Arm[], run: RunInfo): Report {
  const computed = compute(tally);
  const names = arms.map((a) => a.name);
  const sameModel = arms.length < 2 || arms.every((a) => a.model === arms[0]?.model);
  const fraudCount = tally.labels.filter(Boolean).length;

  // ROC on a log FPR axis: at fraud's base rates every useful operating point has FPR < 5 %.
  const minFpr = 1 / Math.max(1, computed.sweeps[0]?.negatives ?? 1);
  const roc: CurvePoint[] = computed.sweeps.flatMap((sweep, i) =>
    thin(
      sweep.points.filter((p) => p.fpr > 0),
      300,
      (p) => [Math.log10(p.fpr), p.tpr],
    ).map((p) => ({ series: names[i] as string, x: p.fpr, y: p.tpr })),
  );
  const pr: CurvePoint[] = computed.sweeps.flatMap((sweep, i) =>
    thin(sweep.points.slice(1), 300, (p) => [p.tpr, p.precision]).map((p) => ({
      series: names[i] as string,
      x: p.tpr,
      y: p.precision,
    })),
  );
  const curveArms = sameModel ? arms : arms;
  const rocMarkers = thresholdMarkers(curveArms, computed.sweeps, (p) => [Math.max(p.fpr, minFpr), p.tpr]);
  const prMarkers = thresholdMarkers(curveArms, computed.sweeps, (p) => [p.tpr, p.precision]);

  const segmentsWithRows = [...tally.segments.entries()].filter(([, s]) => s.all.fraud + s.all.legit > 0);
  const declineBars: BarValue[] = segmentsWithRows.flatMap(([key, s]) =>
    s.decisions.map((d, i) => ({
      category: key,
      series: names[i] as string,
      value: 100 * ratesOf(s.all, d).declineRate || 0,
    })),
  );
  const changeBars: BarValue[] = [];
  const transitionsBySegment = new Map<string, Map<string, number>>();
  for (const change of tally.changes) {
    const key = `${change.arms[0]?.decision}→${change.arms[1]?.decision}`;
    const m = transitionsBySegment.get(change.segment) ?? new Map<string, number>();
    m.set(key, (m.get(key) ?? 0) + 1);
    transitionsBySegment.set(change.segment, m);
  }
  for (const [segment, m] of transitionsBySegment)
    for (const [series, value] of m) changeBars.push({ category: segment, series, value });

  const overview: Block[] = [
    {
      kind: 'p',
      text: `${run.events} events from ${run.source}: ${tally.authorizations} authorizations, ${tally.labelled} labelled, ${fraudCount} fraud by their final label (unlabelled counts as legitimate). ${run.badLines} bad lines skipped. Run took ${run.seconds.toFixed(1)} s; the replay ${run.replaySeconds.toFixed(1)} s (${Math.round(run.eventsPerSecond)} events/s, ${Math.round(run.eventsPerCpuSecond)} per CPU-second).`,
    },
    {
      kind: 'table',
      caption: 'Arms',
      columns: ['arm', 'model', 'policy', 'review ≥', 'decline ≥', 'unscored rows'],
      rows: arms.map((a, i) => [
        a.name,
        `${a.card.name}@${a.card.version} (${a.modelDir})`,
        `${a.policy.policyVersion} (${a.policyPath})`,
        a.thresholds.review.toPrecision(3),
        a.thresholds.decline.toPrecision(3),
        tally.arms[i]?.unscored ?? 0,
      ]),
    },
    {
      kind: 'table',
      caption: 'Side by side (amounts in major units; precision and recall against final labels)',
      columns: ['', ...names, ...(names.length > 1 ? ['Δ'] : [])],
      rows: summaryRows(computed).map((r) => (names.length > 1 ? r : r.slice(0, -1))),
    },
  ];
  if (tally.currencies.size > 1)
    overview.push({
      kind: 'p',
      text: `Amounts add the minor units of ${tally.currencies.size} currencies as they are (${[...tally.currencies.keys()].join(', ')}).`,
    });

  const sections: Section[] = [
    { title: 'Overview', blocks: overview },
    {
      title: 'Scores by label',
      blocks: (sameModel ? [0] : arms.map((_, i) => i)).map((i) => ({
        kind: 'chart' as const,
        spec: histogramChart({
          title: `Score distribution by final label${sameModel ? '' : `: ${names[i]}`}`,
          subtitle: armLabel(arms[i] as Arm),
          xTitle: 'model score (log scale)',
          yTitle: 'authorizations (log scale)',
          bins: scoreBins(tally, i),
          logX: true,
          logY: true,
        }),
        caption:
          'Both axes are logarithmic: fraud is a small share, so on a linear axis its bars would vanish next to the legitimate ones.',
      })),
    },
    {
      title: 'ROC and precision–recall',
      blocks: [
        {
          kind: 'chart',
          spec: curveChart({
            title: 'ROC curve (score alone)',
            subtitle: names
              .map((n, i) => `${n} AUC ${num(computed.sweeps[i]?.rocAuc ?? Number.NaN, 4)}`)
              .join(' · '),
            xTitle: 'false-positive rate (legitimate flagged / legitimate, log scale)',
            yTitle: 'recall (fraud flagged / fraud)',
            points: roc,
            markers: rocMarkers,
            logX: true,
            yDomain: [0, 1],
            step: true,
          }),
          caption:
            'Diamonds: each arm\'s review and decline thresholds ("score ≥ t"); rules and lists move the real operating point, see the table above.',
        },
        {
          kind: 'chart',
          spec: curveChart({
            title: 'Precision–recall curve (score alone)',
            subtitle: names
              .map((n, i) => `${n} average precision ${num(computed.sweeps[i]?.prAuc ?? Number.NaN, 4)}`)
              .join(' · '),
            xTitle: 'recall (fraud flagged / fraud)',
            yTitle: 'precision (fraud / flagged)',
            points: pr,
            markers: prMarkers,
            xDomain: [0, 1],
            yDomain: [0, 1],
          }),
        },
      ],
    },
    {
      title: 'Segments',
      blocks: [
        {
          kind: 'chart',
          spec: barChart({
            title: 'Decline rate by segment',
            categoryTitle: 'segment (channel.amount band.card history)',
            valueTitle: "declined (% of the segment's authorizations)",
            values: declineBars,
            horizontal: true,
          }),
        },
        {
          kind: 'table',
          caption: 'Per segment',
          columns: [
            'segment',
            'authorizations',
            'fraud',
            ...names.map((n) => `decline ${n}`),
            ...names.map((n) => `recall ${n}`),
            ...names.map((n) => `FPR ${n}`),
            'changed',
          ],
          rows: segmentRows(tally),
        },
      ],
    },
  ];
  if (names.length > 1) {
    const changeBlocks: Block[] = [
      {
        kind: 'p',
        text: `${tally.changedTotal} of ${tally.authorizations} authorizations change decision (${names[0]} → ${names[1]}).${run.changesFile ? ` Every change is in ${run.changesFile}.` : ''}`,
      },
      {
        kind: 'table',
        caption: `Decisions, ${names[0]} (rows) → ${names[1]} (columns)`,
        columns: ['', ...DECISIONS],
        rows: DECISIONS.map((from) => [
          from,
          ...DECISIONS.map((to) => (from === to ? '·' : (tally.transitions.get(`${from}→${to}`) ?? 0))),
        ]),
      },
    ];
    if (changeBars.length > 0)
      changeBlocks.push({
        kind: 'chart',
        spec: barChart({
          title: 'Decision changes by segment',
          subtitle:
            tally.changes.length < tally.changedTotal ? `first ${tally.changes.length} changes` : undefined,
          categoryTitle: 'segment',
          valueTitle: 'authorizations that change decision',
          values: changeBars,
          stacked: true,
          horizontal: true,
        }),
      });
    const largest = [...tally.changes].sort((a, b) => b.amount - a.amount).slice(0, 200);
    changeBlocks.push({
      kind: 'table',
      caption: `Changed transactions, largest amounts first (${largest.length} shown)`,
      columns: [
        'transaction',
        'time',
        'segment',
        'amount',
        'label',
        ...names.flatMap((n) => [`${n} score`, `${n} decision`, `${n} fired`]),
      ],
      rows: largest.map((c) => [
        c.transactionId,
        c.timestamp,
        c.segment,
        `${money(c.amount)} ${c.currency}`,
        c.fraud ? 'fraud' : c.labelled ? 'legitimate' : 'unlabelled',
        ...c.arms.flatMap((a) => [
          a.score === null ? '–' : a.score.toFixed(5),
          a.decision,
          a.rules.join(', ') || a.decidedBy,
        ]),
      ]),
    });
    sections.push({ title: 'Decision changes', blocks: changeBlocks });
  }
  const rules = ruleRows(tally, arms);
  const ruleBars: BarValue[] = rules.flatMap((row) =>
    names.map((n, i) => ({ category: String(row[0]), series: n, value: Number(row[2 + 2 * i]) })),
  );
  sections.push({
    title: 'Rules fired',
    blocks: [
      ...(ruleBars.length > 0
        ? [
            {
              kind: 'chart' as const,
              spec: barChart({
                title: 'Rule matches',
                categoryTitle: 'rule',
                valueTitle: 'authorizations matched',
                values: ruleBars,
                horizontal: true,
              }),
            },
          ]
        : []),
      {
        kind: 'table',
        caption:
          'Matches per rule (all-match policies report every matching rule; first-match, the one that decided)',
        columns: ['rule', 'action', ...names.flatMap((n) => [`${n} matched`, `${n} fraud share`])],
        rows: rules,
      },
    ],
  });
  return {
    title: 'Backtest',
    subtitle: `${arms.map((a) => `${a.name}: ${armLabel(a)}`).join(' vs ')} · ${new Date(tally.first).toISOString().slice(0, 10)} … ${new Date(tally.last).toISOString().slice(0, 10)}`,
    sections,
  };
}
