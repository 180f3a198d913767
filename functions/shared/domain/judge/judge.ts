/**
 * The canary judge: compares a canary version with the baseline it is replacing on the same
 * window of live traffic and decides `pass`, `fail` or `inconclusive`, with every test's
 * statistic, threshold and sample sizes so the verdict can be read and argued with.
 *
 * Rules that shape it:
 * - a test with too little data is `inconclusive`, never `pass`; a verdict is `pass` only when
 *   every test that votes passed;
 * - significance alone never fails a canary: each test also needs an effect at least as large
 *   as its configured floor or tolerance (with enough traffic any difference is significant);
 * - decline and review rates are tested in the aggregate and in every segment with enough
 *   data, as one family under Holm's correction, so 50 tests do not turn into false alarms;
 * - with paired input (the baseline scored its traffic with the canary's model as a shadow),
 *   the same decision tests run on the pairs as well (`./paired.ts`): far more sensitive,
 *   since each request is its own control;
 * - when the inputs themselves differ (feature PSI above the limit) the two versions did not
 *   see the same traffic and nothing can be concluded: `inconclusive` overrides everything.
 */
import { histogramFromCounts } from '../stats/histogram';
import { mannWhitneyU, mannWhitneyUFromCounts, median } from '../stats/mann-whitney';
import { holmAdjust } from '../stats/multiple-testing';
import { twoProportionZTest } from '../stats/proportions';
import { psi } from '../stats/psi';
import type { JudgeConfig } from './config';
import { pairedDecisionTests } from './paired';
import type {
  DecisionCounts,
  JudgeInput,
  Outcome,
  TestResult,
  Verdict,
  VerdictOutcome,
  VersionObservation,
} from './types';

const pct = (value: number) => `${(value * 100).toFixed(value !== 0 && Math.abs(value) < 0.01 ? 2 : 1)} %`;

/** Decides the canary; pure (no clock, no I/O), so the simulator runs the very same code. */
export function judgeCanary(input: JudgeInput, config: JudgeConfig): Verdict {
  const { baseline, canary } = input;
  const change = baseline.modelVersion === canary.modelVersion ? 'code' : 'model';
  const inputs = inputTests(input, config);
  const tests: TestResult[] = [
    latencyTest(baseline, canary, config),
    errorTest(baseline, canary, config),
    ...decisionTests(baseline, canary, config),
    ...pairedDecisionTests(input, config),
    ...scoreTests(input, change, config),
    ...inputs,
  ];
  // Only a measured PSI above the limit invalidates the comparison; a feature with too few
  // values is merely inconclusive (its statistic is the value count, not a PSI).
  const invalid = inputs.filter(
    (t) =>
      t.outcome === 'inconclusive' &&
      t.statistic.name === 'PSI' &&
      t.statistic.value > config.inputs.psiInvalid,
  );
  const failed = tests.filter((t) => t.outcome === 'fail');
  const open = tests.filter((t) => t.outcome === 'inconclusive');
  let outcome: VerdictOutcome;
  let because: TestResult[];
  if (invalid.length > 0) [outcome, because] = ['inconclusive', invalid];
  else if (failed.length > 0) [outcome, because] = ['fail', failed];
  else if (open.length > 0) [outcome, because] = ['inconclusive', open];
  else [outcome, because] = ['pass', []];
  return {
    outcome,
    baseline: { functionVersion: baseline.functionVersion, modelVersion: baseline.modelVersion },
    canary: { functionVersion: canary.functionVersion, modelVersion: canary.modelVersion },
    change,
    tests,
    because: because.map((t) => `${t.test}: ${t.reason}`),
  };
}

