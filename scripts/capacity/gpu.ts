/**
 * The GPU neural service's part of the capacity plan: Triton tasks (one GPU each) from the
 * measured per-GPU throughput, the instances behind them, the target-tracking setting for the
 * stage config, and the monthly cost of instances, ALB and network egress at list prices.
 * Pure functions; the CLI is `scripts/capacity.ts` (`--gpu-rps …`).
 */
import { CapacityInputError, check, finite, HOURS_PER_MONTH } from './planner';

/**
 * On-demand Linux prices, US East (N. Virginia), USD per hour, one GPU per instance. Read from
 * the EC2 on-demand pricing page; this script is offline and cannot refresh them — check the
 * page (and your region) before budgeting, or pass `--prices` with a `gpu` block.
 */
export const GPU_PRICES_US_EAST_1 = {
  asOf: '2025-01-15',
  sources: [
    'https://aws.amazon.com/ec2/pricing/on-demand/',
    'https://aws.amazon.com/elasticloadbalancing/pricing/',
    'https://aws.amazon.com/privatelink/pricing/',
    'https://aws.amazon.com/vpc/pricing/',
    'https://aws.amazon.com/ebs/pricing/',
  ],
  instanceHourly: {
    'g4dn.xlarge': 0.526,
    'g5.xlarge': 1.006,
    'g5.2xlarge': 1.212,
    'g6.xlarge': 0.8048,
    'g6.2xlarge': 0.9776,
    'g6e.xlarge': 1.861,
  } as Record<string, number>,
  /** Application Load Balancer: per hour, and per LCU-hour. */
  albHourly: 0.0225,
  albLcuHourly: 0.008,
  /** Interface endpoint: per endpoint per AZ per hour, and per GB processed. */
  endpointHourly: 0.01,
  endpointPerGb: 0.01,
  /** NAT gateway: per gateway per hour, and per GB processed. */
  natHourly: 0.045,
  natPerGb: 0.045,
  /** gp3 storage per GB-month (the 100 GB root volume of each instance). */
  ebsGp3GbMonth: 0.08,
} as const;
export type GpuPriceTable = typeof GPU_PRICES_US_EAST_1;

/** Interface endpoints the network stack creates with `egress: 'endpoints'` (infra/constructs/network.ts). */
export const INTERFACE_ENDPOINT_COUNT = 13;
/** Root volume per GPU instance, GB (infra/constructs/neural-service.ts). */
export const ROOT_VOLUME_GB = 100;
/** JSON request + response of one neural call through the ALB, KiB (services/neural/README.md: ≈ 3.2 KiB in). */
export const KIB_PER_CALL = 3.5;

export interface GpuCapacityInput {
  /** Neural calls per second at peak (every score call in `shadow` and `live`). */
  peakRps: number;
  /** Average neural calls per second. @default peakRps */
  avgRps?: number;
  /** Measured requests per second one GPU task serves within the latency budget (perf_analyzer). */
  gpuRps: number;
  /** Share of that throughput a task is planned at, 0.1–0.9. @default 0.6 */
  utilization?: number;
  /** EC2 instance type (one GPU). @default 'g6.xlarge' */
  instanceType?: string;
  /** Availability Zones: at least one task in each. @default 2 */
  azs?: number;
  /** `endpoints` or `nat` (the stage's `neural.egress`). @default 'endpoints' */
  egress?: 'endpoints' | 'nat';
  /** GB a month through endpoints or NAT (logs, metrics, image pulls). @default 50 */
  egressGbPerMonth?: number;
}

export interface GpuCapacityPlan {
  input: Required<GpuCapacityInput>;
  /** Tasks (= GPUs = instances) at peak and at the average rate; never fewer than one per AZ. */
  tasks: { peak: number; average: number; max: number };
  /** Instances during a canary at peak: the new revision's tasks start beside the old ones. */
  instancesDuringDeploy: number;
  /** Stage config `neural.requestsPerTargetPerMinute`: the per-task target of target tracking. */
  requestsPerTargetPerMinute: number;
  /** USD a month, tasks held at the average count (`floor`) or at the peak count all month (`peak`). */
  monthly: {
    floor: GpuMonthlyCost;
    peak: GpuMonthlyCost;
  };
  warnings: string[];
}

export interface GpuMonthlyCost {
  instances: number;
  ebs: number;
  alb: number;
  egress: number;
  total: number;
}

/** Headroom of `tasks.max` over the peak task count (as the Lambda planner's MAX_OVER_PEAK). */
export const GPU_MAX_OVER_PEAK = 1.5;

/**
 * Tasks = max(AZs, ceil(rps ÷ (gpuRps × utilization))); max = ceil(peak × 1.5).
 *
 * @throws CapacityInputError for non-positive rates, an average above the peak, a utilization
 *   outside 0.1–0.9, an unknown instance type, fewer than 2 or more than 6 AZs, or a bad egress
 */
