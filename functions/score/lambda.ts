/**
 * Lambda entry (bundled as ESM): top-level await makes the ONNX session, the warm-up
 * inference and the policy load part of the init phase, which provisioned concurrency pays
 * for before any request arrives.
 */
import { loadScoreConfig } from './config';
import { createScoreFunction } from './index';

const { dispatch } = await createScoreFunction(loadScoreConfig());

/** API Gateway proxy events, and the pre-traffic hook's direct `{kind: 'replay'}` invocations. */
export const handler = dispatch;
