/**
 * Measures the PAN detector (`functions/shared/domain/pan.ts`) at the sizes issue 8 asks for:
 * false positives on 1,000,000 random ids per id type, detection of every network's published
 * test card numbers in every grouping (values and keys), and the unavoidable collision rate on
 * purely numeric 13–19 digit ids. Prints one line per figure; exits 1 if a real id type is
 * ever rejected or a test card number is ever missed.
 *
 *   npm run pan:measure                 # 1,000,000 per id type
 *   npm run pan:measure -- 100000       # fewer
 */
import fc from 'fast-check';
import { containsPan, findPan } from '#domain/pan';
import {
  ALL_TEST_CARDS,
  anyGrouping,
  ID_TYPES,
  inContext,
  numericId,
  printedForms,
} from '../test/support/pan-arbitraries';

const perType = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.env.PAN_SEED ?? 8);
let failed = false;

/** Runs `check` on `runs` values of `arbitrary` through fast-check; returns hits and seconds. */
function count<T>(arbitrary: fc.Arbitrary<T>, runs: number, check: (value: T) => boolean) {
  let hits = 0;
  const started = performance.now();
  fc.assert(
    fc.property(arbitrary, (value) => {
      if (check(value)) hits += 1;
    }),
    { numRuns: runs, seed },
  );
  return { hits, seconds: (performance.now() - started) / 1000 };
}

for (const [type, arbitrary] of Object.entries(ID_TYPES)) {
  const { hits, seconds } = count(arbitrary as fc.Arbitrary<string>, perType, (id) => containsPan(id));
  console.log(`false positives  ${type.padEnd(8)} ${hits} of ${perType} (${seconds.toFixed(1)} s)`);
  if (hits > 0) failed = true;
}

// Every printed grouping of every published test number, alone and in sentences, as a value and as a key.
let forms = 0;
let missed = 0;
const started = performance.now();
for (const pan of ALL_TEST_CARDS) {
  for (const written of printedForms(pan)) {
    for (const text of [written, `card ${written} exp 12/27`, `pan=${written};`, `(${written})`]) {
      forms += 1;
      if (findPan({ note: text }) !== 'note' || findPan({ [text]: 1 }) === undefined) missed += 1;
    }
  }
}
const printedSeconds = (performance.now() - started) / 1000;
console.log(
  `detection        printed groupings ${forms - missed} of ${forms} (${ALL_TEST_CARDS.length} test numbers, values and keys, ${printedSeconds.toFixed(1)} s)`,
);
const anyForm = count(anyGrouping.chain(inContext), perType / 10, (text) => {
  return findPan({ note: text }) === 'note' && findPan({ [text]: 1 }) !== undefined;
});
console.log(
  `detection        random groupings  ${anyForm.hits} of ${perType / 10} (values and keys, ${anyForm.seconds.toFixed(1)} s)`,
);
if (missed > 0 || anyForm.hits !== perType / 10) failed = true;

const byLength = new Map<number, { ids: number; hits: number }>();
const numeric = count(numericId, perType, (id) => {
  const hit = containsPan(id);
  const entry = byLength.get(id.length) ?? { ids: 0, hits: 0 };
  byLength.set(id.length, { ids: entry.ids + 1, hits: entry.hits + (hit ? 1 : 0) });
  return hit;
});
const rate = (hits: number, ids: number) => `${((100 * hits) / ids).toFixed(2)} %`;
console.log(
  `numeric ids      ${numeric.hits} of ${perType} rejected = ${rate(numeric.hits, perType)} (unavoidable; ${numeric.seconds.toFixed(1)} s)`,
);
for (const [length, { ids, hits }] of [...byLength].sort(([a], [b]) => a - b)) {
  console.log(`  ${length} digits: ${rate(hits, ids)} of ${ids}`);
}
process.exit(failed ? 1 : 0);