export function planGpuCapacity(
  input: GpuCapacityInput,
  prices: GpuPriceTable = GPU_PRICES_US_EAST_1,
): GpuCapacityPlan {
  const full: Required<GpuCapacityInput> = {
    peakRps: input.peakRps,
    avgRps: input.avgRps ?? input.peakRps,
    gpuRps: input.gpuRps,
    utilization: input.utilization ?? 0.6,
    instanceType: input.instanceType ?? 'g6.xlarge',
    azs: input.azs ?? 2,
    egress: input.egress ?? 'endpoints',
    egressGbPerMonth: input.egressGbPerMonth ?? 50,
  };
  check(
    finite(full.peakRps) && full.peakRps > 0,
    `--peak-rps must be a positive number, got ${input.peakRps}`,
  );
  check(
    finite(full.avgRps) && full.avgRps >= 0 && full.avgRps <= full.peakRps,
    `--avg-rps must be between 0 and --peak-rps, got ${input.avgRps}`,
  );
  check(finite(full.gpuRps) && full.gpuRps > 0, `--gpu-rps must be a positive number, got ${input.gpuRps}`);
  check(
    finite(full.utilization) && full.utilization >= 0.1 && full.utilization <= 0.9,
    `--gpu-utilization must be between 0.1 and 0.9, got ${input.utilization}`,
  );
  const hourly = prices.instanceHourly[full.instanceType];
  check(
    hourly !== undefined,
    `--gpu-instance must be one of ${Object.keys(prices.instanceHourly).join(', ')}, got ${input.instanceType}`,
  );
  check(
    Number.isInteger(full.azs) && full.azs >= 2 && full.azs <= 6,
    `--azs must be an integer from 2 to 6, got ${input.azs}`,
  );
  check(
    full.egress === 'endpoints' || full.egress === 'nat',
    `--egress must be endpoints or nat, got ${input.egress}`,
  );
  check(
    finite(full.egressGbPerMonth) && full.egressGbPerMonth >= 0,
    `--egress-gb must be a non-negative number, got ${input.egressGbPerMonth}`,
  );

  const perTask = full.gpuRps * full.utilization;
  const tasksFor = (rps: number) => Math.max(full.azs, Math.ceil(Number((rps / perTask).toPrecision(12))));
  const peak = tasksFor(full.peakRps);
  const average = tasksFor(full.avgRps);
  const max = Math.max(peak, Math.ceil(peak * GPU_MAX_OVER_PEAK));
  const monthlyAt = (tasks: number): GpuMonthlyCost => {
    const instances = tasks * (hourly as number) * HOURS_PER_MONTH;
    const ebs = tasks * ROOT_VOLUME_GB * prices.ebsGp3GbMonth;
    // LCU: processed bytes dominate for small keep-alive requests (1 LCU = 1 GB/hour).
    const gbPerHour = (full.avgRps * 3600 * KIB_PER_CALL) / (1024 * 1024);
    const alb = (prices.albHourly + Math.max(1, gbPerHour) * prices.albLcuHourly) * HOURS_PER_MONTH;
    const egress =
      full.egress === 'endpoints'
        ? INTERFACE_ENDPOINT_COUNT * full.azs * prices.endpointHourly * HOURS_PER_MONTH +
          full.egressGbPerMonth * prices.endpointPerGb
        : full.azs * prices.natHourly * HOURS_PER_MONTH + full.egressGbPerMonth * prices.natPerGb;
    return { instances, ebs, alb, egress, total: instances + ebs + alb + egress };
  };
  const warnings: string[] = [];
  if (peak === full.azs && full.peakRps < perTask * full.azs * 0.25)
    warnings.push(`the AZ floor (${full.azs} tasks) holds the peak at under 25 % of planned GPU throughput`);
  if (input.avgRps === undefined) warnings.push('no --avg-rps: floor cost assumes peak traffic all month');
  return {
    input: full,
    tasks: { peak, average, max },
    instancesDuringDeploy: peak * 2,
    requestsPerTargetPerMinute: Math.round(perTask * 60),
    monthly: { floor: monthlyAt(average), peak: monthlyAt(peak) },
    warnings,
  };
}

const usd = (v: number) =>
  `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The GPU plan as a plain-text table (appended to the score function's plan). */
export function formatGpuPlan(plan: GpuCapacityPlan, prices: GpuPriceTable = GPU_PRICES_US_EAST_1): string {
  const { input, tasks } = plan;
  const row = (label: string, a: string, b: string) =>
    `  ${label.padEnd(40)}${a.padStart(16)}${b.padStart(18)}`;
  const lines: [keyof Omit<GpuMonthlyCost, 'total'>, string][] = [
    ['instances', `EC2 ${input.instanceType} on demand`],
    ['ebs', `EBS gp3 root volumes (${ROOT_VOLUME_GB} GB each)`],
    ['alb', 'Internal ALB (hours + LCU)'],
    [
      'egress',
      input.egress === 'endpoints'
        ? `${INTERFACE_ENDPOINT_COUNT} interface endpoints × ${input.azs} AZs`
        : `${input.azs} NAT gateways`,
    ],
  ];
  return [
    `Capacity plan — GPU neural service (Triton), ${input.instanceType}, ${input.azs} AZs, egress ${input.egress}`,
    `  traffic                  peak ${input.peakRps} rps, average ${input.avgRps} rps; per GPU ${input.gpuRps} rps measured, planned at ${input.utilization * 100} %`,
    `  tasks (= GPUs)           peak ${tasks.peak}, average ${tasks.average}, max ${tasks.max} (at least one per AZ)`,
    `  instances in a canary    ${plan.instancesDuringDeploy} at peak (new revision beside the old)`,
    `  stage config             neural.tasks { min: ${tasks.average}, max: ${tasks.max} }, requestsPerTargetPerMinute ${plan.requestsPerTargetPerMinute}`,
    '',
    `Monthly cost, USD (us-east-1 list prices as of ${prices.asOf}; ${HOURS_PER_MONTH} h)`,
    row('', `tasks at avg (${tasks.average})`, `tasks at peak (${tasks.peak})`),
    ...lines.map(([key, label]) => row(label, usd(plan.monthly.floor[key]), usd(plan.monthly.peak[key]))),
    row('total', usd(plan.monthly.floor.total), usd(plan.monthly.peak.total)),
    '  not included: canary hours at double capacity, CloudWatch agent metrics and logs, data transfer between AZs',
    ...plan.warnings.map((w) => `  note: ${w}`),
  ].join('\n');
}

export { CapacityInputError };
