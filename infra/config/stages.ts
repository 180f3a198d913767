/**
 * Per-stage settings. `infra/bin/app.ts` picks one with `-c stage=<name>` and validates it
 * (see {@link resolveStageConfig}). Capacity numbers come from the planner
 * (`npm run capacity -- --peak-rps … --p99-ms … --headroom …`): provisioned concurrency =
 * peak RPS × p99 duration (s) × headroom.
 */
import prodCapacity from './prod.capacity.json';
import type { StageConfigInput } from './stage-config';

/** The model every stage serves unless it says otherwise. */
const MODEL = { name: 'fraud-gbdt', version: '1.0.0' } as const;

/**
 * Functions run on x86_64: onnxruntime-node 1.30.0 carries only half of the arm64 fix
 * (PR #28230 — the logger part is in the binary, the cpuinfo sysfs fallback is not; see
 * docs/deploy.md#architecture). arm64 stays a per-stage option once verified on Graviton.
 */
const ARCHITECTURE = 'x86_64' as const;

export const dev: StageConfigInput = {
  stage: 'dev',
  architecture: ARCHITECTURE,
  model: MODEL,
  scoreFunction: {
    memoryMb: 1024,
    timeoutSeconds: 5,
    featureTimeoutMs: 80,
    featureMaxAgeSeconds: 90 * 86_400,
    idempotencyTtlSeconds: 3_600,
  },
  capacity: { minProvisioned: 1, maxProvisioned: 2, utilizationTarget: 0.7, scheduled: [] },
  sla: { p99Ms: 150 },
  alarms: {
    page: {
      defaults: { periodMinutes: 1, evaluationPeriods: 3, datapointsToAlarm: 2 },
      apiLatencyP99Ms: { threshold: 150 },
      api5xxRatePercent: { threshold: 5 },
      scoreErrorRatePercent: { threshold: 5 },
      canaryErrors: { threshold: 3 },
      canaryLatencyP99Ms: { threshold: 120 },
      canaryAppErrorRatePercent: { threshold: 5 },
    },
    ticket: {
      defaults: { periodMinutes: 5, evaluationPeriods: 3, datapointsToAlarm: 3 },
      featureHitRateMinPercent: { threshold: 50, periodMinutes: 15 },
      featureAgeP90Seconds: { threshold: 7 * 86_400, periodMinutes: 15 },
      degradedRatePercent: { threshold: 5 },
      dlqMessages: { threshold: 0, evaluationPeriods: 1, datapointsToAlarm: 1 },
      queueAgeSeconds: { threshold: 600 },
      updaterFailures: { threshold: 10 },
      pcUtilizationPercent: { threshold: 90 },
      pcSpillovers: { threshold: 50 },
      tableThrottles: { threshold: 10 },
    },
  },
  deployment: {
    // Short canary that still lets the guardrails fire: they need 2 of 3 one-minute datapoints,
    // so a 1-minute step would end before any alarm could roll it back.
    strategy: { type: 'canary', percentage: 50, intervalMinutes: 5 },
    preTrafficMaxLatencyMs: 2_000,
  },
  api: { auth: 'iam', throttling: { rateLimit: 50, burstLimit: 100 }, waf: false },
  events: { updaterTimeoutSeconds: 30, maxBatchingWindowSeconds: 1, featureTtlSeconds: 180 * 86_400 },
  logRetentionDays: 14,
  notifications: {
    page: { emails: [], httpsEndpoints: [] },
    ticket: { emails: [], httpsEndpoints: [] },
  },
};

export const prod: StageConfigInput = {
  stage: 'prod',
  // Pin the account here (env: { account: '123456789012' }) so prod can never deploy elsewhere.
  env: { region: 'eu-west-1' },
  architecture: ARCHITECTURE,
  model: MODEL,
  scoreFunction: {
    // 1769 MB buys one full vCPU, which the tree ensemble uses for inference.
    memoryMb: 1769,
    timeoutSeconds: 3,
    featureTimeoutMs: 60,
    featureMaxAgeSeconds: 90 * 86_400,
    idempotencyTtlSeconds: 86_400,
  },
  // Written by the planner: npm run capacity -- --peak-rps 300 --p99-ms 50 --headroom 3 --avg-rps 120
  //   --avg-ms 20 --memory-mb 1769 --region eu-west-1 --write infra/config/prod.capacity.json
  // (peak PC 45 = 300 RPS × 0.05 s × 3; the floor keeps a 10 % canary share above one environment).
  capacity: {
    minProvisioned: prodCapacity.provisionedConcurrency.min,
    maxProvisioned: prodCapacity.provisionedConcurrency.max,
    utilizationTarget: prodCapacity.provisionedConcurrency.utilizationTarget,
    scheduled: [
      {
        name: 'weekday-peak',
        schedule: 'cron(30 6 ? * MON-FRI *)',
        timeZone: 'Europe/Berlin',
        minCapacity: prodCapacity.peakProvisionedConcurrency,
        maxCapacity: prodCapacity.provisionedConcurrency.max,
      },
      {
        name: 'weekday-evening',
        schedule: 'cron(0 21 ? * MON-FRI *)',
        timeZone: 'Europe/Berlin',
        minCapacity: prodCapacity.provisionedConcurrency.min,
        maxCapacity: prodCapacity.provisionedConcurrency.max,
      },
    ],
  },
  sla: { p99Ms: 100 },
  alarms: {
    page: {
      defaults: { periodMinutes: 1, evaluationPeriods: 3, datapointsToAlarm: 2 },
      apiLatencyP99Ms: { threshold: 100, evaluationPeriods: 5, datapointsToAlarm: 3 },
      api5xxRatePercent: { threshold: 1 },
      scoreErrorRatePercent: { threshold: 1 },
      canaryErrors: { threshold: 3 },
      canaryLatencyP99Ms: { threshold: 80 },
      canaryAppErrorRatePercent: { threshold: 1 },
    },
    ticket: {
      defaults: { periodMinutes: 5, evaluationPeriods: 3, datapointsToAlarm: 3 },
      featureHitRateMinPercent: { threshold: 80, periodMinutes: 15 },
      featureAgeP90Seconds: { threshold: 2 * 86_400, periodMinutes: 15 },
      degradedRatePercent: { threshold: 1 },
      dlqMessages: { threshold: 0, evaluationPeriods: 1, datapointsToAlarm: 1 },
      queueAgeSeconds: { threshold: 300 },
      updaterFailures: { threshold: 10 },
      pcUtilizationPercent: { threshold: 80, evaluationPeriods: 6, datapointsToAlarm: 5 },
      pcSpillovers: { threshold: 100 },
      tableThrottles: { threshold: 10 },
    },
  },
  deployment: {
    strategy: { type: 'canary', percentage: 10, intervalMinutes: 10 },
    preTrafficMaxLatencyMs: 1_000,
  },
  api: { auth: 'iam', throttling: { rateLimit: 500, burstLimit: 1000 }, waf: true },
  events: { updaterTimeoutSeconds: 30, maxBatchingWindowSeconds: 2, featureTtlSeconds: 180 * 86_400 },
  // PCI DSS 10.7: keep audit logs for at least a year.
  logRetentionDays: 365,
  notifications: {
    // Add the paging integration (HTTPS) and the team list before the first prod deploy;
    // synth warns while the page topic has no subscriber.
    page: { emails: [], httpsEndpoints: [] },
    ticket: { emails: [], httpsEndpoints: [] },
  },
};

/** Every deployable stage, keyed by the name passed as `-c stage=<name>`. */
export const STAGES: Readonly<Record<string, StageConfigInput>> = { dev, prod };
