/**
 * Pre-traffic hook: before CodeDeploy shifts any traffic, the new version of the score
 * function must (1) reproduce the model's golden scores for every replay case within the
 * tolerance, (2) score each batch within the latency budget it reports itself, and (3) answer
 * one API Gateway-shaped request with a 200 and a decision. A version that cannot load its
 * model, scores differently (wrong model file, feature-order drift, a changed runtime) or is
 * slow never receives a request.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { ReplaySetError, TargetInvocationError } from '#domain/errors';
import type { PreTrafficConfig } from './config';
import { type HookOutcome, runLifecycleHook } from './lifecycle';

/** One line of `replay.jsonl`, as written by the training pipeline. */
const replayCaseSchema = z.object({
  transactionId: z.string().min(1),
  request: z.record(z.string(), z.unknown()),
  features: z.array(z.number()).min(1),
  score: z.number(),
  label: z.union([z.literal(0), z.literal(1)]),
});
export type ReplayCase = z.infer<typeof replayCaseSchema>;

/** The score function's answer to `{ kind: 'replay', cases }` (see functions/score/handler.ts). */
const replayResponseSchema = z.object({
  model: z.object({ name: z.string(), version: z.string() }),
  scores: z.array(z.number()),
  durationMs: z.number().nonnegative(),
});

export interface PreTrafficDeps {
  lambda: LambdaClient;
  codeDeploy: CodeDeployClient;
  logger: Logger;
  /**
   * The settings, or a loader called inside the check so a configuration error is reported
   * to CodeDeploy as `Failed` rather than crashing the hook.
   */
  config: PreTrafficConfig | (() => PreTrafficConfig);
  /** Reads the replay file. @default fs.promises.readFile as UTF-8 */
  readReplayFile?: (path: string) => Promise<string>;
  /** See {@link LifecycleDeps.safetyMarginMs}. */
  safetyMarginMs?: number;
}

/** A score outside the tolerance. */
export interface ScoreMismatch {
  transactionId: string;
  expected: number;
  got: number;
  diff: number;
}

/** How many mismatches and slow batches are logged in full. */
const LOGGED_EXAMPLES = 5;

/** Parses `replay.jsonl`: one JSON object per line, blank lines ignored, every line validated. */
export function parseReplaySet(text: string, source = 'replay.jsonl'): ReplayCase[] {
  const cases: ReplayCase[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new ReplaySetError(`${source}:${index + 1} is not JSON`, { cause: error });
    }
    const parsed = replayCaseSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ReplaySetError(
        `${source}:${index + 1}: ${issue?.path.join('.') || 'line'}: ${issue?.message}`,
        {
          cause: parsed.error,
        },
      );
    }
    cases.push(parsed.data);
  });
  if (cases.length === 0) throw new ReplaySetError(`${source} has no cases`);
  const width = cases[0]?.features.length;
  const ragged = cases.findIndex((c) => c.features.length !== width);
  if (ragged >= 0) throw new ReplaySetError(`${source}: case ${ragged + 1} has a different feature count`);
  return cases;
}