function latencyTest(
  baseline: VersionObservation,
  canary: VersionObservation,
  config: JudgeConfig,
): TestResult {
  const { minMinutes, minRequestsPerMinute, relativeFloor } = config.latency;
  const usable = (v: VersionObservation) =>
    v.latencyMinutes.filter(
      (value, i) => Number.isFinite(value) && (v.requestsPerMinute[i] ?? 0) >= minRequestsPerMinute,
    );
  const b = usable(baseline);
  const c = usable(canary);
  const threshold = `one-sided MWU p < ${config.alpha} and median +${pct(relativeFloor)}`;
  const samples = { baseline: b.length, canary: c.length };
  if (b.length < minMinutes || c.length < minMinutes) {
    return {
      test: 'latency',
      outcome: 'inconclusive',
      statistic: { name: 'minutes', value: Math.min(b.length, c.length) },
      threshold,
      baselineValue: b.length > 0 ? median(b) : Number.NaN,
      canaryValue: c.length > 0 ? median(c) : Number.NaN,
      samples,
      reason: `${Math.min(b.length, c.length)} usable minutes < ${minMinutes}`,
    };
  }
  const mwu = mannWhitneyU(c, b, { alternative: 'greater' });
  const baselineMedian = median(b);
  const canaryMedian = median(c);
  const relative = baselineMedian > 0 ? canaryMedian / baselineMedian - 1 : 0;
  const outcome: Outcome = mwu.pValue < config.alpha && relative >= relativeFloor ? 'fail' : 'pass';
  return {
    test: 'latency',
    outcome,
    statistic: { name: 'U', value: mwu.u },
    pValue: mwu.pValue,
    threshold,
    baselineValue: baselineMedian,
    canaryValue: canaryMedian,
    samples,
    reason: `median per-minute latency ${baselineMedian.toFixed(1)} → ${canaryMedian.toFixed(1)} ms (${relative >= 0 ? '+' : ''}${pct(relative)}), p = ${mwu.pValue.toPrecision(3)}`,
  };
}

function errorTest(
  baseline: VersionObservation,
  canary: VersionObservation,
  config: JudgeConfig,
): TestResult {
  const { minRequests, absoluteFloor } = config.errors;
  const threshold = `one-sided p < ${config.alpha} and +${pct(absoluteFloor)} (absolute)`;
  const samples = { baseline: baseline.requests, canary: canary.requests };
  if (baseline.requests < minRequests || canary.requests < minRequests) {
    return {
      test: 'errors',
      outcome: 'inconclusive',
      statistic: { name: 'requests', value: Math.min(baseline.requests, canary.requests) },
      threshold,
      baselineValue: baseline.requests > 0 ? baseline.errors / baseline.requests : Number.NaN,
      canaryValue: canary.requests > 0 ? canary.errors / canary.requests : Number.NaN,
      samples,
      reason: `${Math.min(baseline.requests, canary.requests)} requests < ${minRequests}`,
    };
  }
  const r = twoProportionZTest(
    { events: baseline.errors, trials: baseline.requests },
    { events: canary.errors, trials: canary.requests },
    'greater',
  );
  return {
    test: 'errors',
    outcome: r.pValue < config.alpha && r.difference >= absoluteFloor ? 'fail' : 'pass',
    statistic: { name: 'z', value: r.z },
    pValue: r.pValue,
    threshold,
    baselineValue: r.baselineRate,
    canaryValue: r.canaryRate,
    samples,
    reason: `error rate ${pct(r.baselineRate)} → ${pct(r.canaryRate)}, p = ${r.pValue.toPrecision(3)}`,
  };
}

function total(v: VersionObservation): DecisionCounts {
  let answers = 0;
  let reviews = 0;
  let declines = 0;
  for (const s of Object.values(v.segments)) {
    answers += s.answers;
    reviews += s.reviews;
    declines += s.declines;
  }
  return { answers, reviews, declines };
}

const NO_DECISIONS: DecisionCounts = { answers: 0, reviews: 0, declines: 0 };

