/**
 * The paired half of the decision tests: when the baseline version scored its own traffic with
 * the canary's model as a shadow, every request carries both decisions, and a change confined
 * to one segment shows as discordant pairs in that segment alone. No between-sample noise and
 * all of the traffic instead of the canary's share: this is what makes a small segment's change
 * visible at all.
 *
 * Per slice (the aggregate and every segment) and kind (decline, review): the exact McNemar
 * test on the discordant pairs, and the relative change `candidate rate ÷ live rate − 1` on the
 * same requests against the slice's tolerance; a test fails only with both. The family:
 * - too few pairs in a segment → `skipped`, in the aggregate → `inconclusive` (as unpaired);
 * - a test whose discordant count cannot reach significance even alone is left out of the
 *   family (Tarone's selection, `skipped`), so 50 empty segments do not dilute the one that
 *   moved;
 * - Holm's correction over the rest, at the judge's α.
 */
import { holmAdjust, taroneSelection } from '../stats/multiple-testing';
import { mcnemarExact } from '../stats/paired';
import type { JudgeConfig } from './config';
import type { JudgeInput, PairedDecisions, TestResult } from './types';

/** Length of a segment's pair-count array: 3 live × 3 shadow decisions. */
export const PAIR_CELLS = 9;

const KINDS = [
  { kind: 'decline', value: 2 },
  { kind: 'review', value: 1 },
] as const;

const pct = (value: number) =>
  Number.isFinite(value)
    ? `${(value * 100).toFixed(value !== 0 && Math.abs(value) < 0.01 ? 2 : 1)} %`
    : String(value);

/** What one kind of decision looks like on one slice's pairs. */
export interface PairedKindCounts {
  readonly pairs: number;
  /** Requests the live side gave this decision. */
  readonly live: number;
  /** Requests the candidate (shadow) gave this decision. */
  readonly candidate: number;
  readonly liveOnly: number;
  readonly candidateOnly: number;
}

/** The pairs of one decision kind (`value` as `SegmentDecisionValue`) out of a 9-cell array. */
export function pairedKindCounts(cells: readonly number[], value: number): PairedKindCounts {
  let pairs = 0;
  let live = 0;
  let candidate = 0;
  let liveOnly = 0;
  let candidateOnly = 0;
  for (let l = 0; l < 3; l++) {
    for (let s = 0; s < 3; s++) {
      const n = cells[3 * l + s] as number;
      pairs += n;
      if (l === value) live += n;
      if (s === value) candidate += n;
      if (l === value && s !== value) liveOnly += n;
      if (s === value && l !== value) candidateOnly += n;
    }
  }
  return { pairs, live, candidate, liveOnly, candidateOnly };
}

/**
 * Why a pair-count set cannot be read, or undefined: every segment needs exactly 9 finite,
 * non-negative counts. Counts from CloudWatch trimmed counts may carry float noise, so they
 * are rounded first (see {@link roundedCells}).
 */
function malformed(paired: PairedDecisions): string | undefined {
  for (const [key, cells] of Object.entries(paired.segments)) {
    if (!Array.isArray(cells) || cells.length !== PAIR_CELLS)
      return `segment ${key} has ${Array.isArray(cells) ? cells.length : 'no'} pair counts, need ${PAIR_CELLS}`;
    if (cells.some((n) => typeof n !== 'number' || !Number.isFinite(n) || n < 0))
      return `segment ${key} has a negative or non-finite pair count`;
  }
  return undefined;
}

const roundedCells = (cells: readonly number[]) => cells.map((n) => Math.round(n));

function sumCells(all: readonly (readonly number[])[]): number[] {
  const total = new Array<number>(PAIR_CELLS).fill(0);
  for (const cells of all)
    for (let i = 0; i < PAIR_CELLS; i++) total[i] = (total[i] as number) + (cells[i] as number);
  return total;
}

