/** Lambda entry for the SQS-triggered feature updater. */
import { loadUpdaterConfig } from './config';
import { createUpdaterFunction } from './index';

export const { handler } = createUpdaterFunction(loadUpdaterConfig());
