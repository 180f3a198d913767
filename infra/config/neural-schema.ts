/**
 * The stage config's GPU neural service (issue 11): images pinned by digest, instances, task
 * bounds and scaling, the ECS canary, network egress and the service's alarm thresholds.
 */
import { z } from 'zod';
import { alarmThresholdSchema } from './alarm-schema';
import { scheduledCapacitySchema } from './capacity-schema';
import { positiveInt } from './schema-parts';

const ecrImageSchema = z.strictObject({
  /** Repository name in the stage account's ECR (the mirror of the upstream image). */
  repository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/),
  /** Pinned content digest: a tag can move, a digest cannot. */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a sha256:<64 hex> image digest'),
  /** The upstream image the mirror was copied from, for the deploy guide and the console. */
  upstream: z.string().min(1),
});
/** A container image mirrored into the account's ECR, pinned by digest. */
export type EcrImage = z.infer<typeof ecrImageSchema>;

const neuralAlarmsSchema = z.strictObject({
  /** Pages: healthy Triton tasks below this count for the evaluation window (0 = service down). */
  healthyTasksMin: alarmThresholdSchema,
  /** Pages: share of score answers degraded with `neural_unavailable` (breaker open or calls failing), percent. */
  unavailablePercent: alarmThresholdSchema.extend({ threshold: z.number().min(0).max(100) }),
  /** Canary guardrail (rolls the ECS deployment back) and page: ALB target 5xx per minute. */
  target5xx: alarmThresholdSchema,
  /** Canary guardrail (rolls back) and page: ALB target response time p99, milliseconds. */
  targetP99Ms: alarmThresholdSchema,
  /** Canary guardrail (rolls back): Triton queue time p99, microseconds. */
  queueP99Us: alarmThresholdSchema,
  /** Ticket: average GPU utilization across tasks above this percentage. */
  gpuUtilizationPercent: alarmThresholdSchema.extend({ threshold: z.number().min(0).max(100) }),
  /** Ticket: Triton mean queue time per request above this many microseconds (rising queue). */
  queueMeanUs: alarmThresholdSchema,
  /** Ticket: unhealthy targets in one Availability Zone above this count. */
  unhealthyPerAz: alarmThresholdSchema,
});

const neuralEnabledSchema = z.strictObject({
  enabled: z.literal(true),
  /** `shadow`: called and measured, never decides. `live`: the combined score decides. `off`: not called. */
  mode: z.enum(['off', 'shadow', 'live']),
  /** Whole-call budget of the neural client inside the score function, ms (`NEURAL_BUDGET_MS`). */
  budgetMs: positiveInt.max(1_000),
  /** The model served by Triton: `models/<name>/<version>/triton/` is uploaded as the repository. */
  model: z.strictObject({
    name: z.string().regex(/^[a-z0-9-]+$/),
    version: z.string().regex(/^[0-9A-Za-z.+-]+$/),
  }),
  /** Triton Inference Server, mirrored from NGC (`nvcr.io/nvidia/tritonserver:<yy.mm>-py3`). */
  tritonImage: ecrImageSchema,
  /** CloudWatch agent sidecar (Prometheus scrape → EMF), mirrored from public ECR. */
  cloudwatchAgentImage: ecrImageSchema,
  /** EC2 GPU instance type (one GPU per instance: g4dn/g5/g6/g6e `.xlarge`–`.8xlarge`). */
  instanceType: z
    .string()
    .regex(/^(g4dn|g5|g6|g6e)\.(xlarge|2xlarge|4xlarge|8xlarge)$/, 'a single-GPU g4dn/g5/g6/g6e size'),
  /** Tasks (one GPU each): floor, ceiling; the service scales between them. */
  tasks: z.strictObject({ min: positiveInt, max: positiveInt }),
  /** Target tracking: ALB requests per target per minute (from the planner's per-GPU throughput). */
  requestsPerTargetPerMinute: positiveInt,
  /** Target tracking: average GPU utilization, percent. */
  gpuUtilizationTarget: z.number().min(10).max(90),
  /** Scheduled floors of the task count before known peaks. */
  scheduled: z.array(scheduledCapacitySchema),
  /** Seconds Triton may take to load the model before health checks count (CUDA init + S3 read). */
  startupGraceSeconds: positiveInt.min(30).max(600),
  /** ECS built-in canary: share of production traffic on the new tasks, and the bake per step. */
  canary: z.strictObject({
    percent: z.number().min(0.1).max(100),
    bakeMinutes: z.number().int().min(0).max(1440),
  }),
  /** Network egress: `endpoints` (interface endpoints, no internet) or `nat` (one NAT gateway per AZ). */
  egress: z.enum(['endpoints', 'nat']),
  /** Availability Zones of the VPC (suffixes of the region, e.g. `a`, `b`). */
  availabilityZones: z
    .array(z.string().regex(/^[a-z]$/))
    .min(2)
    .max(3),
  /** Alarm thresholds of the neural service, with page/ticket evaluation defaults of `alarms`. */
  alarms: neuralAlarmsSchema,
});

/**
 * The GPU neural service (issue 11). `enabled: false` creates none of it and keeps the score
 * function out of the VPC.
 */
export const neuralSchema = z.discriminatedUnion('enabled', [
  z.strictObject({ enabled: z.literal(false) }),
  neuralEnabledSchema,
]);
/** Settings of the GPU neural service of a stage that enables it. */
export type NeuralConfig = z.infer<typeof neuralEnabledSchema>;
