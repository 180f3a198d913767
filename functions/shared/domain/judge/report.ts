/** The verdict as a plain-text table for logs and the command line. */
import type { Verdict } from './types';

const num = (value: number | undefined) =>
  value === undefined || Number.isNaN(value)
    ? '—'
    : Math.abs(value) >= 1000 || value === 0
      ? String(Math.round(value * 1000) / 1000)
      : value.toPrecision(4);

/** One row per test (skipped tests last), headed by the verdict. */
export function formatVerdict(verdict: Verdict): string {
  const head = `verdict ${verdict.outcome.toUpperCase()}: canary ${verdict.canary.functionVersion} (model ${verdict.canary.modelVersion}) vs baseline ${verdict.baseline.functionVersion} (model ${verdict.baseline.modelVersion}), ${verdict.change} change`;
  const rows = [...verdict.tests]
    .sort((a, b) => Number(a.outcome === 'skipped') - Number(b.outcome === 'skipped'))
    .map((t) =>
      [
        t.test.padEnd(44),
        t.outcome.padEnd(12),
        `${t.statistic.name}=${num(t.statistic.value)}`.padEnd(16),
        `p=${num(t.adjustedPValue ?? t.pValue)}`.padEnd(12),
        `n=${t.samples.baseline}/${t.samples.canary}`.padEnd(18),
        t.threshold.padEnd(52),
        t.reason,
      ].join(' '),
    );
  const because = verdict.because.length > 0 ? [`because: ${verdict.because.join('; ')}`] : [];
  return [head, ...because, ...rows].join('\n');
}
