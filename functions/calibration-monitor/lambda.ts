/** Lambda entry of the daily calibration monitor (EventBridge schedule). */
import { loadCalibrationConfig } from './config';
import { createCalibrationMonitor } from './index';

export const handler = createCalibrationMonitor(loadCalibrationConfig());
