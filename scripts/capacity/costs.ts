/**
 * What a capacity plan costs per month at list prices: the price table (us-east-1, built in;
 * another region's from a file) and the cost lines.
 */
import { type CapacityPlan, HOURS_PER_MONTH, type LambdaArch } from './planner';

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

export function tieredCost(millions: number, tiers: PriceTable['apiGatewayRest']): number {
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
