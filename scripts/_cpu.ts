import { readFileSync } from 'node:fs';
import { startLocalStack } from './local/app';
import { runCell, summarize } from './bench-peer/load';
const ticks = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return Number(f[11]) + Number(f[12]); };
(async () => {
  const stack = await startLocalStack({ workers: Number(process.env.W ?? 2) });
  const pids: Record<string, number> = { dynalite: stack.pids.dynamo!, updater: stack.pids.updater, self: process.pid };
  stack.pids.workers.forEach((p, i) => { pids[`worker${i}`] = p; });
  const body = (i: number) => JSON.stringify({ transactionId: `t-${Date.now()}-${i}`, cardId: `card_${i % 50}`, merchantId: `m_${i % 10}`, mcc: '5411', amount: 1000 + i, currency: 'EUR', country: 'DE', channel: 'ecommerce', timestamp: new Date().toISOString() });
  await runCell({ target: 'x', url: stack.url, concurrency: 4, durationMs: 2000, body });
  const c = Number(process.env.C ?? 16);
  const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, ticks(p)]));
  const cell = await runCell({ target: 'x', url: stack.url, concurrency: c, durationMs: 8000, body });
  const s = summarize(cell);
  const n = cell.latencies.length;
  console.log(`c=${c} rps ${s.rps.toFixed(0)} p50 ${s.p50.toFixed(1)} p99 ${s.p99.toFixed(1)} non200 ${cell.non200} degraded ${cell.degraded}`);
  for (const [k, p] of Object.entries(pids)) console.log(k.padEnd(10), `${(((ticks(p) - before[k]!) * 10) / n).toFixed(3)} ms CPU/request`);
  await stack.close();
})();