/** The paired tests of `input.paired`; none without it. */
export function pairedDecisionTests(input: JudgeInput, config: JudgeConfig): TestResult[] {
  const paired = input.paired;
  if (!paired) return [];
  const shadow = `${paired.shadow.model} ${paired.shadow.version}`;
  const { modelName, modelVersion } = input.canary;
  const canaryModel = modelName === undefined ? modelVersion : `${modelName} ${modelVersion}`;
  const lone = (outcome: 'skipped' | 'inconclusive', reason: string): TestResult[] => [
    {
      test: 'paired',
      outcome,
      statistic: { name: 'pairs', value: 0 },
      threshold: `shadow = the canary's model ${canaryModel}`,
      baselineValue: Number.NaN,
      canaryValue: Number.NaN,
      samples: { baseline: 0, canary: 0 },
      reason,
    },
  ];
  // A shadow of another model says nothing about this canary: not a reason to block it.
  if (
    paired.shadow.version !== modelVersion ||
    (modelName !== undefined && paired.shadow.model !== modelName)
  )
    return lone('skipped', `shadow ${shadow} is not the canary's model ${canaryModel}`);
  // Unreadable counts are an adapter fault: fail closed rather than judge on part of them.
  const problem = malformed(paired);
  if (problem) return lone('inconclusive', `paired counts unreadable: ${problem}`);

  const d = config.decisions;
  const keys = Object.keys(paired.segments).sort();
  const segmentCells = keys.map((key) => roundedCells(paired.segments[key] as readonly number[]));
  const slices = [
    { name: 'all', cells: sumCells(segmentCells), tolerance: d.relativeTolerance, aggregate: true },
    ...keys.map((name, i) => ({
      name,
      cells: segmentCells[i] as number[],
      tolerance: d.segmentRelativeTolerance,
      aggregate: false,
    })),
  ];

  const results: TestResult[] = [];
  const family: {
    index: number;
    pValue: number;
    minimumPValue: number;
    relative: number;
    tolerance: number;
  }[] = [];
  for (const slice of slices) {
    for (const { kind, value } of KINDS) {
      const k = pairedKindCounts(slice.cells, value);
      const test = `paired-${kind}-rate[${slice.name}]`;
      const threshold = `exact McNemar, Holm-adjusted p < ${config.alpha} and ±${pct(slice.tolerance)} (relative)`;
      const liveRate = k.pairs > 0 ? k.live / k.pairs : Number.NaN;
      const candidateRate = k.pairs > 0 ? k.candidate / k.pairs : Number.NaN;
      const base = {
        test,
        threshold,
        baselineValue: liveRate,
        canaryValue: candidateRate,
        samples: { baseline: k.pairs, canary: k.pairs },
      };
      const minPairs = slice.aggregate ? d.minAnswers : d.minSegmentAnswers;
      if (k.pairs < minPairs) {
        results.push({
          ...base,
          outcome: slice.aggregate ? 'inconclusive' : 'skipped',
          statistic: { name: 'pairs', value: k.pairs },
          reason: `${k.pairs} pairs < ${minPairs}`,
        });
        continue;
      }
      const r = mcnemarExact({ liveOnly: k.liveOnly, candidateOnly: k.candidateOnly });
      const relative = k.live > 0 ? k.candidate / k.live - 1 : k.candidate > 0 ? Number.POSITIVE_INFINITY : 0;
      family.push({
        index: results.length,
        pValue: r.pValue,
        minimumPValue: r.minimumPValue,
        relative,
        tolerance: slice.tolerance,
      });
      results.push({
        ...base,
        outcome: 'pass',
        statistic: { name: 'χ²', value: r.chiSquare },
        pValue: r.pValue,
        reason: `${kind} rate ${pct(liveRate)} live → ${pct(candidateRate)} ${shadow} on the same ${k.pairs} requests (${relative >= 0 ? '+' : ''}${pct(relative)}); discordant ${k.liveOnly} live-only / ${k.candidateOnly} candidate-only`,
      });
    }
  }

  const chosen = taroneSelection(
    family.map((f) => f.minimumPValue),
    config.alpha,
  );
  const members = family.filter((_, i) => chosen[i]);
  const adjusted = holmAdjust(members.map((f) => f.pValue));
  for (const f of family) {
    const result = results[f.index] as TestResult;
    const at = members.indexOf(f);
    if (at < 0) {
      results[f.index] = {
        ...result,
        outcome: 'skipped',
        reason: `${result.reason}: too few discordant pairs to reach significance (min p ${f.minimumPValue.toPrecision(3)})`,
      };
      continue;
    }
    const adjustedPValue = adjusted[at] as number;
    const fails = adjustedPValue < config.alpha && Math.abs(f.relative) >= f.tolerance;
    results[f.index] = {
      ...result,
      outcome: fails ? 'fail' : 'pass',
      adjustedPValue,
      reason: `${result.reason}, adjusted p = ${adjustedPValue.toPrecision(3)}`,
    };
  }
  return results;
}
