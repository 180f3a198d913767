/**
 * The planner's arithmetic: provisioned concurrency from Little's law, autoscaling bounds and
 * the account-concurrency check. Pure functions; the CLI is `scripts/capacity.ts`.
 */

export type LambdaArch = 'x86_64' | 'arm64';

/** Hours in the month the estimate uses (AWS's own calculators use 730). */
export const HOURS_PER_MONTH = 730;

/**
 * Target tracking setpoint on `ProvisionedConcurrencyUtilization`. 0.7 scales out while 30 %
 * of the environments are still idle, which absorbs the minutes the scaling alarm needs.
 */
export const UTILIZATION_TARGET = 0.7;

/**
 * `max = ceil(peak PC × MAX_OVER_PEAK)`. Target tracking may add capacity above the planned
 * peak for a surge nobody planned for (at the 0.7 target that covers ≈ 2× the planned peak
 * with headroom 2), but a runaway — a retry storm, a load test against prod — stops at a
 * bounded bill; beyond it, requests spill over to on-demand environments and still succeed.
 */
export const MAX_OVER_PEAK = 1.5;

/** Lambda keeps 100 of the account's (default 1000) concurrency unreserved. */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

/** The input was out of range; the message names the flag. */
export class CapacityInputError extends Error {
  override readonly name = 'CapacityInputError';
}

export interface CapacityInput {
  /** Highest sustained requests per second to plan for. */
  peakRps: number;
  /** p99 duration of the score function in milliseconds (the `Duration` metric, not client latency). */
  p99Ms: number;
  /** Multiplier over the Little's-law concurrency (2–3 typical). */
  headroom: number;
  /** Average (or off-peak) requests per second; sets the autoscaling floor and the cost. @default peakRps */
  avgRps?: number;
  /** Mean duration in ms, for the duration charge. @default p99Ms (an upper bound) */
  avgMs?: number;
  /** @default 1024 */
  memoryMb?: number;
  /** @default 'x86_64' (arm64 only with an onnxruntime verified on arm64 Lambda; see ARCHITECTURE.md) */
  arch?: LambdaArch;
  /** @default 'us-east-1' */
  region?: string;
}

export interface CapacityPlan {
  input: Required<CapacityInput>;
  /** Requests in flight at peak and on average: rps × p99 seconds (Little's law). */
  inFlight: { peak: number; average: number };
  /** Provisioned concurrency the peak needs: ceil(peak rps × p99 s × headroom). */
  peakProvisionedConcurrency: number;
  /** What goes into the stage config's autoscaling settings. */
  provisionedConcurrency: { min: number; max: number; utilizationTarget: number };
  warnings: string[];
}

/** Multiplies without floating-point dust (200 × 0.07 × 3 must be 42, not 42.000000000000004) and rounds up. */
export function ceilProduct(...factors: number[]): number {
  const product = factors.reduce((p, f) => p * f, 1);
  return Math.ceil(Number(product.toPrecision(12)));
}

export function check(condition: boolean, message: string): void {
  if (!condition) throw new CapacityInputError(message);
}

export const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Provisioned concurrency and autoscaling bounds for one function.
 *
 * - peak PC = ceil(peakRps × p99 s × headroom)
 * - min = ceil(avgRps × p99 s × headroom), at least 1: kept warm at all times
 * - max = ceil(peak PC × 1.5) (see {@link MAX_OVER_PEAK})
 *
 * Target tracking alone settles at in-flight ÷ 0.7 ≈ 1.43× the load, less than a headroom
 * of 2–3; a scheduled action that raises `min` to the peak PC before known peaks gives the
 * full headroom when it matters.
 *
 * @throws CapacityInputError for a non-positive rate or duration, headroom below 1, an
 *   average above the peak, memory outside 128–10240 MB or an unknown arch
 */
export function planCapacity(input: CapacityInput): CapacityPlan {
  const full: Required<CapacityInput> = {
    peakRps: input.peakRps,
    p99Ms: input.p99Ms,
    headroom: input.headroom,
    avgRps: input.avgRps ?? input.peakRps,
    avgMs: input.avgMs ?? input.p99Ms,
    memoryMb: input.memoryMb ?? 1024,
    arch: input.arch ?? 'x86_64',
    region: input.region ?? 'us-east-1',
  };
  check(
    finite(full.peakRps) && full.peakRps > 0,
    `--peak-rps must be a positive number, got ${input.peakRps}`,
  );
  check(
    finite(full.p99Ms) && full.p99Ms > 0 && full.p99Ms <= 900_000,
    `--p99-ms must be > 0 and ≤ 900000 (Lambda's 15-minute limit), got ${input.p99Ms}`,
  );
  check(
    finite(full.headroom) && full.headroom >= 1 && full.headroom <= 10,
    `--headroom must be between 1 and 10 (2–3 is typical), got ${input.headroom}`,
  );
  check(
    finite(full.avgRps) && full.avgRps >= 0 && full.avgRps <= full.peakRps,
    `--avg-rps must be between 0 and --peak-rps (${full.peakRps}), got ${input.avgRps}`,
  );
  check(
    finite(full.avgMs) && full.avgMs > 0 && full.avgMs <= full.p99Ms,
    `--avg-ms must be > 0 and ≤ --p99-ms (${full.p99Ms}), got ${input.avgMs}`,
  );
  check(
    Number.isInteger(full.memoryMb) && full.memoryMb >= 128 && full.memoryMb <= 10_240,
    `--memory-mb must be an integer from 128 to 10240, got ${input.memoryMb}`,
  );
  check(full.arch === 'x86_64' || full.arch === 'arm64', `--arch must be x86_64 or arm64, got ${input.arch}`);
  check(
    /^[a-z]{2}(-[a-z]+)+-\d$/.test(full.region),
    `--region must look like us-east-1, got ${input.region}`,
  );

  const p99Seconds = full.p99Ms / 1000;
  const peakProvisionedConcurrency = ceilProduct(full.peakRps, p99Seconds, full.headroom);
  const min = Math.max(1, ceilProduct(full.avgRps, p99Seconds, full.headroom));
  const max = Math.max(peakProvisionedConcurrency, ceilProduct(peakProvisionedConcurrency, MAX_OVER_PEAK));
  const warnings: string[] = [];
  if (full.headroom < 2 || full.headroom > 3)
    warnings.push(`headroom ${full.headroom} is outside the usual 2–3`);
  if (input.avgRps === undefined)
    warnings.push('no --avg-rps: assuming peak traffic all month (floor = peak, cost is an upper bound)');
  if (input.avgMs === undefined) warnings.push('no --avg-ms: duration charged at p99 (an upper bound)');
  if (max > DEFAULT_ACCOUNT_CONCURRENCY - 100)
    warnings.push(
      `max ${max} exceeds the default account concurrency (1000, 100 unreservable): request a quota increase`,
    );
  return {
    input: full,
    inFlight: { peak: full.peakRps * p99Seconds, average: full.avgRps * p99Seconds },
    peakProvisionedConcurrency,
    provisionedConcurrency: { min, max, utilizationTarget: UTILIZATION_TARGET },
    warnings,
  };
}
