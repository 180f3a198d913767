import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CapacityInputError,
  capacityConfigJson,
  estimateMonthlyCost,
  HOURS_PER_MONTH,
  PRICES_US_EAST_1,
  planCapacity,
} from '../../scripts/capacity';

const ROOT = join(__dirname, '..', '..');

describe('planCapacity', () => {
  it("applies Little's law: 200 rps × 0.05 s × 2 = 20", () => {
    // act
    const plan = planCapacity({ peakRps: 200, p99Ms: 50, headroom: 2 });
    // assert
    expect(plan.inFlight.peak).toBeCloseTo(10, 12);
    expect(plan.peakProvisionedConcurrency).toBe(20);
  });

  it('rounds up, and is not fooled by floating-point dust', () => {
    // prepare
    const inputs = [
      { peakRps: 10, p99Ms: 35, headroom: 2 },
      { peakRps: 101, p99Ms: 50, headroom: 2 },
      { peakRps: 100, p99Ms: 70, headroom: 3 },
      { peakRps: 300, p99Ms: 100, headroom: 2.5 },
    ];
    // act
    const [belowOne, aboveTen, dusty, fractionalHeadroom] = inputs.map(
      (input) => planCapacity(input).peakProvisionedConcurrency,
    );
    // assert
    expect(belowOne).toBe(1); // 0.7
    expect(aboveTen).toBe(11); // 10.1
    expect(dusty).toBe(21); // 100 × 0.07 × 3
    expect(fractionalHeadroom).toBe(75);
  });

  it('sets min from the average load, max at 1.5× the peak, target 0.7', () => {
    // act
    const plan = planCapacity({ peakRps: 200, p99Ms: 50, headroom: 2, avgRps: 80 });
    // assert
    expect(plan.provisionedConcurrency).toEqual({ min: 8, max: 30, utilizationTarget: 0.7 });
  });

  it('keeps min at 1 when the average load is zero', () => {
    // act
    const plan = planCapacity({ peakRps: 200, p99Ms: 50, headroom: 2, avgRps: 0 });
    // assert
    expect(plan.provisionedConcurrency.min).toBe(1);
  });

  it('keeps min at 1 and max above it for a tiny load', () => {
    // act
    const plan = planCapacity({ peakRps: 1, p99Ms: 10, headroom: 2 });
    // assert
    expect(plan.provisionedConcurrency).toMatchObject({ min: 1, max: 2 });
  });

  it.each([
    [1, 1, 1, 1],
    [50, 10, 80, 3],
    [2000, 1999, 45, 2],
  ] as const)(
    'keeps min ≤ peak PC ≤ max for %d rps peak, %d rps average, %d ms p99, headroom %d',
    (peakRps, avgRps, p99Ms, headroom) => {
      // act
      const plan = planCapacity({ peakRps, avgRps, p99Ms, headroom });
      // assert
      expect(plan.provisionedConcurrency.min).toBeLessThanOrEqual(plan.peakProvisionedConcurrency);
      expect(plan.peakProvisionedConcurrency).toBeLessThanOrEqual(plan.provisionedConcurrency.max);
    },
  );

  it.each([
    [{ peakRps: 0, p99Ms: 50, headroom: 2 }, /--peak-rps/],
    [{ peakRps: Number.NaN, p99Ms: 50, headroom: 2 }, /--peak-rps/],
    [{ peakRps: 100, p99Ms: -5, headroom: 2 }, /--p99-ms/],
    [{ peakRps: 100, p99Ms: 1_000_000, headroom: 2 }, /--p99-ms/],
    [{ peakRps: 100, p99Ms: 50, headroom: 0.5 }, /--headroom/],
    [{ peakRps: 100, p99Ms: 50, headroom: 2, avgRps: 150 }, /--avg-rps/],
    [{ peakRps: 100, p99Ms: 50, headroom: 2, avgMs: 60 }, /--avg-ms/],
    [{ peakRps: 100, p99Ms: 50, headroom: 2, memoryMb: 64 }, /--memory-mb/],
    [{ peakRps: 100, p99Ms: 50, headroom: 2, memoryMb: 1000.5 }, /--memory-mb/],
    [{ peakRps: 100, p99Ms: 50, headroom: 2, arch: 'sparc' as never }, /--arch/],
    [{ peakRps: 100, p99Ms: 50, headroom: 2, region: 'mars' }, /--region/],
  ])('rejects %o', (input, message) => {
    // act
    const plan = () => planCapacity(input);
    // assert
    expect(plan).toThrow(CapacityInputError);
    expect(plan).toThrow(message);
  });
});

