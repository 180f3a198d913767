import fc from 'fast-check';
import { DEFAULT_JUDGE_CONFIG } from '#domain/judge/config';
import { judgeCanary } from '#domain/judge/judge';
import { PAIR_CELLS, pairedDecisionTests, pairedKindCounts } from '#domain/judge/paired';
import type { DecisionCounts, JudgeInput, PairedDecisions, VersionObservation } from '#domain/judge/types';

const EDGES = [0, 0.01, 0.1, 0.5, 1];
const FEATURE_EDGES = { amount_log: [0, 5, 10, 20] };
const SEGMENTS: Record<string, [number, number, number]> = {
  'ecommerce.mid.known': [1500, 150, 60],
  'contactless.low.known': [1400, 14, 2],
  'card_present.mid.known': [1300, 3, 1],
};

function version(scale: number): VersionObservation {
  const segments: Record<string, DecisionCounts> = {};
  for (const [key, [answers, reviews, declines]] of Object.entries(SEGMENTS))
    segments[key] = { answers: answers * scale, reviews: reviews * scale, declines: declines * scale };
  return {
    functionVersion: scale > 1 ? '41' : '42',
    modelVersion: '1.0.0',
    latencyMinutes: [40, 42, 41, 43, 40, 44, 41, 42, 40, 43],
    requestsPerMinute: new Array(10).fill(420 * scale),
    requests: 4200 * scale,
    errors: 2 * scale,
    segments,
    scoreCounts: [3600 * scale, 450 * scale, 130 * scale, 30 * scale],
    featureCounts: { amount_log: [1300 * scale, 2500 * scale, 400 * scale] },
  };
}

/** Pairs where the shadow agrees with every live decision: the diagonal of each segment. */
function agreeing(scale: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [key, [answers, reviews, declines]] of Object.entries(SEGMENTS)) {
    const cells = new Array<number>(PAIR_CELLS).fill(0);
    cells[0] = (answers - reviews - declines) * scale;
    cells[4] = reviews * scale;
    cells[8] = declines * scale;
    out[key] = cells;
  }
  return out;
}

/** Moves `n` pairs of `segment` from cell (from) to cell (to): live decision kept, shadow changed. */
function shift(segments: Record<string, number[]>, segment: string, from: number, to: number, n: number) {
  const cells = segments[segment] as number[];
  cells[from] = (cells[from] as number) - n;
  cells[to] = (cells[to] as number) + n;
  return segments;
}

function input(paired?: Partial<PairedDecisions>): JudgeInput {
  return {
    baseline: version(9),
    canary: version(1),
    scoreEdges: EDGES,
    featureEdges: FEATURE_EDGES,
    paired: paired
      ? { shadow: { model: 'fraud-gbdt', version: '1.0.0' }, segments: agreeing(10), ...paired }
      : undefined,
  };
}

const byName = (verdict: ReturnType<typeof judgeCanary>, test: string) =>
  verdict.tests.find((t) => t.test === test);

