/**
 * `npm run bench:metrics > /dev/null`: what one answer's metric recording costs, with and
 * without the judge signals (`SegmentDecision` + up to 5 `FeatureValue` lines), EMF written to
 * stdout for real (so the figure includes serialisation and the write). `npm run bench` runs
 * with metrics disabled and cannot see this cost. Figures go to stderr.
 *
 * On a shared, loaded machine the p99 of a ~50 µs step is the scheduler's (a preemption hits
 * ~1 % of iterations); read p50/p90 for the code's cost.
 *
 * Options: --iterations N (default 20000), --features K (default 5).
 */
import { parseArgs } from 'node:util';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { FEATURE_NAMES } from '#domain/features';
import type { ScoreOutcome } from '#domain/score';
import { CHANNELS } from '#domain/types';
import { EmfLineWriter } from '#shared/emf-lines';
import { type JudgeSignalContext, monitoredFeatures, recordScoreOutcome } from '../functions/score/metrics';

const { values } = parseArgs({
  options: { iterations: { type: 'string', default: '20000' }, features: { type: 'string', default: '5' } },
});
const iterations = Number(values.iterations);
const topFeatures = FEATURE_NAMES.slice(0, Number(values.features));
const dimensions = { functionVersion: '42', modelVersion: '1.0.0' };
const decisions = ['approve', 'review', 'decline'] as const;

function outcome(i: number): ScoreOutcome {
  return {
    response: {
      transactionId: `tx-${i}`,
      score: (i % 997) / 997,
      decision: decisions[i % 3] as 'approve',
      reasons: [],
      model: null,
      policyVersion: 'p1',
      degraded: [],
    },
    idempotency: 'off',
    shadows: [],
    timings: { featuresMs: 1.2, inferenceMs: 0.4, shadowMs: 0, idempotencyMs: 0, totalMs: 1.7 },
    signals: {
      cardFound: i % 2 === 0,
      merchantFound: true,
      staleItems: 0,
      cardAgeMs: 1000,
      decidedBy: 'threshold',
      errors: [],
      companions: [],
      vector: FEATURE_NAMES.map((_, k) => (i * (k + 1)) % 101),
    },
  } as ScoreOutcome;
}

function run(label: string, judge: (i: number) => JudgeSignalContext | undefined): void {
  const metrics = new Metrics({
    namespace: 'Bench',
    serviceName: 'score',
    defaultDimensions: { stage: 'bench' },
  });
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const result = outcome(i);
    const context = judge(i);
    const started = performance.now();
    metrics.addDimensions(dimensions);
    recordScoreOutcome(metrics, result, dimensions, context);
    metrics.publishStoredMetrics();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => (samples[Math.floor(q * samples.length)] as number) * 1000;
  const mean = (samples.reduce((a, b) => a + b, 0) / samples.length) * 1000;
  process.stderr.write(
    `${label.padEnd(42)} p50 ${at(0.5).toFixed(1)} µs  p90 ${at(0.9).toFixed(1)} µs  p99 ${at(0.99).toFixed(1)} µs  mean ${mean.toFixed(1)} µs\n`,
  );
}

const lines = new EmfLineWriter({
  namespace: 'Bench',
  defaultDimensions: { service: 'score', stage: 'bench' },
  disabled: false,
});
const features = monitoredFeatures({ monitoring: { topFeatures, featureHistograms: {} } });
const contextOf = (i: number): JudgeSignalContext => ({
  request: { channel: CHANNELS[i % CHANNELS.length] as 'ecommerce', amount: (i * 7919) % 100_000 },
  dimensions,
  features,
  lines,
});
process.stderr.write(`${iterations} answers each, EMF to stdout\n`);
// Warm both paths first so the JIT does not favour whichever runs second.
run('warm-up (answer metrics only)', () => undefined);
run('warm-up (with judge signals)', contextOf);
run('answer metrics only (before)', () => undefined);
run(`with judge signals, ${features.length} features (after)`, contextOf);
