import { DEFAULT_JUDGE_CONFIG, judgeConfig } from '#domain/judge/config';
import { judgeCanary } from '#domain/judge/judge';
import { formatVerdict } from '#domain/judge/report';
import type { DecisionCounts, JudgeInput, VersionObservation } from '#domain/judge/types';

const EDGES = [0, 0.01, 0.1, 0.5, 1];
const FEATURE_EDGES = { amount_log: [0, 5, 10, 20] };

/** A healthy version: `scale` multiplies every count (the baseline sees 9× the canary's traffic). */
function version(scale: number, overrides: Partial<VersionObservation> = {}): VersionObservation {
  const segment = (answers: number, reviews: number, declines: number): DecisionCounts => ({
    answers: answers * scale,
    reviews: reviews * scale,
    declines: declines * scale,
  });
  return {
    functionVersion: scale > 1 ? '41' : '42',
    modelVersion: '1.0.0',
    latencyMinutes: [40, 42, 41, 43, 40, 44, 41, 42, 40, 43],
    requestsPerMinute: new Array(10).fill(300 * scale),
    requests: 3000 * scale,
    errors: 3 * scale,
    segments: {
      'ecommerce.mid.known': segment(1500, 150, 60),
      'contactless.low.known': segment(1400, 14, 2),
      'moto.high.new': segment(40, 4, 2),
    },
    scoreCounts: [2600 * scale, 250 * scale, 70 * scale, 20 * scale],
    featureCounts: { amount_log: [900 * scale, 1800 * scale, 240 * scale] },
    ...overrides,
  };
}

function input(canary: Partial<VersionObservation> = {}, extra: Partial<JudgeInput> = {}): JudgeInput {
  return {
    baseline: version(9),
    canary: version(1, canary),
    scoreEdges: EDGES,
    featureEdges: FEATURE_EDGES,
    ...extra,
  };
}

const outcomeOf = (verdict: ReturnType<typeof judgeCanary>, test: string) =>
  verdict.tests.find((t) => t.test === test)?.outcome;

