/**
 * mulberry32: a small, fast, seeded PRNG (32-bit state, period 2^32). Good enough for
 * reproducible samples, shuffles and simulations; not for anything secret. One copy for the
 * training tools, the simulators and the tests, so a seed means the same stream everywhere.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
