/**
 * Lambda entry (bundled as ESM): top-level await makes the ONNX session, the warm-up
 * inference and the policy load part of the init phase, which provisioned concurrency pays
 * for before any request arrives.
 */
import { loadScoreConfig } from './config';
import { initScoreHandler } from './handler';

const { handler: scoreHandler } = await initScoreHandler(loadScoreConfig());

export const handler = scoreHandler;
