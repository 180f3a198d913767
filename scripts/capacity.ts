/**
 * Capacity planner for the score function: provisioned concurrency from Little's law, the
 * autoscaling bounds, and what it costs per month at list prices.
 *
 *   npm run capacity -- --peak-rps 200 --p99-ms 50 --headroom 2 [--avg-rps 80] [--memory-mb 1024]
 *                       [--arch x86_64|arm64] [--region us-east-1] [--avg-ms 20] [--prices prices.json]
 *                       [--write infra/config/prod.capacity.json]
 *                       [--gpu-rps 1500 [--gpu-instance g6.xlarge] [--gpu-utilization 0.6] [--azs 2]
 *                        [--egress endpoints|nat] [--egress-gb 50]]
 *
 * With `--gpu-rps` (the per-GPU throughput measured with Triton's perf_analyzer), the plan also
 * covers the GPU neural service: tasks, instances and their monthly cost (`scripts/capacity/gpu.ts`).
 *
 * Little's law: requests in flight = arrival rate × time in system. At `peak-rps` requests
 * per second that each take up to `p99-ms`, about peak × p99 environments are busy at once;
 * `headroom` (2–3×) covers bursts within a second, tail latency above p99 and the minutes
 * target tracking needs to react.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { estimateMonthlyCost, type MonthlyCost, PRICES_US_EAST_1, type PriceTable } from './capacity/costs';
import { formatGpuPlan, type GpuCapacityPlan, planGpuCapacity } from './capacity/gpu';
import {
  CapacityInputError,
  type CapacityPlan,
  HOURS_PER_MONTH,
  type LambdaArch,
  planCapacity,
} from './capacity/planner';

export {
  DEFAULT_WORKLOAD,
  estimateMonthlyCost,
  type LambdaArchPrices,
  type MonthlyCost,
  PRICES_US_EAST_1,
  type PriceTable,
  type Workload,
} from './capacity/costs';
export {
  formatGpuPlan,
  GPU_PRICES_US_EAST_1,
  type GpuCapacityInput,
  type GpuCapacityPlan,
  planGpuCapacity,
} from './capacity/gpu';
export {
  type CapacityInput,
  CapacityInputError,
  type CapacityPlan,
  HOURS_PER_MONTH,
  type LambdaArch,
  MAX_OVER_PEAK,
  planCapacity,
  UTILIZATION_TARGET,
} from './capacity/planner';

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
    '  not included: feature-updater Lambda, SQS, CloudWatch, X-Ray, storage, data transfer, WAF, KMS, GPU service (--gpu-rps)',
    ...plan.warnings.map((w) => `  note: ${w}`),
  ].join('\n');
}

/** The JSON a stage config imports (`infra/config/<stage>.capacity.json`). */
export function capacityConfigJson(plan: CapacityPlan, now: Date = new Date(), gpu?: GpuCapacityPlan) {
  return {
    provisionedConcurrency: plan.provisionedConcurrency,
    /** For a scheduled action that raises `min` before known peaks. */
    peakProvisionedConcurrency: plan.peakProvisionedConcurrency,
    ...(gpu
      ? {
          neural: {
            tasks: { min: gpu.tasks.average, max: gpu.tasks.max },
            peakTasks: gpu.tasks.peak,
            requestsPerTargetPerMinute: gpu.requestsPerTargetPerMinute,
          },
        }
      : {}),
    sourcedFrom: { ...plan.input, ...(gpu ? { gpu: gpu.input } : {}), tool: 'npm run capacity' },
    generatedAt: now.toISOString(),
  };
}

// --- CLI -----------------------------------------------------------------------------------

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run capacity -- --peak-rps N --p99-ms M --headroom H [--avg-rps N] [--avg-ms M]\n` +
      '         [--memory-mb 1024] [--arch x86_64|arm64] [--region us-east-1] [--prices FILE] [--write FILE]\n' +
      '         [--gpu-rps N [--gpu-instance g6.xlarge] [--gpu-utilization 0.6] [--azs 2] [--egress endpoints|nat] [--egress-gb 50]]\n',
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
        'gpu-rps': { type: 'string' },
        'gpu-instance': { type: 'string' },
        'gpu-utilization': { type: 'string' },
        azs: { type: 'string' },
        egress: { type: 'string' },
        'egress-gb': { type: 'string' },
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
  let gpu: GpuCapacityPlan | undefined;
  if (values['gpu-rps'] !== undefined) {
    try {
      gpu = planGpuCapacity({
        peakRps: plan.input.peakRps,
        avgRps: plan.input.avgRps,
        gpuRps: numberFlag(values, 'gpu-rps') as number,
        utilization: numberFlag(values, 'gpu-utilization'),
        instanceType: values['gpu-instance'],
        azs: numberFlag(values, 'azs'),
        egress: values.egress as 'endpoints' | 'nat' | undefined,
        egressGbPerMonth: numberFlag(values, 'egress-gb'),
      });
    } catch (error) {
      if (error instanceof CapacityInputError) usage(error.message);
      throw error;
    }
    process.stdout.write(`\n${formatGpuPlan(gpu)}\n`);
  }
  if (values.write) {
    mkdirSync(dirname(values.write), { recursive: true });
    writeFileSync(values.write, `${JSON.stringify(capacityConfigJson(plan, new Date(), gpu), null, 2)}\n`);
    process.stdout.write(`\nwrote ${values.write}\n`);
  }
}

if (require.main === module) main();