describe('paired decision tests', () => {
  it('adds nothing without paired input', () => {
    // act
    const tests = pairedDecisionTests(input(), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(tests).toEqual([]);
  });

  it('passes a shadow that agrees on every request and leaves the empty tests out of the family', () => {
    // act
    const verdict = judgeCanary(input({}), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(verdict.outcome).toBe('pass');
    const paired = verdict.tests.filter((t) => t.test.startsWith('paired-'));
    expect(paired).toHaveLength(2 * (1 + Object.keys(SEGMENTS).length));
    expect(paired.every((t) => t.outcome === 'skipped')).toBe(true);
    expect(byName(verdict, 'paired-decline-rate[all]')?.reason).toMatch(/too few discordant pairs/);
  });

  it('fails a decline rate +50 % in one sparse segment that the unpaired test cannot see', () => {
    // prepare: card_present.mid.known declines 10 of 13,000 live; the candidate 15 more
    const segments = shift(agreeing(10), 'card_present.mid.known', 0, 2, 15);
    // act
    const verdict = judgeCanary(input({ segments }), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(byName(verdict, 'decline-rate[card_present.mid.known]')?.outcome).toBe('skipped');
    const test = byName(verdict, 'paired-decline-rate[card_present.mid.known]');
    expect(test?.outcome).toBe('fail');
    expect(test?.baselineValue).toBeCloseTo(10 / 13000, 12);
    expect(test?.canaryValue).toBeCloseTo(25 / 13000, 12);
    // 15 of 15 discordant pairs on one side: binom.test(15, 15) = 2⁻¹⁴ = 6.1e-5; Holm over the
    // 2 tests Tarone keeps (this segment and the aggregate share the same 15 pairs)
    expect(test?.pValue).toBeCloseTo(2 ** -14, 15);
    expect(test?.adjustedPValue).toBeCloseTo(2 * 2 ** -14, 15);
    // The aggregate moved by 15 / 2,550 declines = +0.6 %: significant, inside its 10 % tolerance
    expect(byName(verdict, 'paired-decline-rate[all]')?.outcome).toBe('pass');
    expect(verdict.outcome).toBe('fail');
    expect(verdict.because.join(' ')).toMatch(/paired-decline-rate\[card_present\.mid\.known\]/);
  });

  it('does not fail a significant change inside the tolerance', () => {
    // prepare: ecommerce.mid.known declines 600 live; the candidate 60 more (+10 % < 25 %)
    const segments = shift(agreeing(10), 'ecommerce.mid.known', 0, 2, 60);
    // act
    const verdict = judgeCanary(input({ segments }), DEFAULT_JUDGE_CONFIG);
    // assert
    const test = byName(verdict, 'paired-decline-rate[ecommerce.mid.known]');
    expect(test?.adjustedPValue).toBeLessThan(1e-10);
    expect(test?.outcome).toBe('pass');
    expect(verdict.outcome).toBe('pass');
  });

  it('passes discordant pairs that cancel out (the candidate moves requests both ways)', () => {
    // prepare: 30 live approvals the candidate declines, 30 live declines it approves
    const segments = shift(
      shift(agreeing(10), 'ecommerce.mid.known', 0, 2, 30),
      'ecommerce.mid.known',
      8,
      6,
      30,
    );
    // act
    const verdict = judgeCanary(input({ segments }), DEFAULT_JUDGE_CONFIG);
    // assert
    const test = byName(verdict, 'paired-decline-rate[ecommerce.mid.known]');
    expect(test?.pValue).toBe(1);
    expect(test?.outcome).toBe('pass');
    expect(verdict.outcome).toBe('pass');
  });

  it('fails fewer reviews too (review → approve) and reports the discordant counts', () => {
    // prepare: 40 of 1,500 live reviews become approvals in ecommerce.mid.known… ×10 scale
    const segments = shift(agreeing(10), 'ecommerce.mid.known', 4, 3, 500);
    // act
    const verdict = judgeCanary(input({ segments }), DEFAULT_JUDGE_CONFIG);
    // assert
    const test = byName(verdict, 'paired-review-rate[ecommerce.mid.known]');
    expect(test?.outcome).toBe('fail');
    expect(test?.reason).toMatch(/discordant 500 live-only \/ 0 candidate-only/);
    expect(verdict.outcome).toBe('fail');
  });

  it('skips a shadow that is not the canary model without blocking the verdict', () => {
    // prepare
    const segments = shift(agreeing(10), 'card_present.mid.known', 0, 2, 500);
    // act
    const verdict = judgeCanary(
      input({ shadow: { model: 'fraud-gbdt', version: '0.9.0' }, segments }),
      DEFAULT_JUDGE_CONFIG,
    );
    // assert
    expect(byName(verdict, 'paired')?.outcome).toBe('skipped');
    expect(byName(verdict, 'paired')?.reason).toMatch(/not the canary's model 1\.0\.0/);
    expect(verdict.outcome).toBe('pass');
  });

  it('skips a shadow of another model that shares the canary version string (neural fraud-seq 1.0.0)', () => {
    // prepare
    const segments = shift(agreeing(10), 'card_present.mid.known', 0, 2, 500);
    const named = input({ shadow: { model: 'fraud-seq', version: '1.0.0' }, segments });
    const withName = { ...named, canary: { ...named.canary, modelName: 'fraud-gbdt' } };
    // act
    const verdict = judgeCanary(withName, DEFAULT_JUDGE_CONFIG);
    const unnamed = judgeCanary(named, DEFAULT_JUDGE_CONFIG);
    // assert
    expect(byName(verdict, 'paired')?.reason).toBe(
      "shadow fraud-seq 1.0.0 is not the canary's model fraud-gbdt 1.0.0",
    );
    expect(verdict.outcome).toBe('pass');
    // without a name the version decides: the source must pick the canary model's series
    expect(byName(unnamed, 'paired-decline-rate[card_present.mid.known]')?.outcome).toBe('fail');
  });

  it.each([
    ['a short array', { 'ecommerce.mid.known': [1, 2, 3] }],
    ['a negative count', { 'ecommerce.mid.known': [10_000, 0, 0, 0, -1, 0, 0, 0, 5] }],
    ['NaN', { 'ecommerce.mid.known': [10_000, 0, 0, 0, Number.NaN, 0, 0, 0, 5] }],
  ])('is inconclusive (fail closed) on unreadable counts: %s', (_name, segments) => {
    // act
    const verdict = judgeCanary(input({ segments }), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(byName(verdict, 'paired')?.outcome).toBe('inconclusive');
    expect(verdict.outcome).toBe('inconclusive');
  });

  it('is inconclusive with too few pairs overall and skips a sparse segment', () => {
    // prepare: 1,900 pairs in all (< 2,000), with 30 of them in a 100-pair segment
    const few = {
      'ecommerce.mid.known': [1700, 0, 0, 0, 60, 0, 0, 0, 40],
      'moto.high.new': [90, 0, 0, 0, 0, 0, 0, 0, 10],
    };
    // act
    const tests = pairedDecisionTests(input({ segments: few }), DEFAULT_JUDGE_CONFIG);
    // assert
    const of = (name: string) => tests.find((t) => t.test === name);
    expect(of('paired-decline-rate[all]')?.outcome).toBe('inconclusive');
    expect(of('paired-decline-rate[moto.high.new]')?.outcome).toBe('skipped');
    expect(of('paired-decline-rate[moto.high.new]')?.reason).toBe('100 pairs < 200');
  });

  it('rounds float noise of trimmed counts', () => {
    // prepare
    const noisy = agreeing(10);
    noisy['ecommerce.mid.known'] = (noisy['ecommerce.mid.known'] as number[]).map((n) => n + 0.0001);
    // act
    const tests = pairedDecisionTests(input({ segments: noisy }), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(tests.find((t) => t.test === 'paired-decline-rate[ecommerce.mid.known]')?.samples.baseline).toBe(
      15_000,
    );
  });
});

describe('paired decision tests (properties)', () => {
  const cells = fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: PAIR_CELLS, maxLength: PAIR_CELLS });
  const segments = fc.dictionary(fc.constantFrom(...Object.keys(SEGMENTS), 'moto.low.new'), cells, {
    minKeys: 1,
  });

  it('never fails a shadow that agrees on every request, however the traffic is spread', () => {
    fc.assert(
      fc.property(segments, (raw) => {
        // prepare: keep the diagonal only
        const diagonal = Object.fromEntries(
          Object.entries(raw).map(([k, c]) => [k, c.map((n, i) => (i % 4 === 0 ? n : 0))]),
        );
        // act
        const tests = pairedDecisionTests(input({ segments: diagonal }), DEFAULT_JUDGE_CONFIG);
        // assert
        expect(tests.some((t) => t.outcome === 'fail')).toBe(false);
      }),
    );
  });

  it('fails only on an adjusted p below α with a change beyond tolerance, and is blind to which side is live', () => {
    fc.assert(
      fc.property(segments, (raw) => {
        // prepare: the transpose swaps live and shadow
        const transposed = Object.fromEntries(
          Object.entries(raw).map(([k, c]) => [
            k,
            c.map((_, i) => c[3 * (i % 3) + Math.floor(i / 3)] as number),
          ]),
        );
        // act
        const tests = pairedDecisionTests(input({ segments: raw }), DEFAULT_JUDGE_CONFIG);
        const swapped = pairedDecisionTests(input({ segments: transposed }), DEFAULT_JUDGE_CONFIG);
        // assert
        tests.forEach((t, i) => {
          const other = swapped[i];
          expect(other?.test).toBe(t.test);
          if (t.pValue !== undefined) expect(other?.pValue).toBeCloseTo(t.pValue, 10);
          if (t.outcome === 'fail') {
            expect(t.adjustedPValue).toBeLessThan(DEFAULT_JUDGE_CONFIG.alpha);
            const tolerance = t.test.endsWith('[all]') ? 0.1 : 0.25;
            expect(Math.abs(t.canaryValue / t.baselineValue - 1)).toBeGreaterThanOrEqual(tolerance);
          }
        });
      }),
    );
  });

  it('counts each kind from the 9 cells as the contract indexes them (3 × live + shadow)', () => {
    fc.assert(
      fc.property(cells, fc.constantFrom(1, 2), (c, value) => {
        // act
        const k = pairedKindCounts(c, value);
        // assert
        const at = (l: number, s: number) => c[3 * l + s] as number;
        const others = [0, 1, 2].filter((v) => v !== value);
        expect(k.pairs).toBe(c.reduce((a, b) => a + b, 0));
        expect(k.liveOnly).toBe(others.reduce((a, s) => a + at(value, s), 0));
        expect(k.candidateOnly).toBe(others.reduce((a, l) => a + at(l, value), 0));
        expect(k.candidate - k.live).toBe(k.candidateOnly - k.liveOnly);
      }),
    );
  });
});
