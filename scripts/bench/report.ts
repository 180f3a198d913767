/**
 * What `npm run bench` prints: one line per row, then the ratios the goals are stated
 * in, and the cold start.
 */
import type { Stats } from './measure';
import type { BenchResults, BenchRows } from './rows';

function printRow(label: string, s: Stats): void {
  process.stdout.write(
    `  ${label.padEnd(46)} p50 ${s.p50.toFixed(3).padStart(8)} ms   p99 ${s.p99.toFixed(3).padStart(8)} ms   mean ${s.mean.toFixed(3).padStart(8)} ms   CPU p50 ${s.cpuP50.toFixed(3).padStart(7)} ms\n`,
  );
}

/** The order rows are printed in (the inference rows together), not the order they run in. */
const PRINT_ORDER = [
  'get',
  'rawGet',
  'put',
  'putAfterRead',
  'putInPlace',
  'rawPut',
  'one',
  'inf',
  'infAfterRead',
  'plain',
  'stored',
  'memory',
  'observed',
  'getSdk',
  'plainSdk',
  'storedSdk',
  'signSdk',
  'sign',
] as const satisfies readonly (keyof BenchRows)[];

/** DynamoDB round trips one answer costs, counted on the wire. */
export interface RoundTrips {
  readonly plain: number;
  readonly first: number;
  readonly retry: number;
}

/** Prints every row, then the ratios: handler ÷ (BatchGetItem + inference), stored ÷ not stored, and where the rest goes. */
export function printResults(
  rows: BenchRows,
  results: BenchResults,
  trips: RoundTrips,
  stdout: { readonly writes: number; readonly bytes: number; readonly answers: number },
): void {
  for (const name of PRINT_ORDER) printRow(rows[name].label, results[name]);
  const {
    get,
    rawGet,
    put,
    putAfterRead,
    rawPut: rawPutStats,
    one,
    inf,
    plain: handlerStats,
    stored: idemStats,
    memory: memStats,
    observed: obsStats,
    infAfterRead,
    getSdk,
    plainSdk,
    storedSdk,
    signSdk,
    sign,
    putInPlace,
  } = results;

  const ms = (value: number) => `${value.toFixed(3)} ms`;
  const ratio = (h: Stats) => ({ p50: h.p50 / (get.p50 + inf.p50), p99: h.p99 / (get.p99 + inf.p99) });
  const r = ratio(handlerStats);
  const ri = ratio(idemStats);
  process.stdout.write(
    `\n  DynamoDB round trips per answer               ${trips.plain} without stored answers, ${trips.first} with (${trips.retry} for a retry)\n` +
      `  handler ÷ (BatchGetItem + inference)          p50 ${r.p50.toFixed(2)}   p99 ${r.p99.toFixed(2)}   (goal ≤ 1.1)\n` +
      `  same, with stored answers                     p50 ${ri.p50.toFixed(2)}   p99 ${ri.p99.toFixed(2)}\n` +
      `    overhead beyond the two                    p50 ${ms(handlerStats.p50 - get.p50 - inf.p50)}: the function's own code ${ms(memStats.p50 - inf.p50)} (store in memory − inference), the rest ${ms(handlerStats.p50 - get.p50 - memStats.p50)}\n` +
      `      of the rest, the inference right after the read's wait   ${ms(infAfterRead.p50 - inf.p50)} (the batch right after a BatchGetItem − the batch alone)\n` +
      `    same ratio with the inference as it runs after the read   p50 ${(handlerStats.p50 / (get.p50 + infAfterRead.p50)).toFixed(2)}\n` +
      `    in this process's CPU time (p50)            handler ÷ (BatchGetItem + inference) ${(handlerStats.cpuP50 / (get.cpuP50 + inf.cpuP50)).toFixed(2)}: ` +
      `own code ${ms(memStats.cpuP50 - inf.cpuP50)}, the rest ${ms(handlerStats.cpuP50 - get.cpuP50 - memStats.cpuP50)}, of it the cold inference ${ms(infAfterRead.cpuP50 - inf.cpuP50)}\n` +
      `  stored ÷ not stored                           p50 ${(idemStats.p50 / handlerStats.p50).toFixed(2)}   p99 ${(idemStats.p99 / handlerStats.p99).toFixed(2)}   (goal ≤ 1.5 at p50)\n` +
      `    stored − not stored                        p50 ${ms(idemStats.p50 - handlerStats.p50)}; the PutItem alone ${ms(put.p50)}, right after a read ${ms(putAfterRead.p50)}, dynalite alone ${ms(rawPutStats.p50)} (its BatchGetItem ${ms(rawGet.p50)})\n` +
      `    if storing cost one PutItem and nothing else  p50 ${((handlerStats.p50 + put.p50) / handlerStats.p50).toFixed(2)} (one right after a read: ${((handlerStats.p50 + putAfterRead.p50) / handlerStats.p50).toFixed(2)}); with the SDK costing nothing ${((handlerStats.p50 - get.p50 + rawGet.p50 + rawPutStats.p50) / (handlerStats.p50 - get.p50 + rawGet.p50)).toFixed(2)}\n` +
      `    same with the PutItem as the stored path sends it (after the read and the inference) p50 ${((handlerStats.p50 + putInPlace.p50) / handlerStats.p50).toFixed(2)}: ${ms(putInPlace.p50 - put.p50)} more than alone\n` +
      `  SDK client → signed HTTP (DYNAMODB_CLIENT)     BatchGetItem p50 ${ms(getSdk.p50)} → ${ms(get.p50)} (CPU ${ms(getSdk.cpuP50)} → ${ms(get.cpuP50)}); stored handler p50 ${ms(storedSdk.p50)} → ${ms(idemStats.p50)} (CPU ${ms(storedSdk.cpuP50)} → ${ms(idemStats.cpuP50)})\n` +
      `    stored ÷ not stored with the SDK client     p50 ${(storedSdk.p50 / plainSdk.p50).toFixed(2)}   p99 ${(storedSdk.p99 / plainSdk.p99).toFixed(2)}\n` +
      `  SigV4 per request, SDK signer → DynamoSigner  p50 ${ms(signSdk.p50)} → ${ms(sign.p50)} (CPU ${ms(signSdk.cpuP50)} → ${ms(sign.cpuP50)}), ${(signSdk.p50 / sign.p50).toFixed(1)}× less\n` +
      `  inference: 1 row vs handler batch            p50 ${one.p50.toFixed(3)} vs ${inf.p50.toFixed(3)} ms\n` +
      `  with production observability                 p50 ${ratio(obsStats).p50.toFixed(2)}   p99 ${ratio(obsStats).p99.toFixed(2)}   ` +
      `(${(stdout.writes / stdout.answers).toFixed(1)} stdout writes, ${Math.round(stdout.bytes / stdout.answers)} bytes per answer)\n`,
  );
}

/** Prints the cold start of the Lambda bundle (see `coldInit`). */
export function printColdInit(cold: Record<string, number>): void {
  process.stdout.write(
    `\n  cold init (fresh process, ESM bundle as deployed; median of 3):\n` +
      `    module load + config + ONNX session + warm-up   ${cold.initMs?.toFixed(1)} ms\n` +
      `    first score after init                          ${cold.firstScoreMs?.toFixed(1)} ms\n` +
      `    total                                           ${cold.totalMs?.toFixed(1)} ms\n`,
  );
}
