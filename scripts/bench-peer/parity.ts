/**
 * The parity check `npm run bench:peer` runs before measuring anything: the peer's features
 * equal the project's `featureVector` on every check request, and the stack's score equals
 * fraud-gbdt on that same vector (so both stores hold the same state).
 */
import { OnnxModelRunner } from '#adapters/onnx-model-runner';
import { FEATURE_NAMES } from '#domain/features';
import type { ScoreRequest } from '#domain/types';
import { DEFAULT_MODEL_DIR } from '../local/app';
import { expectedFeatures, type SeededState } from './population';

export interface ParityReport {
  cases: number;
  values: number;
  exact: number;
  /** Values that differ by at most one unit in the last place (libm vs V8 `log1p`). */
  ulp: number;
  mismatches: string[];
  stackScores: number;
  stackMismatches: string[];
  /** Answers asked again because they came back degraded (feature read over budget). */
  retries: number;
}

/** Largest gap counted as "one ulp" between two doubles of this size. */
function withinUlp(a: number, b: number): boolean {
  return Math.abs(a - b) <= Number.EPSILON * Math.max(1, Math.abs(a), Math.abs(b));
}

async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/**
 * Posts until an answer is not degraded (at most 3 tries, a fresh transaction id each): on a
 * busy machine the stack's 60 ms feature budget can run out, and a default-feature answer
 * says nothing about parity. Every retry is counted in the report.
 */
async function undegraded(
  url: string,
  request: ScoreRequest,
  onRetry: () => void,
): Promise<{ status: number; json: Record<string, unknown> }> {
  let answer = await postJson(url, request);
  for (let attempt = 1; attempt < 3; attempt += 1) {
    const degraded = answer.json.degraded;
    if (answer.status !== 200 || (Array.isArray(degraded) && degraded.length === 0)) break;
    onRetry();
    answer = await postJson(url, { ...request, transactionId: `${request.transactionId}-retry${attempt}` });
  }
  return answer;
}

/** Peer features vs the project's `featureVector`; stack score vs fraud-gbdt on that vector. */
export async function checkParity(
  cases: ScoreRequest[],
  state: SeededState,
  peerUrl: string,
  stackUrl: string,
  run: string,
): Promise<ParityReport> {
  const model = await OnnxModelRunner.load(DEFAULT_MODEL_DIR);
  const report: ParityReport = {
    cases: cases.length,
    values: 0,
    exact: 0,
    ulp: 0,
    mismatches: [],
    stackScores: 0,
    stackMismatches: [],
    retries: 0,
  };
  const retried = () => {
    report.retries += 1;
  };
  const describe = (answer: { status: number; json: unknown }) =>
    `${answer.status} ${JSON.stringify(answer.json).slice(0, 200)}`;
  for (const [i, template] of cases.entries()) {
    const request = { ...template, transactionId: `${run}-parity-${i}` };
    const expected = expectedFeatures(state, request);
    const peer = await undegraded(`${peerUrl}/v1/features`, request, retried);
    const got = peer.json.features as number[] | undefined;
    if (peer.status !== 200 || !Array.isArray(got) || got.length !== expected.length) {
      report.mismatches.push(`case ${i}: peer answered ${describe(peer)}`);
      continue;
    }
    if ((peer.json.degraded as unknown[]).length > 0) {
      report.mismatches.push(`case ${i}: peer features degraded 3 times: ${describe(peer)}`);
      continue;
    }
    expected.forEach((value, k) => {
      report.values += 1;
      const other = got[k] as number;
      if (other === value) report.exact += 1;
      else if (withinUlp(value, other)) report.ulp += 1;
      else
        report.mismatches.push(
          `case ${i} (${request.cardId}, ${request.merchantId}): ${FEATURE_NAMES[k]} = ${other}, expected ${value}`,
        );
    });
    const peerScore = await undegraded(`${peerUrl}/v1/score`, request, retried);
    const score = peerScore.json.score;
    if (peerScore.status !== 200 || typeof score !== 'number' || score < 0 || score > 1) {
      report.mismatches.push(`case ${i}: peer /v1/score answered ${describe(peerScore)}`);
    }
    const [want] = await model.score([expected]);
    const stack = await undegraded(`${stackUrl}/v1/score`, request, retried);
    report.stackScores += 1;
    const stackScore = stack.json.score;
    if (
      stack.status !== 200 ||
      typeof stackScore !== 'number' ||
      Math.abs(stackScore - (want as number)) > 2e-6
    ) {
      report.stackMismatches.push(
        `case ${i} (${request.cardId}): stack answered ${describe(stack)}; fraud-gbdt on the expected features gives ${want}`,
      );
    }
  }
  return report;
}

/** The check cases: the first requests of the mix, plus an unknown card, an unknown merchant, no device and a new device. */
export function parityCases(mix: ScoreRequest[], count: number): ScoreRequest[] {
  const plain = mix.slice(0, count);
  const [a, b, c, d] = mix.slice(count, count + 4) as [
    ScoreRequest,
    ScoreRequest,
    ScoreRequest,
    ScoreRequest,
  ];
  const { deviceId: _dropped, ...noDevice } = c;
  return [
    ...plain,
    { ...a, cardId: 'card_bench_unknown' },
    { ...b, merchantId: 'm_bench_unknown' },
    noDevice,
    { ...d, deviceId: 'dev-bench-new' },
  ];
}
