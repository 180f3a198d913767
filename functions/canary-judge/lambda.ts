/** Lambda entry of the canary judge (EventBridge schedule, every minute). */
import { loadCanaryJudgeConfig } from './config';
import { createCanaryJudge } from './index';

export const handler = createCanaryJudge(loadCanaryJudgeConfig());
