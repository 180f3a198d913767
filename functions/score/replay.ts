/**
 * The replay protocol of the pre-traffic hook: a direct invocation `{kind: 'replay', cases}`
 * carries stored feature vectors; the new version answers its model's scores. Only reachable by
 * direct invocation (API Gateway events never carry `kind`), which IAM grants to the hook alone.
 */
import { z } from 'zod';
import { ModelUnavailableError } from '#domain/errors';
import type { ModelRunner } from '#domain/ports';

const replaySchema = z.strictObject({
  kind: z.literal('replay'),
  cases: z
    .array(z.strictObject({ features: z.array(z.number()) }))
    .min(1)
    .max(512),
});

/** Direct-invoke payload of the pre-traffic hook: feature vectors in, the model's scores out. */
export type ReplayRequest = z.infer<typeof replaySchema>;
export interface ReplayResponse {
  model: { name: string; version: string };
  scores: number[];
  durationMs: number;
}

export function isReplayRequest(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { kind?: unknown }).kind === 'replay';
}

/**
 * Scores the replay set's stored feature vectors with the loaded model. Throws when the model
 * is unavailable, so the hook fails the deployment instead of passing a rules-only version.
 */
export function createReplayHandler(model: ModelRunner | undefined) {
  return async function replayHandler(event: unknown): Promise<ReplayResponse> {
    if (!model) throw new ModelUnavailableError('model unavailable: this version cannot score');
    const request = replaySchema.parse(event);
    const started = performance.now();
    const scores = await model.score(request.cases.map((c) => c.features));
    return { model: model.model, scores, durationMs: performance.now() - started };
  };
}
