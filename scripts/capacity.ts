/**
 * Capacity planner for the score function: provisioned concurrency from Little's law, the
 * autoscaling bounds, and what it costs per month at list prices.
 *
 *   npm run capacity -- --peak-rps 200 --p99-ms 50 --headroom 2 [--avg-rps 80] [--memory-mb 1024]
 *                       [--arch x86_64|arm64] [--region us-east-1] [--avg-ms 20] [--prices prices.json]
 *                       [--write infra/config/prod.capacity.json]
 *
 * Little's law: requests in flight = arrival rate × time in system. At `peak-rps` requests
 * per second that each take up to `p99-ms`, about peak × p99 environments are busy at once;
 * `headroom` (2–3×) covers bursts within a second, tail latency above p99 and the minutes
 * target tracking needs to react.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

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
const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

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
function ceilProduct(...factors: number[]): number {
  const product = factors.reduce((p, f) => p * f, 1);
  return Math.ceil(Number(product.toPrecision(12)));
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new CapacityInputError(message);
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

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

// --- prices ------------------------------------------------------------------------------

export interface LambdaArchPrices {
  /** Provisioned concurrency, per GB-second configured, whether used or not. */
  provisionedGbSecond: number;
  /** Duration of invocations served by provisioned environments, per GB-second. */
  provisionedDurationGbSecond: number;
  /** Duration without provisioned concurrency (spill-over), first tier, per GB-second. */
  onDemandDurationGbSecond: number;
}

export interface PriceTable {
  region: string;
  /** When these list prices were read from the public pricing pages. */
  asOf: string;
  sources: string[];
  lambda: Record<LambdaArch, LambdaArchPrices> & { requestsPerMillion: number };
  dynamodb: {
    /** On-demand, per million read request units (one eventually consistent read of ≤ 4 KB = 0.5 RRU). */
    readRequestUnitsPerMillion: number;
    /** On-demand, per million write request units (one write of ≤ 1 KB = 1 WRU). */
    writeRequestUnitsPerMillion: number;
  };
  /** REST API requests, tiered per month: price per million up to `upToMillions` cumulative requests. */
  apiGatewayRest: { upToMillions: number; perMillion: number }[];
}

/**
 * Public list prices, US East (N. Virginia), USD. Taken from the AWS pricing pages as of the
 * date below (DynamoDB on-demand after the November 2024 price cut); this script runs
 * offline and cannot refresh them — check the pages before budgeting, or pass `--prices`.
 */
export const PRICES_US_EAST_1: PriceTable = {
  region: 'us-east-1',
  asOf: '2025-01-15',
  sources: [
    'https://aws.amazon.com/lambda/pricing/',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    'https://aws.amazon.com/api-gateway/pricing/',
  ],
  lambda: {
    requestsPerMillion: 0.2,
    x86_64: {
      provisionedGbSecond: 0.0000041667,
      provisionedDurationGbSecond: 0.0000097222,
      onDemandDurationGbSecond: 0.0000166667,
    },
    // Graviton: 20 % below x86 on every duration-based price.
    arm64: {
      provisionedGbSecond: 0.0000033334,
      provisionedDurationGbSecond: 0.0000077778,
      onDemandDurationGbSecond: 0.0000133334,
    },
  },
  dynamodb: { readRequestUnitsPerMillion: 0.125, writeRequestUnitsPerMillion: 0.625 },
  apiGatewayRest: [
    { upToMillions: 333, perMillion: 3.5 },
    { upToMillions: 1_000, perMillion: 2.8 },
    { upToMillions: 20_000, perMillion: 2.38 },
    { upToMillions: Number.POSITIVE_INFINITY, perMillion: 1.51 },
  ],
};

/**
 * DynamoDB and API traffic per scoring request, from how the stack works today; override
 * in {@link estimateMonthlyCost} when the measured numbers differ.
 */
export interface Workload {
  /** Items per scoring BatchGetItem (card + merchant), read eventually consistent. */
  featureItemsPerScore: number;
  /** Size of a feature item as read (projected), KB; reads are charged per 4 KB. */
  featureItemKb: number;
  /** Powertools idempotency: a conditional PutItem (in progress) and an UpdateItem (completed), ≤ 1 KB each. */
  idempotencyWritesPerScore: number;
  /** Events posted per scored transaction (the authorization outcome; chargebacks are rare). */
  eventsPerScore: number;
  /** Items an event updates (card + merchant): one strongly consistent GetItem and one UpdateItem each. */
  itemsPerEvent: number;
  /** Size of a feature item as written, KB (including the event-id list); writes are charged per 1 KB. */
  eventItemKb: number;
  /** API Gateway requests per scored transaction: the score call plus the events call. */
  apiRequestsPerScore: number;
}

