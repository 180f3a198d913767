/** Lambda entry of the hourly drift monitor (EventBridge schedule). */
import { loadDriftConfig } from './config';
import { createDriftMonitor } from './index';

export const handler = createDriftMonitor(loadDriftConfig());