/** Nearest-rank percentile (p in 0–100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

function decodePayload(payload: Uint8Array | undefined): unknown {
  const text = new TextDecoder().decode(payload ?? new Uint8Array());
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TargetInvocationError(`target returned a payload that is not JSON: ${text.slice(0, 200)}`, {
      cause: error,
    });
  }
}

async function invokeTarget(lambda: LambdaClient, functionArn: string, payload: unknown): Promise<unknown> {
  const response = await lambda.send(
    new InvokeCommand({
      FunctionName: functionArn,
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );
  if (response.FunctionError) {
    // The payload of a failed invocation is `{errorType, errorMessage, trace}`.
    const body = new TextDecoder().decode(response.Payload ?? new Uint8Array());
    throw new TargetInvocationError(`target failed (${response.FunctionError}): ${body.slice(0, 500)}`);
  }
  return decodePayload(response.Payload);
}

/** The minimal REST API (v1) proxy event the score function's API handler needs. */
export function smokeEvent(request: Record<string, unknown>, transactionId: string) {
  return {
    resource: '/v1/score',
    path: '/v1/score',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: { 'content-type': ['application/json'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: JSON.stringify({ ...request, transactionId }),
    isBase64Encoded: false,
    requestContext: {
      resourcePath: '/v1/score',
      httpMethod: 'POST',
      path: '/v1/score',
      stage: 'pretraffic',
      requestId: transactionId,
      requestTimeEpoch: Date.now(),
      identity: { sourceIp: '127.0.0.1', userAgent: 'codedeploy-pre-traffic-hook' },
    },
  };
}

/**
 * `pretraffic-<DeploymentId>-<original id>`: recognisable in logs and the idempotency table,
 * never colliding with a real transaction, and the same for a retried hook, so a retry is
 * an idempotent replay rather than a new record. Cut to the contract's 128 characters.
 */
export function smokeTransactionId(deploymentId: string, original: string): string {
  return `pretraffic-${deploymentId}-${original}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 128);
}

interface ReplayFindings {
  cases: number;
  batches: number;
  mismatches: ScoreMismatch[];
  maxDiff: number;
  durations: number[];
  slowBatches: { batch: number; durationMs: number }[];
  models: string[];
}

async function replayAll(
  deps: PreTrafficDeps,
  config: PreTrafficConfig,
  cases: ReplayCase[],
): Promise<ReplayFindings> {
  const findings: ReplayFindings = {
    cases: cases.length,
    batches: 0,
    mismatches: [],
    maxDiff: 0,
    durations: [],
    slowBatches: [],
    models: [],
  };
  // Sequential on purpose: one environment of the new version answers every batch, so the
  // durations measure the model, not cold starts of extra environments.
  for (let start = 0; start < cases.length; start += config.batchSize) {
    const batch = cases.slice(start, start + config.batchSize);
    const raw = await invokeTarget(deps.lambda, config.targetFunctionArn, {
      kind: 'replay',
      cases: batch.map((c) => ({ features: c.features })),
    });
    const parsed = replayResponseSchema.safeParse(raw);
    if (!parsed.success || parsed.data.scores.length !== batch.length) {
      throw new TargetInvocationError(
        `replay response for batch ${findings.batches + 1} is malformed: ${JSON.stringify(raw).slice(0, 300)}`,
      );
    }
    const { scores, durationMs, model } = parsed.data;
    const modelId = `${model.name}@${model.version}`;
    if (!findings.models.includes(modelId)) findings.models.push(modelId);
    findings.batches += 1;
    findings.durations.push(durationMs);
    if (durationMs > config.maxLatencyMs) findings.slowBatches.push({ batch: findings.batches, durationMs });
    batch.forEach((c, i) => {
      const got = scores[i] as number;
      const diff = Math.abs(got - c.score);
      // NaN compares false: a NaN score or expectation counts as a mismatch.
      if (!(diff <= config.tolerance)) {
        findings.mismatches.push({ transactionId: c.transactionId, expected: c.score, got, diff });
      }
      if (Number.isNaN(diff) || diff > findings.maxDiff)
        findings.maxDiff = Number.isNaN(diff) ? Number.NaN : diff;
    });
  }
  return findings;
}

async function smokeTest(
  deps: PreTrafficDeps,
  config: PreTrafficConfig,
  deploymentId: string,
  first: ReplayCase,
): Promise<{ ok: boolean; statusCode?: number; decision?: unknown }> {
  const transactionId = smokeTransactionId(deploymentId, first.transactionId);
  const raw = (await invokeTarget(
    deps.lambda,
    config.targetFunctionArn,
    smokeEvent(first.request, transactionId),
  )) as {
    statusCode?: unknown;
    body?: unknown;
  };
  const statusCode = typeof raw?.statusCode === 'number' ? raw.statusCode : undefined;
  let decision: unknown;
  try {
    decision = (JSON.parse(String(raw?.body)) as { decision?: unknown }).decision;
  } catch {
    decision = undefined;
  }
  return { ok: statusCode === 200 && typeof decision === 'string', statusCode, decision };
}

/**
 * Builds the pre-traffic hook handler: replay every golden case against
 * `config.targetFunctionArn` in batches, check scores and per-batch latency, run one smoke
 * request through the API handler, and report `Succeeded` only when all of it passes.
 */
export function createPreTrafficHook(deps: PreTrafficDeps) {
  const readReplayFile = deps.readReplayFile ?? ((path: string) => readFile(path, 'utf8'));

  return async function preTrafficHook(event: unknown, context?: Context): Promise<HookOutcome> {
    return runLifecycleHook('pre-traffic', deps, event, context, async ({ DeploymentId }) => {
      const config = typeof deps.config === 'function' ? deps.config() : deps.config;
      const cases = parseReplaySet(await readReplayFile(config.replayPath), config.replayPath);
      const found = await replayAll(deps, config, cases);
      const smoke = await smokeTest(deps, config, DeploymentId, cases[0] as ReplayCase);
      const details = {
        target: config.targetFunctionArn,
        models: found.models,
        cases: found.cases,
        batches: found.batches,
        mismatches: found.mismatches.length,
        maxDiff: found.maxDiff,
        tolerance: config.tolerance,
        batchDurationMs: { p50: percentile(found.durations, 50), p99: percentile(found.durations, 99) },
        maxLatencyMs: config.maxLatencyMs,
        slowBatches: found.slowBatches.length,
        smoke: { statusCode: smoke.statusCode, decision: smoke.decision },
      };
      const problems = [
        found.mismatches.length > 0 ? 'score_mismatch' : undefined,
        found.slowBatches.length > 0 ? 'slow_batch' : undefined,
        found.models.length > 1 ? 'mixed_models' : undefined,
        smoke.ok ? undefined : 'smoke_failed',
      ].filter((p): p is string => p !== undefined);
      if (problems.length === 0) return { status: 'Succeeded', reason: 'replay_passed', details };
      return {
        status: 'Failed',
        reason: problems.join(','),
        details: {
          ...details,
          firstMismatches: found.mismatches.slice(0, LOGGED_EXAMPLES),
          firstSlowBatches: found.slowBatches.slice(0, LOGGED_EXAMPLES),
        },
      };
    });
  };
}