export const DEFAULT_WORKLOAD: Workload = {
  featureItemsPerScore: 2,
  featureItemKb: 4,
  idempotencyWritesPerScore: 2,
  eventsPerScore: 1,
  itemsPerEvent: 2,
  eventItemKb: 2,
  apiRequestsPerScore: 2,
};

export interface MonthlyCost {
  /** Provisioned concurrency level the estimate holds all month. */
  provisionedLevel: number;
  requestsPerMonth: number;
  /** USD per line; `total` is their sum. */
  lines: {
    lambdaProvisioned: number;
    lambdaDuration: number;
    lambdaRequests: number;
    apiGateway: number;
    dynamodbReads: number;
    dynamodbWrites: number;
  };
  total: number;
}

function tieredCost(millions: number, tiers: PriceTable['apiGatewayRest']): number {
  let cost = 0;
  let previous = 0;
  for (const tier of tiers) {
    // JSON has no Infinity: a price file writes the open-ended last tier as null.
    const cap = tier.upToMillions ?? Number.POSITIVE_INFINITY;
    const inTier = Math.min(millions, cap) - previous;
    if (inTier <= 0) break;
    cost += inTier * tier.perMillion;
    previous = cap;
  }
  return cost;
}

/**
 * Monthly cost of a plan at list prices: provisioned concurrency held at `provisionedLevel`
 * for 730 h (default: the peak PC, an upper bound; pass the plan's `min` for the floor),
 * invocations at the average rate and mean duration — all served by provisioned
 * environments, so no spill-over — plus the API Gateway and DynamoDB traffic they cause.
 * Not included: feature-updater Lambda, SQS, CloudWatch logs and metrics, X-Ray, storage,
 * data transfer, WAF, KMS and the GPU service.
 */
export function estimateMonthlyCost(
  plan: CapacityPlan,
  prices: PriceTable = PRICES_US_EAST_1,
  options: { provisionedLevel?: number; workload?: Partial<Workload> } = {},
): MonthlyCost {
  const w = { ...DEFAULT_WORKLOAD, ...options.workload };
  const { input } = plan;
  const level = options.provisionedLevel ?? plan.peakProvisionedConcurrency;
  const seconds = HOURS_PER_MONTH * 3600;
  const gb = input.memoryMb / 1024;
  const arch = prices.lambda[input.arch];
  const requests = input.avgRps * seconds;
  const millions = requests / 1e6;

  const readUnitsPerScore = w.featureItemsPerScore * 0.5 * Math.ceil(w.featureItemKb / 4);
  const readUnitsPerEvent = w.itemsPerEvent * Math.ceil(w.eventItemKb / 4);
  const writeUnitsPerScore =
    w.idempotencyWritesPerScore + w.eventsPerScore * w.itemsPerEvent * Math.ceil(w.eventItemKb);
  const readUnits = millions * (readUnitsPerScore + w.eventsPerScore * readUnitsPerEvent);

  const lines = {
    lambdaProvisioned: level * gb * seconds * arch.provisionedGbSecond,
    lambdaDuration: requests * (input.avgMs / 1000) * gb * arch.provisionedDurationGbSecond,
    lambdaRequests: millions * prices.lambda.requestsPerMillion,
    apiGateway: tieredCost(millions * w.apiRequestsPerScore, prices.apiGatewayRest),
    dynamodbReads: readUnits * prices.dynamodb.readRequestUnitsPerMillion,
    dynamodbWrites: millions * writeUnitsPerScore * prices.dynamodb.writeRequestUnitsPerMillion,
  };
  const total = Object.values(lines).reduce((sum, v) => sum + v, 0);
  return { provisionedLevel: level, requestsPerMonth: requests, lines, total };
}

// --- output --------------------------------------------------------------------------------

