/**
 * The GPU part of the capacity planner: tasks from measured per-GPU throughput, at least one
 * task per AZ, the target-tracking setting, and costs that follow the inputs.
 */
import fc from 'fast-check';
import { INTERFACE_ENDPOINTS } from '../../infra/constructs/network';
import {
  formatGpuPlan,
  GPU_PRICES_US_EAST_1,
  INTERFACE_ENDPOINT_COUNT,
  planGpuCapacity,
} from '../../scripts/capacity/gpu';
import { CapacityInputError } from '../../scripts/capacity/planner';

describe('planGpuCapacity', () => {
  it('sizes tasks from the per-GPU throughput at the planned utilization', () => {
    // prepare / act
    const plan = planGpuCapacity({ peakRps: 5_000, avgRps: 2_000, gpuRps: 1_000, utilization: 0.5, azs: 3 });
    // assert
    expect(plan.tasks).toEqual({ peak: 10, average: 4, max: 15 });
    expect(plan.instancesDuringDeploy).toBe(20);
    expect(plan.requestsPerTargetPerMinute).toBe(30_000);
  });

  it('never plans fewer tasks than AZs, and warns when the floor dwarfs the load', () => {
    // act
    const plan = planGpuCapacity({ peakRps: 10, gpuRps: 2_000, azs: 2 });
    // assert
    expect(plan.tasks.peak).toBe(2);
    expect(plan.warnings.join()).toMatch(/AZ floor/);
  });

  it('holds the peak within planned throughput for any input (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 1e5, noNaN: true }),
        fc.double({ min: 1, max: 1e5, noNaN: true }),
        fc.double({ min: 0.1, max: 0.9, noNaN: true }),
        fc.integer({ min: 2, max: 6 }),
        (peakRps, gpuRps, utilization, azs) => {
          // act
          const plan = planGpuCapacity({ peakRps, gpuRps, utilization, azs });
          // assert
          expect(plan.tasks.peak).toBeGreaterThanOrEqual(azs);
          expect(plan.tasks.peak * gpuRps * utilization).toBeGreaterThanOrEqual(peakRps * (1 - 1e-9));
          expect(plan.tasks.max).toBeGreaterThanOrEqual(plan.tasks.peak);
          expect(plan.monthly.peak.total).toBeGreaterThan(0);
        },
      ),
    );
  });

  it('prices instances by the hour and the egress mode by its own lines', () => {
    // act
    const endpoints = planGpuCapacity({ peakRps: 100, gpuRps: 1_000, instanceType: 'g5.xlarge', azs: 2 });
    const nat = planGpuCapacity({
      peakRps: 100,
      gpuRps: 1_000,
      instanceType: 'g5.xlarge',
      azs: 2,
      egress: 'nat',
    });
    // assert
    expect(endpoints.monthly.peak.instances).toBeCloseTo(2 * 1.006 * 730, 6);
    expect(endpoints.monthly.peak.egress).toBeCloseTo(13 * 2 * 0.01 * 730 + 50 * 0.01, 6);
    expect(nat.monthly.peak.egress).toBeCloseTo(2 * 0.045 * 730 + 50 * 0.045, 6);
    expect(formatGpuPlan(nat, GPU_PRICES_US_EAST_1)).toContain('2 NAT gateways');
  });

  it('counts the interface endpoints the network stack actually creates', () => {
    expect(INTERFACE_ENDPOINT_COUNT).toBe(Object.keys(INTERFACE_ENDPOINTS).length);
  });

  it.each([
    [{ peakRps: 0, gpuRps: 100 }, /--peak-rps/],
    [{ peakRps: 10, avgRps: 20, gpuRps: 100 }, /--avg-rps/],
    [{ peakRps: 10, gpuRps: Number.NaN }, /--gpu-rps/],
    [{ peakRps: 10, gpuRps: 100, utilization: 1 }, /--gpu-utilization/],
    [{ peakRps: 10, gpuRps: 100, instanceType: 'p5.48xlarge' }, /--gpu-instance/],
    [{ peakRps: 10, gpuRps: 100, azs: 1 }, /--azs/],
    [{ peakRps: 10, gpuRps: 100, egress: 'internet' as never }, /--egress/],
  ])('refuses %j', (input, message) => {
    expect(() => planGpuCapacity(input)).toThrow(CapacityInputError);
    expect(() => planGpuCapacity(input)).toThrow(message);
  });
});
