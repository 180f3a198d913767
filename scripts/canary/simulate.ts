/**
 * `npm run canary:simulate`: runs the real canary judge over simulated canary windows at
 * prod's canary traffic (the stage's canary percentage of the planned peak, for the stage's
 * canary interval) and prints, per scenario, how often it passed, failed or was inconclusive.
 *
 * The paired rows add a shadow phase: the baseline serves all traffic at the planned peak and
 * scores it with the candidate as a shadow, for the canary window and for a longer phase.
 *
 *   npm run canary:simulate -- [--seeds 200] [--minutes M] [--peak-rps R] [--percent P]
 *     [--shadow-rps R (default: peak)] [--shadow-minutes M (default: the canary window)]
 *     [--long-shadow-minutes M,M (default 60,90)] [--only TEXT (scenarios whose name contains it)]
 */
import { parseArgs } from 'node:util';
import { judgeConfig } from '#domain/judge/config';
import prodCapacity from '../../infra/config/prod.capacity.json';
import { prod } from '../../infra/config/stages';
import { acceptanceScenarios, runScenario } from './scenarios';
import { prepareTraffic } from './simulation';

const strategy = prod.deployment.strategy;
const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '200' },
    minutes: { type: 'string' },
    'peak-rps': { type: 'string' },
    percent: { type: 'string' },
    'shadow-rps': { type: 'string' },
    'shadow-minutes': { type: 'string' },
    'long-shadow-minutes': { type: 'string' },
    only: { type: 'string' },
  },
});
const seeds = Number(values.seeds);
const minutes = Number(values.minutes ?? ('intervalMinutes' in strategy ? strategy.intervalMinutes : 10));
const peakRps = Number(values['peak-rps'] ?? prodCapacity.sourcedFrom.peakRps);
const canaryPercent = Number(values.percent ?? ('percentage' in strategy ? strategy.percentage : 10));
const shadowRps = Number(values['shadow-rps'] ?? peakRps);
const shadowMinutes = Number(values['shadow-minutes'] ?? minutes);
const longShadowMinutes = (values['long-shadow-minutes'] ?? '60,90').split(',').map(Number);

const started = Date.now();
const traffic = prepareTraffic();
const config = judgeConfig();
console.log(
  `canary judge simulation: ${seeds} seeds per scenario; canary ${canaryPercent} % of ${peakRps} rps peak (${((peakRps * canaryPercent) / 100).toFixed(1)} rps) for ${minutes} min`,
);
let allMet = true;
console.log(
  `paired rows: shadow phase at ${shadowRps} rps (all traffic) for ${shadowMinutes} min, and for ${longShadowMinutes.join(' / ')} min`,
);
console.log(
  `${'scenario'.padEnd(62)} ${'pass'.padStart(6)} ${'fail'.padStart(6)} ${'inconcl.'.padStart(8)}  ${'goal'.padEnd(30)} result`,
);
const scenarios = acceptanceScenarios(traffic, {
  peakRps,
  canaryPercent,
  minutes,
  shadowRps,
  shadowMinutes,
  longShadowMinutes,
}).filter((s) => !values.only || s.name.includes(values.only));
for (const scenario of scenarios) {
  const r = runScenario(traffic, scenario, seeds, config);
  allMet &&= r.met;
  const share = (k: number) => `${((k / r.runs) * 100).toFixed(1)}%`.padStart(6);
  const top = [...r.failingTests]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2)
    .map(([t, k]) => `${t}×${k}`)
    .join(', ');
  console.log(
    `${scenario.name.padEnd(62)} ${share(r.pass)} ${share(r.fail)} ${share(r.inconclusive).padStart(8)}  ${scenario.goal.padEnd(30)} ${(r.rate * 100).toFixed(1)} % ${r.met ? 'met' : 'NOT MET'}${top ? `   [${top}]` : ''}`,
  );
}
console.log(
  `${allMet ? 'all goals met' : 'some goals NOT met'} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.exitCode = allMet ? 0 : 1;
