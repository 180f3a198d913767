/**
 * The comparison table: one row per concurrency, figures as a range when several rounds ran
 * (like the issue's table), and the throughput ratio this project ÷ peer.
 */
import { type CellResult, summarize } from './load';

const fmt = (values: number[], digits: number): string => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo.toFixed(digits) === hi.toFixed(digits)
    ? lo.toFixed(digits)
    : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`;
};

function figures(cells: readonly CellResult[]): string {
  const s = cells.map(summarize);
  const rps = fmt(
    s.map((x) => x.rps),
    0,
  );
  const latency = `${fmt(
    s.map((x) => x.p50),
    1,
  )} / ${fmt(
    s.map((x) => x.p99),
    1,
  )}`;
  // Bad answers are not in the throughput; say how many there were, right in the table.
  const count = (key: 'non200' | 'degraded' | 'failed') => cells.reduce((n, c) => n + c[key], 0);
  const bad = [
    [count('degraded'), 'degraded'],
    [count('non200'), 'non-200'],
    [count('failed'), 'unanswered'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, label]) => `${n} ${label}`);
  return `${rps} · ${latency}${bad.length > 0 ? ` (${bad.join(', ')})` : ''}`;
}

/** The markdown table; `ours` and `peer` name the two targets in `cells`. */
export function comparisonTable(
  cells: readonly CellResult[],
  ours: string,
  peer: string,
  peerLabel: string,
): string {
  const levels = [...new Set(cells.map((c) => c.concurrency))].sort((a, b) => a - b);
  const rows = levels.map((level) => {
    const mine = cells.filter((c) => c.concurrency === level && c.target === ours);
    const theirs = cells.filter((c) => c.concurrency === level && c.target === peer);
    // Ratios per round, pairing the cells of the same round in order.
    const ratios = mine
      .map((m, i) => {
        const t = theirs[i];
        return t ? summarize(m).rps / summarize(t).rps : Number.NaN;
      })
      .filter((r) => Number.isFinite(r));
    const ratio = ratios.length > 0 ? fmt(ratios, 2) : 'n/a';
    return `| ${level} | ${mine.length ? figures(mine) : 'n/a'} | ${theirs.length ? figures(theirs) : 'n/a'} | ${ratio} |`;
  });
  return [
    `| concurrency | this project (rps · p50/p99 ms) | ${peerLabel} (rps · p50/p99 ms) | throughput ratio |`,
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** Every cell in run order, with its error counts. */
export function cellsTable(cells: readonly CellResult[]): string {
  const rows = cells.map((c) => {
    const s = summarize(c);
    const answered = c.latencies.length;
    return `| ${c.target} | ${c.concurrency} | ${c.seconds.toFixed(1)} | ${answered} | ${s.rps.toFixed(1)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${c.non200} | ${c.degraded} | ${c.failed} |`;
  });
  return [
    '| target | concurrency | seconds | answers | good rps | p50 ms | p99 ms | non-200 | degraded | no answer |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