const usd = (v: number) =>
  `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The plan and both cost bounds as a plain-text table. */
export function formatPlan(plan: CapacityPlan, prices: PriceTable): string {
  const { input, provisionedConcurrency: pc } = plan;
  const floor = estimateMonthlyCost(plan, prices, { provisionedLevel: pc.min });
  const peak = estimateMonthlyCost(plan, prices, { provisionedLevel: plan.peakProvisionedConcurrency });
  const row = (label: string, a: string, b: string) =>
    `  ${label.padEnd(40)}${a.padStart(16)}${b.padStart(18)}`;
  const lineLabels: [keyof MonthlyCost['lines'], string][] = [
    ['lambdaProvisioned', 'Lambda provisioned concurrency'],
    ['lambdaDuration', 'Lambda duration (provisioned rate)'],
    ['lambdaRequests', 'Lambda requests'],
    ['apiGateway', 'API Gateway REST requests'],
    ['dynamodbReads', 'DynamoDB reads (features)'],
    ['dynamodbWrites', 'DynamoDB writes (events, idempotency)'],
  ];
  const p99s = input.p99Ms / 1000;
  return [
    `Capacity plan — score function, ${input.arch}, ${input.memoryMb} MB, ${input.region}`,
    `  traffic                  peak ${input.peakRps} rps, average ${input.avgRps} rps; p99 ${input.p99Ms} ms, mean ${input.avgMs} ms`,
    `  in flight (rps × p99)    peak ${plan.inFlight.peak.toFixed(2)}, average ${plan.inFlight.average.toFixed(2)}`,
    `  peak PC                  ${plan.peakProvisionedConcurrency} = ceil(${input.peakRps} × ${p99s} s × ${input.headroom})`,
    `  autoscaling              min ${pc.min}, max ${pc.max}, target utilization ${pc.utilizationTarget}`,
    `  scheduled scaling        raise min to ${plan.peakProvisionedConcurrency} before known peaks; back to ${pc.min} after`,
    '',
    `Monthly cost, USD (${prices.region} list prices as of ${prices.asOf}; ${HOURS_PER_MONTH} h; ${(floor.requestsPerMonth / 1e6).toFixed(1)} M scores)`,
    row('', `PC at min (${pc.min})`, `PC at peak (${plan.peakProvisionedConcurrency})`),
    ...lineLabels.map(([key, label]) => row(label, usd(floor.lines[key]), usd(peak.lines[key]))),
    row('total', usd(floor.total), usd(peak.total)),
    '  not included: feature-updater Lambda, SQS, CloudWatch, X-Ray, storage, data transfer, WAF, KMS, GPU service',
    ...plan.warnings.map((w) => `  note: ${w}`),
  ].join('\n');
}

/** The JSON a stage config imports (`infra/config/<stage>.capacity.json`). */
export function capacityConfigJson(plan: CapacityPlan, now: Date = new Date()) {
  return {
    provisionedConcurrency: plan.provisionedConcurrency,
    /** For a scheduled action that raises `min` before known peaks. */
    peakProvisionedConcurrency: plan.peakProvisionedConcurrency,
    sourcedFrom: { ...plan.input, tool: 'npm run capacity' },
    generatedAt: now.toISOString(),
  };
}

// --- CLI -----------------------------------------------------------------------------------

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run capacity -- --peak-rps N --p99-ms M --headroom H [--avg-rps N] [--avg-ms M]\n` +
      '         [--memory-mb 1024] [--arch x86_64|arm64] [--region us-east-1] [--prices FILE] [--write FILE]\n',
  );
  process.exit(2);
}

function numberFlag(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value)) usage(`--${name} must be a number, got "${String(raw)}"`);
  return value;
}

function main(): void {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        'peak-rps': { type: 'string' },
        'p99-ms': { type: 'string' },
        headroom: { type: 'string' },
        'avg-rps': { type: 'string' },
        'avg-ms': { type: 'string' },
        'memory-mb': { type: 'string' },
        arch: { type: 'string' },
        region: { type: 'string' },
        prices: { type: 'string' },
        write: { type: 'string' },
      },
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  for (const required of ['peak-rps', 'p99-ms', 'headroom']) {
    if (values[required] === undefined) usage(`--${required} is required`);
  }
  let plan: CapacityPlan;
  try {
    plan = planCapacity({
      peakRps: numberFlag(values, 'peak-rps') as number,
      p99Ms: numberFlag(values, 'p99-ms') as number,
      headroom: numberFlag(values, 'headroom') as number,
      avgRps: numberFlag(values, 'avg-rps'),
      avgMs: numberFlag(values, 'avg-ms'),
      memoryMb: numberFlag(values, 'memory-mb'),
      arch: values.arch as LambdaArch | undefined,
      region: values.region,
    });
  } catch (error) {
    if (error instanceof CapacityInputError) usage(error.message);
    throw error;
  }
  let prices = PRICES_US_EAST_1;
  if (values.prices) {
    prices = JSON.parse(readFileSync(values.prices, 'utf8')) as PriceTable;
  } else if (plan.input.region !== PRICES_US_EAST_1.region) {
    plan.warnings.push(
      `no price table for ${plan.input.region}: showing us-east-1 prices (pass --prices FILE)`,
    );
  }
  process.stdout.write(`${formatPlan(plan, prices)}\n`);
  if (values.write) {
    mkdirSync(dirname(values.write), { recursive: true });
    writeFileSync(values.write, `${JSON.stringify(capacityConfigJson(plan), null, 2)}\n`);
    process.stdout.write(`\nwrote ${values.write}\n`);
  }
}

if (require.main === module) main();
