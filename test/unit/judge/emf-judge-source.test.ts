/**
 * The judge's local series source (`#adapters/emf-judge-source`): lines as the score function
 * writes them (the real `EmfLineWriter`, Powertools-shaped documents) become the judge's input
 * with CloudWatch's per-minute aggregation, and the judge decides on it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmfJudgeSource, type JudgeModelCard, SHADOW_SEGMENT_DECISION } from '#adapters/emf-judge-source';
import { judgeConfig } from '#domain/judge/config';
import { judgeCanary } from '#domain/judge/judge';
import { histogramOf } from '#domain/stats/histogram';
import { EmfLineWriter } from '#shared/emf-lines';

// In the past: a file last written before the window starts is not read.
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const MINUTE = 60_000;
const CARD = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'models', 'fraud-gbdt', '1.0.0', 'model.json'), 'utf8'),
) as JudgeModelCard;
const BASELINE = { functionVersion: '1', modelVersion: '1.0.0' };
const CANARY = { functionVersion: '2', modelVersion: '1.0.0' };
const WINDOW = { start: new Date(T0), end: new Date(T0 + 10 * MINUTE) };

/** Collects what the score function would print, per version, through the real line writer. */
class Lines {
  readonly text: string[] = [];
  #now = T0;
  readonly #writer = new EmfLineWriter({
    namespace: 'FraudScoring',
    defaultDimensions: { service: 'score', stage: 'local' },
    disabled: false,
    write: (text) => this.text.push(text),
    now: () => this.#now,
  });

  /** One answer: the Powertools document and the judge signals. */
  answer(
    at: number,
    version: typeof BASELINE,
    a: {
      latency: number;
      score: number;
      decision: 0 | 1 | 2;
      segment: string;
      error?: boolean;
      amountRatio?: number;
    },
  ): void {
    this.#now = at;
    const metrics = a.error ? ['Requests', 'Errors'] : ['Requests', 'Errors', 'LatencyTotal', 'Score'];
    this.text.push(
      `${JSON.stringify({
        _aws: {
          Timestamp: at,
          CloudWatchMetrics: [
            {
              Namespace: 'FraudScoring',
              Dimensions: [['service', 'stage', 'functionVersion', 'modelVersion']],
              Metrics: metrics.map((Name) => ({ Name, Unit: 'None' })),
            },
          ],
        },
        service: 'score',
        stage: 'local',
        ...version,
        Requests: 1,
        Errors: a.error ? 1 : 0,
        ...(a.error ? {} : { LatencyTotal: a.latency, Score: a.score }),
      })}\n`,
    );
    if (a.error) return;
    this.#writer.add({ ...version, segment: a.segment }, 'SegmentDecision', 'None', a.decision);
    this.#writer.add(
      { ...version, feature: 'card_amount_ratio' },
      'FeatureValue',
      'None',
      a.amountRatio ?? 1,
    );
    this.#writer.flush();
  }

  /** A paired live/shadow decision of the baseline. */
  pair(at: number, segment: string, live: number, shadow: number, shadowVersion = '1.1.0'): void {
    this.#now = at;
    this.#writer.add(
      { ...BASELINE, shadowModel: 'fraud-gbdt', shadowVersion, segment },
      SHADOW_SEGMENT_DECISION,
      'None',
      3 * live + shadow,
    );
    this.#writer.flush();
  }
}

function withFiles(lines: Lines, run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'emf-judge-'));
  writeFileSync(join(dir, 'worker-1.jsonl'), lines.text.join(''));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const source = (dir: string, stage = 'local') => new EmfJudgeSource({ metricsDir: dir, stage, card: CARD });