describe('judgeCanary', () => {
  it('passes identical versions and reports every test with its statistic, threshold and samples', () => {
    // act
    const verdict = judgeCanary(input(), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(verdict.outcome).toBe('pass');
    expect(verdict.change).toBe('code');
    const names = verdict.tests.map((t) => t.test);
    expect(names).toEqual(
      expect.arrayContaining([
        'latency',
        'errors',
        'decline-rate[all]',
        'review-rate[ecommerce.mid.known]',
        'score-shift',
        'score-psi',
        'input-psi[amount_log]',
      ]),
    );
    for (const t of verdict.tests) {
      expect(t.threshold).not.toBe('');
      expect(Number.isFinite(t.samples.canary)).toBe(true);
    }
    expect(verdict.tests.find((t) => t.test === 'errors')?.samples).toEqual({
      baseline: 27000,
      canary: 3000,
    });
  });

  it('fails a canary whose per-minute latency is 30 % higher', () => {
    // prepare
    const slow = version(1).latencyMinutes.map((v) => v * 1.3);
    // act
    const verdict = judgeCanary(input({ latencyMinutes: slow }), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(verdict.outcome).toBe('fail');
    expect(outcomeOf(verdict, 'latency')).toBe('fail');
    expect(verdict.because.join()).toContain('latency');
  });

  it('does not fail a significant but tiny latency shift (effect floor)', () => {
    // prepare: every minute 3 % slower: MWU is significant, the effect is under the 10 % floor
    const slower = version(1).latencyMinutes.map((v) => v * 1.03 + 2);
    // act
    const verdict = judgeCanary(input({ latencyMinutes: slower }), DEFAULT_JUDGE_CONFIG);
    // assert
    const latency = verdict.tests.find((t) => t.test === 'latency');
    expect(latency?.pValue).toBeLessThan(0.01);
    expect(latency?.outcome).toBe('pass');
  });

  it('fails an error rate 0.5 percentage points higher', () => {
    // act
    const verdict = judgeCanary(input({ errors: 3 + 15 }), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(outcomeOf(verdict, 'errors')).toBe('fail');
    expect(verdict.outcome).toBe('fail');
  });

  it('fails a segment whose decline rate doubles while the aggregate moves little', () => {
    // prepare: contactless.low.known declines 2 → 30 of 1400 (+1,400 %) moves the aggregate by ~45 %,
    // so use a big segment: ecommerce declines 60 → 100 of 1500 while the aggregate moves 64 → 104
    const segments = {
      ...version(1).segments,
      'ecommerce.mid.known': { answers: 1500, reviews: 150, declines: 100 },
    };
    const config = judgeConfig({ decisions: { relativeTolerance: 1 } });
    // act
    const verdict = judgeCanary(input({ segments }), config);
    // assert
    expect(outcomeOf(verdict, 'decline-rate[all]')).toBe('pass');
    expect(outcomeOf(verdict, 'decline-rate[ecommerce.mid.known]')).toBe('fail');
    expect(verdict.outcome).toBe('fail');
    const test = verdict.tests.find((t) => t.test === 'decline-rate[ecommerce.mid.known]');
    expect(test?.adjustedPValue).toBeGreaterThanOrEqual(test?.pValue as number);
  });

  it('skips a segment too sparse to judge without blocking the verdict', () => {
    // act
    const verdict = judgeCanary(input(), DEFAULT_JUDGE_CONFIG);
    // assert: moto.high.new has 40 canary answers < 200
    expect(outcomeOf(verdict, 'decline-rate[moto.high.new]')).toBe('skipped');
    expect(verdict.outcome).toBe('pass');
  });

  it('is inconclusive, never pass, with too little traffic', () => {
    // prepare
    const tiny = version(1, {
      latencyMinutes: [40, 41],
      requestsPerMinute: [20, 20],
      requests: 40,
      errors: 0,
      segments: { 'ecommerce.mid.known': { answers: 40, reviews: 4, declines: 1 } },
      scoreCounts: [35, 3, 1, 1],
      featureCounts: { amount_log: [10, 25, 5] },
    });
    // act
    const verdict = judgeCanary({ ...input(), canary: tiny }, DEFAULT_JUDGE_CONFIG);
    // assert
    expect(verdict.outcome).toBe('inconclusive');
    for (const test of ['latency', 'errors', 'decline-rate[all]', 'score-shift', 'input-psi[amount_log]'])
      expect(outcomeOf(verdict, test)).toBe('inconclusive');
  });

  it('calls the comparison invalid when the inputs differ, even when another test fails', () => {
    // prepare
    const shifted = { amount_log: [100, 1800, 1040] };
    const slow = version(1).latencyMinutes.map((v) => v * 2);
    // act
    const verdict = judgeCanary(
      input({ featureCounts: shifted, latencyMinutes: slow }),
      DEFAULT_JUDGE_CONFIG,
    );
    // assert
    expect(outcomeOf(verdict, 'latency')).toBe('fail');
    expect(outcomeOf(verdict, 'input-psi[amount_log]')).toBe('inconclusive');
    expect(verdict.outcome).toBe('inconclusive');
    expect(verdict.because.join()).toContain('comparison invalid');
  });

  it('fails on a failed test when a feature merely has too few values (not an invalid comparison)', () => {
    // prepare: a slower canary whose top-feature histogram holds 898 values (< 1,000)
    const slow = version(1).latencyMinutes.map((v) => v * 2);
    const sparse = { amount_log: [300, 500, 98] };
    // act
    const verdict = judgeCanary(input({ featureCounts: sparse, latencyMinutes: slow }), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(outcomeOf(verdict, 'input-psi[amount_log]')).toBe('inconclusive');
    expect(outcomeOf(verdict, 'latency')).toBe('fail');
    expect(verdict.outcome).toBe('fail');
  });

  it('judges a new model against its own card and is inconclusive without one', () => {
    // prepare
    const card = { counts: [2600 * 50, 250 * 50, 70 * 50, 20 * 50] };
    const drifted = { modelVersion: '1.1.0', scoreCounts: [2300, 450, 150, 40] };
    // act
    const withCard = judgeCanary(input(drifted, { canaryCard: card }), DEFAULT_JUDGE_CONFIG);
    const calibrated = judgeCanary(
      input({ modelVersion: '1.1.0' }, { canaryCard: card }),
      DEFAULT_JUDGE_CONFIG,
    );
    const withoutCard = judgeCanary(input({ modelVersion: '1.1.0' }), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(withCard.change).toBe('model');
    expect(outcomeOf(withCard, 'score-shift-card')).toBe('fail');
    expect(outcomeOf(calibrated, 'score-shift-card')).toBe('pass');
    expect(calibrated.outcome).toBe('pass');
    expect(outcomeOf(withoutCard, 'score-shift-card')).toBe('inconclusive');
    expect(withoutCard.outcome).toBe('inconclusive');
  });

  it('fails a code change whose score histogram moved (PSI and shift)', () => {
    // act
    const verdict = judgeCanary(input({ scoreCounts: [1800, 700, 300, 140] }), DEFAULT_JUDGE_CONFIG);
    // assert
    expect(outcomeOf(verdict, 'score-psi')).toBe('fail');
    expect(outcomeOf(verdict, 'score-shift')).toBe('fail');
  });

  it('prints a table headed by the verdict', () => {
    // act
    const text = formatVerdict(judgeCanary(input({ errors: 40 }), DEFAULT_JUDGE_CONFIG));
    // assert
    expect(text.split('\n')[0]).toMatch(/^verdict FAIL: canary 42 \(model 1\.0\.0\) vs baseline 41/);
    expect(text).toContain('errors');
    expect(text).toContain('because: errors:');
  });
});

describe('judgeConfig', () => {
  it('merges overrides over frozen defaults', () => {
    // act
    const config = judgeConfig({ alpha: 0.005, latency: { relativeFloor: 0.2 } });
    // assert
    expect(config.alpha).toBe(0.005);
    expect(config.latency.relativeFloor).toBe(0.2);
    expect(config.latency.minMinutes).toBe(DEFAULT_JUDGE_CONFIG.latency.minMinutes);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.latency)).toBe(true);
  });

  it.each([
    [{ alpha: 0 }, /alpha/],
    [{ alpha: 0.9 }, /alpha/],
    [{ errors: { minRequests: -1 } }, /errors\.minRequests/],
    [{ scores: { psiFail: Number.NaN } }, /scores\.psiFail/],
  ])('refuses %p', (overrides, message) => {
    // act / assert
    expect(() => judgeConfig(overrides as never)).toThrow(message);
  });
});