function decisionTests(
  baseline: VersionObservation,
  canary: VersionObservation,
  config: JudgeConfig,
): TestResult[] {
  const c = config.decisions;
  const slices: {
    name: string;
    b: DecisionCounts;
    c: DecisionCounts;
    tolerance: number;
    aggregate: boolean;
  }[] = [
    { name: 'all', b: total(baseline), c: total(canary), tolerance: c.relativeTolerance, aggregate: true },
  ];
  const keys = [...new Set([...Object.keys(baseline.segments), ...Object.keys(canary.segments)])].sort();
  for (const key of keys) {
    slices.push({
      name: key,
      b: baseline.segments[key] ?? NO_DECISIONS,
      c: canary.segments[key] ?? NO_DECISIONS,
      tolerance: c.segmentRelativeTolerance,
      aggregate: false,
    });
  }
  const results: TestResult[] = [];
  const family: { index: number; pValue: number; relative: number; tolerance: number }[] = [];
  for (const slice of slices) {
    for (const kind of ['declines', 'reviews'] as const) {
      const test = `${kind === 'declines' ? 'decline' : 'review'}-rate[${slice.name}]`;
      const threshold = `Holm-adjusted p < ${config.alpha} and ±${pct(slice.tolerance)} (relative)`;
      const samples = { baseline: slice.b.answers, canary: slice.c.answers };
      const baselineRate = slice.b.answers > 0 ? slice.b[kind] / slice.b.answers : Number.NaN;
      const canaryRate = slice.c.answers > 0 ? slice.c[kind] / slice.c.answers : Number.NaN;
      const expected = slice.c.answers * (Number.isNaN(baselineRate) ? 0 : baselineRate);
      const minAnswers = slice.aggregate ? c.minAnswers : c.minSegmentAnswers;
      const tooFew =
        slice.b.answers < minAnswers || slice.c.answers < minAnswers
          ? `${Math.min(slice.b.answers, slice.c.answers)} answers < ${minAnswers}`
          : expected < c.minExpectedEvents && slice.c[kind] < c.minExpectedEvents
            ? `${expected.toFixed(1)} expected ${kind} < ${c.minExpectedEvents}`
            : undefined;
      if (tooFew) {
        // A sparse segment cannot be judged and does not block; a sparse aggregate blocks.
        results.push({
          test,
          outcome: slice.aggregate ? 'inconclusive' : 'skipped',
          statistic: { name: 'answers', value: Math.min(slice.b.answers, slice.c.answers) },
          threshold,
          baselineValue: baselineRate,
          canaryValue: canaryRate,
          samples,
          reason: tooFew,
        });
        continue;
      }
      const r = twoProportionZTest(
        { events: slice.b[kind], trials: slice.b.answers },
        { events: slice.c[kind], trials: slice.c.answers },
      );
      family.push({
        index: results.length,
        pValue: r.pValue,
        relative: r.relativeChange,
        tolerance: slice.tolerance,
      });
      results.push({
        test,
        outcome: 'pass',
        statistic: { name: 'z', value: r.z },
        pValue: r.pValue,
        threshold,
        baselineValue: r.baselineRate,
        canaryValue: r.canaryRate,
        samples,
        reason: `${kind === 'declines' ? 'decline' : 'review'} rate ${pct(r.baselineRate)} → ${pct(r.canaryRate)}`,
      });
    }
  }
  const adjusted = holmAdjust(family.map((f) => f.pValue));
  family.forEach((f, i) => {
    const result = results[f.index] as TestResult;
    const adjustedPValue = adjusted[i] as number;
    const fails = adjustedPValue < config.alpha && Math.abs(f.relative) >= f.tolerance;
    results[f.index] = {
      ...result,
      outcome: fails ? 'fail' : 'pass',
      adjustedPValue,
      reason: `${result.reason} (${f.relative >= 0 ? '+' : ''}${pct(f.relative)}), adjusted p = ${adjustedPValue.toPrecision(3)}`,
    };
  });
  return results;
}

