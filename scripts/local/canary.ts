/**
 * Canary routing on the local stack, as a Lambda alias with a routing configuration does it:
 * two versions of the score function behind one route, each request going to the canary with
 * the configured weight, each version publishing its metrics under its own `functionVersion`
 * (`1` the baseline, `2` the canary) and `modelVersion`. A version is what Lambda would deploy:
 * a model directory and a policy file.
 *
 * `--canary DIR_OR_VERSION:PERCENT` names the canary:
 * - a model directory (`model.onnx` + `model.json`): that model, with the baseline's policy;
 * - a directory holding a `policy.json` (and optionally `model.onnx` + `model.json`): that
 *   policy, with its own model if it has one, else the baseline's;
 * - a bare version (`1.1.0`): the baseline model's sibling directory `models/<name>/1.1.0`;
 * and `--canary-policy FILE` sets the canary's policy whatever the directory holds.
 *
 * Routing hashes the request body instead of drawing at random (AWS draws per invocation): the
 * share is the same, a retried request reaches the version that answered it first, and a run
 * over the same traffic routes the same way twice.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

/** The function versions the local alias routes between. */
export const BASELINE_FUNCTION_VERSION = '1';
export const CANARY_FUNCTION_VERSION = '2';

/** What the canary serves and how much traffic it gets. */
export interface CanarySpec {
  /** Model directory (`model.onnx` + `model.json`). */
  readonly modelDir: string;
  /** Decision policy file. */
  readonly policyPath: string;
  /** Share of requests routed to the canary, in (0, 1). */
  readonly weight: number;
}

/** A refused `--canary` value; the message says what is wrong. */
export class CanarySpecError extends Error {
  override readonly name = 'CanarySpecError';
}

const isModelDir = (dir: string) =>
  existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'model.onnx'));
const isDirectory = (path: string) => existsSync(path) && statSync(path).isDirectory();

/**
 * Parses `DIR_OR_VERSION:PERCENT` against the baseline (see the module comment).
 * @throws CanarySpecError naming the problem
 */
export function parseCanarySpec(
  spec: string,
  baseline: { readonly modelDir: string; readonly policyPath: string },
  policyOverride?: string,
): CanarySpec {
  const colon = spec.lastIndexOf(':');
  if (colon <= 0)
    throw new CanarySpecError(`--canary must be DIR_OR_VERSION:PERCENT, got ${JSON.stringify(spec)}`);
  const target = spec.slice(0, colon);
  const percentText = spec.slice(colon + 1);
  const percent = Number(percentText);
  if (percentText.trim() === '' || !Number.isFinite(percent) || percent <= 0 || percent >= 100)
    throw new CanarySpecError(
      `--canary percent must be a number in (0, 100), got ${JSON.stringify(percentText)}`,
    );
  let modelDir = baseline.modelDir;
  let policyPath = baseline.policyPath;
  if (isDirectory(target)) {
    const dir = resolve(target);
    const hasPolicy = existsSync(join(dir, 'policy.json'));
    if (isModelDir(dir)) modelDir = dir;
    else if (!hasPolicy)
      throw new CanarySpecError(`--canary ${target}: holds neither model.onnx + model.json nor policy.json`);
    if (hasPolicy) policyPath = join(dir, 'policy.json');
  } else if (/^[\w.-]+$/.test(target) && isModelDir(join(dirname(baseline.modelDir), target))) {
    modelDir = join(dirname(baseline.modelDir), target);
  } else {
    throw new CanarySpecError(
      `--canary ${target}: not a directory, nor a version of ${dirname(baseline.modelDir)}`,
    );
  }
  if (policyOverride !== undefined) {
    if (!existsSync(policyOverride))
      throw new CanarySpecError(`--canary-policy ${policyOverride} does not exist`);
    policyPath = resolve(policyOverride);
  }
  return { modelDir, policyPath, weight: percent / 100 };
}

/**
 * Where in [0, 1) a request falls: FNV-1a over the body, finished with MurmurHash3's mixer so
 * that bodies differing in one character spread over the whole range.
 */
export function routingPoint(body: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) {
    hash ^= body.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 2 ** 32;
}

type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** One handler that sends a `weight` share of requests to `canary`, the rest to `baseline`. */
export function weightedRoute(baseline: LambdaHandler, canary: LambdaHandler, weight: number): LambdaHandler {
  if (!(weight > 0 && weight < 1)) throw new RangeError(`canary weight must be in (0, 1), got ${weight}`);
  return function canaryAlias(event, context) {
    return routingPoint(event.body ?? '') < weight ? canary(event, context) : baseline(event, context);
  };
}

/** One side of the routing, as the judge needs it. */
export interface RoutedVersion {
  readonly functionVersion: string;
  readonly modelVersion: string;
  readonly modelDir: string;
  readonly policyPath: string;
}

/**
 * The routing state file (`<metrics dir>/routing.json`): which versions serve, since when, at
 * which weight. `npm run canary:judge` reads it to find the versions and the window.
 */
export interface CanaryRouting {
  /** ISO time the two versions started serving: the judged window starts here. */
  readonly startedAt: string;
  readonly stage: string;
  readonly weight: number;
  readonly baseline: RoutedVersion;
  readonly canary: RoutedVersion;
}

export const ROUTING_FILE = 'routing.json';

/** The version a model directory's card names. */
export function modelVersionOf(modelDir: string): string {
  const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as { version?: unknown };
  if (typeof card.version !== 'string') throw new CanarySpecError(`${modelDir}/model.json has no version`);
  return card.version;
}

/** The routing of a baseline and a canary starting now. */
export function canaryRouting(
  stage: string,
  baseline: { readonly modelDir: string; readonly policyPath: string },
  canary: CanarySpec,
  startedAt = new Date(),
): CanaryRouting {
  return {
    startedAt: startedAt.toISOString(),
    stage,
    weight: canary.weight,
    baseline: {
      functionVersion: BASELINE_FUNCTION_VERSION,
      modelVersion: modelVersionOf(baseline.modelDir),
      modelDir: baseline.modelDir,
      policyPath: baseline.policyPath,
    },
    canary: {
      functionVersion: CANARY_FUNCTION_VERSION,
      modelVersion: modelVersionOf(canary.modelDir),
      modelDir: canary.modelDir,
      policyPath: canary.policyPath,
    },
  };
}

export function writeRouting(metricsDir: string, routing: CanaryRouting): string {
  const path = join(metricsDir, ROUTING_FILE);
  mkdirSync(metricsDir, { recursive: true });
  writeFileSync(path, `${JSON.stringify(routing, null, 2)}\n`);
  return path;
}

/** @throws Error when the file is missing or is not a routing state */
export function readRouting(metricsDir: string): CanaryRouting {
  const path = join(metricsDir, ROUTING_FILE);
  if (!existsSync(path)) throw new Error(`${path} not found: start the stack with npm start -- --canary …`);
  const routing = JSON.parse(readFileSync(path, 'utf8')) as CanaryRouting;
  for (const side of [routing.baseline, routing.canary]) {
    if (typeof side?.functionVersion !== 'string' || typeof side.modelVersion !== 'string')
      throw new Error(`${path}: baseline and canary need functionVersion and modelVersion`);
  }
  if (Number.isNaN(Date.parse(routing.startedAt))) throw new Error(`${path}: startedAt is not a time`);
  return routing;
}