describe('EmfJudgeSource', () => {
  it('aggregates per minute as CloudWatch would: p99 latency, request and error sums, decisions per segment, score and feature bins', async () => {
    // prepare
    const lines = new Lines();
    const scores: number[] = [];
    for (let minute = 0; minute < 3; minute++) {
      for (let i = 0; i < 100; i++) {
        // Off every card edge (multiples of 0.0005 and 0.005), so either bin convention agrees.
        const score = ((i * 37) % 100) / 100 + 0.0042;
        scores.push(score);
        lines.answer(T0 + minute * MINUTE + i * 10, BASELINE, {
          latency: i + 1 + minute * 100,
          score,
          decision: i < 5 ? 2 : i < 15 ? 1 : 0,
          segment: i % 2 === 0 ? 'ecommerce.low.known' : 'card_present.mid.new',
          amountRatio: i % 10,
        });
      }
      lines.answer(T0 + minute * MINUTE + 5_000, BASELINE, {
        latency: 0,
        score: 0,
        decision: 0,
        segment: '',
        error: true,
      });
    }
    // Other series that must not be counted: the canary, another stage.
    lines.answer(T0, CANARY, { latency: 5, score: 0.5, decision: 2, segment: 'moto.high.new' });

    await withFiles(lines, async (dir) => {
      // act
      const input = await source(dir).read(WINDOW, '1', '2');
      const otherStage = await source(dir, 'prod').read(WINDOW, '1', '2');

      // assert
      const b = input.baseline;
      expect(b.latencyMinutes).toEqual([99, 199, 299]);
      // The answers behind each p99 (the failed requests have no latency).
      expect(b.requestsPerMinute).toEqual([100, 100, 100]);
      expect({ requests: b.requests, errors: b.errors }).toEqual({ requests: 303, errors: 3 });
      expect(b.segments).toEqual({
        'ecommerce.low.known': { answers: 150, reviews: 15, declines: 9 },
        'card_present.mid.new': { answers: 150, reviews: 15, declines: 6 },
      });
      expect(b.scoreCounts).toHaveLength(CARD.scoreHistogram.edges.length - 1);
      expect(b.scoreCounts.reduce((x, y) => x + y, 0)).toBe(300);
      const edges = CARD.monitoring?.featureHistograms.card_amount_ratio?.edges as number[];
      expect(b.featureCounts.card_amount_ratio?.reduce((x, y) => x + y, 0)).toBe(300);
      expect(input.featureEdges.card_amount_ratio).toEqual(edges);
      expect(input.canary).toMatchObject({
        requests: 1,
        errors: 0,
        segments: { 'moto.high.new': { declines: 1 } },
      });
      // Same model on both sides: no card reference (that is for a canary serving a new model).
      expect(input.canaryCard).toBeUndefined();
      expect(input.paired).toBeUndefined();
      expect(otherStage.baseline.requests).toBe(0);
      expect(b.scoreCounts).toEqual(histogramOf(scores, CARD.scoreHistogram.edges).counts);
    });
  });

  it('fills the paired decisions of the baseline, preferring the shadow that is the canary model', async () => {
    // prepare
    const lines = new Lines();
    const canary = { functionVersion: '2', modelVersion: '1.1.0' };
    lines.answer(T0, BASELINE, { latency: 1, score: 0.1, decision: 0, segment: 'ecommerce.low.known' });
    lines.answer(T0, canary, { latency: 1, score: 0.1, decision: 0, segment: 'ecommerce.low.known' });
    lines.pair(T0, 'ecommerce.low.known', 0, 0);
    lines.pair(T0 + 1, 'ecommerce.low.known', 0, 2);
    lines.pair(T0 + 2, 'ecommerce.low.known', 0, 2);
    lines.pair(T0 + MINUTE, 'moto.high.new', 2, 1);
    for (let i = 0; i < 5; i++) lines.pair(T0, 'moto.high.new', 1, 1, '0.9.0');

    await withFiles(lines, async (dir) => {
      // act
      const input = await source(dir).read(WINDOW, '1', '2');

      // assert
      expect(input.paired).toEqual({
        shadow: { model: 'fraud-gbdt', version: '1.1.0' },
        segments: {
          'ecommerce.low.known': [1, 0, 2, 0, 0, 0, 0, 0, 0],
          'moto.high.new': [0, 0, 0, 0, 0, 0, 0, 1, 0],
        },
      });
    });
  });

  it('feeds the judge: a canary declining more in one segment fails on that segment', async () => {
    // prepare
    const lines = new Lines();
    for (let i = 0; i < 3000; i++) {
      const minute = Math.floor(i / 500);
      const segment = i % 3 === 0 ? 'ecommerce.mid.known' : 'card_present.low.known';
      for (const version of [BASELINE, CANARY]) {
        const strict = version === CANARY && segment === 'ecommerce.mid.known';
        const decision = i % 20 === 0 || (strict && i % 5 === 0) ? 2 : i % 10 === 1 ? 1 : 0;
        lines.answer(T0 + minute * MINUTE + (i % 500), version, {
          latency: 20 + (i % 7),
          score: (i % 97) / 100,
          decision,
          segment,
          amountRatio: i % 10,
        });
      }
    }
    const config = judgeConfig({ latency: { minMinutes: 5 } });

    await withFiles(lines, async (dir) => {
      // act
      const verdict = judgeCanary(await source(dir).read(WINDOW, '1', '2'), config);

      // assert
      const failed = verdict.tests.filter((t) => t.outcome === 'fail').map((t) => t.test);
      expect(verdict.outcome).toBe('fail');
      expect(failed).toContain('decline-rate[ecommerce.mid.known]');
      expect(failed.every((t) => t.startsWith('decline-rate['))).toBe(true);
      expect(verdict.tests.find((t) => t.test === 'latency')?.outcome).toBe('pass');
    });
  });

  it('is inconclusive, never pass, when the files hold nothing for the window', async () => {
    // prepare
    const lines = new Lines();
    lines.answer(T0 - 2 * MINUTE, BASELINE, { latency: 1, score: 0.1, decision: 0, segment: 'moto.low.new' });

    await withFiles(lines, async (dir) => {
      // act
      const verdict = judgeCanary(await source(dir).read(WINDOW, '1', '2'), judgeConfig());

      // assert
      expect(verdict.outcome).toBe('inconclusive');
    });
  });
});