function scoreTests(input: JudgeInput, change: 'code' | 'model', config: JudgeConfig): TestResult[] {
  const { baseline, canary, scoreEdges } = input;
  const s = config.scores;
  // The reference: what the canary's scores should look like.
  const reference = change === 'code' ? baseline.scoreCounts : input.canaryCard?.counts;
  const against = change === 'code' ? 'the baseline' : 'its model card';
  const suffix = change === 'code' ? '' : '-card';
  const samples = {
    baseline: reference ? reference.reduce((a, b) => a + b, 0) : 0,
    canary: canary.scoreCounts.reduce((a, b) => a + b, 0),
  };
  const shiftThreshold = `two-sided MWU p < ${config.alpha} and |P(canary > ref) − ½| ≥ ${s.shiftFloor}`;
  const psiThreshold = `PSI < ${change === 'code' ? s.psiFail : s.cardPsiFail}`;
  const problem = !reference
    ? 'the canary model card has no score histogram'
    : reference.length !== scoreEdges.length - 1
      ? 'card bins differ from the score bins'
      : samples.baseline < s.minAnswers || samples.canary < s.minAnswers
        ? `${Math.min(samples.baseline, samples.canary)} scores < ${s.minAnswers}`
        : undefined;
  if (problem || !reference) {
    const open = (test: string, threshold: string): TestResult => ({
      test,
      outcome: 'inconclusive',
      statistic: { name: 'scores', value: Math.min(samples.baseline, samples.canary) },
      threshold,
      baselineValue: Number.NaN,
      canaryValue: Number.NaN,
      samples,
      reason: problem ?? 'no reference histogram',
    });
    return [open(`score-shift${suffix}`, shiftThreshold), open(`score-psi${suffix}`, psiThreshold)];
  }
  const mwu = mannWhitneyUFromCounts(canary.scoreCounts, reference);
  const shift = mwu.probabilityGreater - 0.5;
  const value = psi(
    histogramFromCounts(scoreEdges, reference).fractions,
    histogramFromCounts(scoreEdges, canary.scoreCounts).fractions,
  );
  const limit = change === 'code' ? s.psiFail : s.cardPsiFail;
  return [
    {
      test: `score-shift${suffix}`,
      outcome: mwu.pValue < config.alpha && Math.abs(shift) >= s.shiftFloor ? 'fail' : 'pass',
      statistic: { name: 'P−½', value: shift },
      pValue: mwu.pValue,
      threshold: shiftThreshold,
      baselineValue: 0.5,
      canaryValue: mwu.probabilityGreater,
      samples,
      reason: `scores ${shift >= 0 ? 'higher' : 'lower'} than ${against}: P(canary > ref) = ${mwu.probabilityGreater.toFixed(4)}, p = ${mwu.pValue.toPrecision(3)}`,
    },
    {
      test: `score-psi${suffix}`,
      outcome: value >= limit ? 'fail' : 'pass',
      statistic: { name: 'PSI', value },
      threshold: psiThreshold,
      baselineValue: Number.NaN,
      canaryValue: value,
      samples,
      reason: `PSI ${value.toFixed(4)} against ${against}`,
    },
  ];
}

function inputTests(input: JudgeInput, config: JudgeConfig): TestResult[] {
  const names = Object.keys(input.featureEdges).sort();
  const { minAnswers, psiInvalid } = config.inputs;
  const threshold = `PSI ≤ ${psiInvalid}`;
  if (names.length === 0) {
    return [
      {
        test: 'input-psi',
        outcome: 'skipped',
        statistic: { name: 'features', value: 0 },
        threshold,
        baselineValue: Number.NaN,
        canaryValue: Number.NaN,
        samples: { baseline: 0, canary: 0 },
        reason: 'no top features on the model card',
      },
    ];
  }
  return names.map((name): TestResult => {
    const edges = input.featureEdges[name] as readonly number[];
    const b = input.baseline.featureCounts[name];
    const c = input.canary.featureCounts[name];
    const bh = b && b.length === edges.length - 1 ? histogramFromCounts(edges, b) : undefined;
    const ch = c && c.length === edges.length - 1 ? histogramFromCounts(edges, c) : undefined;
    const samples = { baseline: bh?.total ?? 0, canary: ch?.total ?? 0 };
    if (!bh || !ch || bh.total < minAnswers || ch.total < minAnswers) {
      return {
        test: `input-psi[${name}]`,
        outcome: 'inconclusive',
        statistic: { name: 'values', value: Math.min(samples.baseline, samples.canary) },
        threshold,
        baselineValue: Number.NaN,
        canaryValue: Number.NaN,
        samples,
        reason:
          !bh || !ch ? 'feature histogram missing' : `${Math.min(bh.total, ch.total)} values < ${minAnswers}`,
      };
    }
    const value = psi(bh.fractions, ch.fractions);
    return {
      test: `input-psi[${name}]`,
      outcome: value > psiInvalid ? 'inconclusive' : 'pass',
      statistic: { name: 'PSI', value },
      threshold,
      baselineValue: Number.NaN,
      canaryValue: value,
      samples,
      reason:
        value > psiInvalid
          ? `inputs differ (PSI ${value.toFixed(3)}): comparison invalid`
          : `PSI ${value.toFixed(4)}`,
    };
  });
}