describe('estimateMonthlyCost', () => {
  const base = { peakRps: 50, p99Ms: 50, headroom: 2, avgRps: 20, avgMs: 20 };

  it('charges provisioned concurrency per GB-second for 730 hours at list price', () => {
    // prepare
    const plan = planCapacity({ ...base, memoryMb: 2048 });
    // act
    const cost = estimateMonthlyCost(plan, PRICES_US_EAST_1, { provisionedLevel: 10 });
    // assert
    expect(cost.lines.lambdaProvisioned).toBeCloseTo(
      10 * 2 * HOURS_PER_MONTH * 3600 * PRICES_US_EAST_1.lambda.x86_64.provisionedGbSecond,
      6,
    );
    expect(cost.requestsPerMonth).toBe(20 * HOURS_PER_MONTH * 3600);
    expect(cost.total).toBeCloseTo(
      Object.values(cost.lines).reduce((s, v) => s + v, 0),
      9,
    );
  });

  it('counts one RRU per score for a BatchGetItem of two eventually consistent items', () => {
    // prepare
    const plan = planCapacity(base);
    const millions = (20 * HOURS_PER_MONTH * 3600) / 1e6;
    // act
    const scoresOnly = estimateMonthlyCost(plan, PRICES_US_EAST_1, { workload: { eventsPerScore: 0 } });
    // assert
    expect(scoresOnly.lines.dynamodbReads).toBeCloseTo(millions * 1 * 0.125, 6);
    expect(scoresOnly.lines.dynamodbWrites).toBeCloseTo(millions * 2 * 0.625, 6); // idempotency put + update
  });

  it('scales linearly with traffic', () => {
    // prepare
    const one = estimateMonthlyCost(planCapacity(base));
    // act
    const two = estimateMonthlyCost(planCapacity({ ...base, peakRps: 100, avgRps: 40 }));
    // assert: PC doubles exactly (5 → 10) and every traffic line doubles (API Gateway stays in its first tier).
    expect(two.total).toBeCloseTo(2 * one.total, 6);
    for (const key of Object.keys(one.lines) as (keyof typeof one.lines)[]) {
      expect(two.lines[key]).toBeCloseTo(2 * one.lines[key], 6);
    }
  });

  it('scales linearly with memory', () => {
    // prepare
    const one = estimateMonthlyCost(planCapacity(base));
    // act
    const bigger = estimateMonthlyCost(planCapacity({ ...base, memoryMb: 2048 }));
    // assert
    expect(bigger.lines.lambdaProvisioned).toBeCloseTo(2 * one.lines.lambdaProvisioned, 6);
    expect(bigger.lines.lambdaDuration).toBeCloseTo(2 * one.lines.lambdaDuration, 6);
  });

  it('prices arm64 about 20 % below x86_64 for the Lambda lines', () => {
    // prepare
    const x86 = estimateMonthlyCost(planCapacity({ ...base, arch: 'x86_64' }));
    // act
    const arm = estimateMonthlyCost(planCapacity({ ...base, arch: 'arm64' }));
    // assert
    expect(arm.total).toBeLessThan(x86.total);
    expect(arm.lines.lambdaProvisioned / x86.lines.lambdaProvisioned).toBeCloseTo(0.8, 3);
    expect(arm.lines.lambdaDuration / x86.lines.lambdaDuration).toBeCloseTo(0.8, 3);
    expect(arm.lines.lambdaRequests).toBe(x86.lines.lambdaRequests);
  });

  it('applies API Gateway price tiers beyond 333 million requests', () => {
    // prepare: 200 rps × 2 calls × 730 h ≈ 1051 M requests: all of the first two tiers plus some of the third.
    const plan = planCapacity({ peakRps: 200, p99Ms: 50, headroom: 2 });
    const millions = (200 * 2 * HOURS_PER_MONTH * 3600) / 1e6;
    // act
    const cost = estimateMonthlyCost(plan);
    // assert
    expect(cost.lines.apiGateway).toBeCloseTo(333 * 3.5 + 667 * 2.8 + (millions - 1000) * 2.38, 6);
  });
});

describe('capacity CLI', () => {
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  const runCli = (args: string[]) =>
    spawnSync(tsx, ['scripts/capacity.ts', ...args], { cwd: ROOT, encoding: 'utf8' });

  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'capacity-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the plan and writes the stage-config JSON', () => {
    // prepare
    const file = join(dir, 'prod.capacity.json');
    const args = ['--peak-rps', '200', '--p99-ms', '50', '--headroom', '2', '--avg-rps', '80'];
    // act
    const result = runCli([...args, '--write', file]);
    // assert
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('peak PC                  20 = ceil(200 × 0.05 s × 2)');
    expect(result.stdout).toMatch(/total\s+\$[\d,.]+\s+\$[\d,.]+/);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written).toMatchObject({
      provisionedConcurrency: { min: 8, max: 30, utilizationTarget: 0.7 },
      sourcedFrom: { peakRps: 200, p99Ms: 50, headroom: 2, avgRps: 80, arch: 'x86_64' },
    });
    expect(Number.isNaN(Date.parse(written.generatedAt))).toBe(false);
  });

  it('exits 2 on invalid input and writes nothing', () => {
    // prepare
    const file = join(dir, 'prod.capacity.json');
    // act
    const result = runCli(['--peak-rps', '200', '--p99-ms', '50', '--headroom', '0.5', '--write', file]);
    // assert
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--headroom must be between 1 and 10');
    expect(existsSync(file)).toBe(false);
  });

  it('builds the same JSON shape from a plan', () => {
    // prepare
    const plan = planCapacity({ peakRps: 10, p99Ms: 40, headroom: 3 });
    // act
    const json = capacityConfigJson(plan, new Date(0));
    // assert
    expect(json).toEqual({
      provisionedConcurrency: { min: 2, max: 3, utilizationTarget: 0.7 },
      peakProvisionedConcurrency: 2,
      sourcedFrom: expect.objectContaining({ peakRps: 10, p99Ms: 40, headroom: 3 }),
      generatedAt: '1970-01-01T00:00:00.000Z',
    });
  });
});
