/**
 * `npm run monitor:calibration`: the daily calibration run over the local stack's archive
 * (`.local-data/archive/`), printing the report. Settings as in AWS (`CALIBRATION_*`), with the
 * committed model card unless `MODEL_CARD_PATH` says otherwise; `CALIBRATION_MATURITY_DAYS=0`
 * judges today's traffic (labels posted right after scoring, as the simulator can).
 */
import { join } from 'node:path';
import { loadCalibrationConfig } from '../functions/calibration-monitor/config';
import { createCalibrationMonitor } from '../functions/calibration-monitor/index';
import { DEFAULT_MODEL_DIR, ROOT } from './local/app';

process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const config = loadCalibrationConfig({
  MODEL_CARD_PATH: join(DEFAULT_MODEL_DIR, 'model.json'),
  ARCHIVE_DIR: join(ROOT, '.local-data', 'archive'),
  ...process.env,
});
createCalibrationMonitor(config)().then(
  (report) => process.stdout.write(`${JSON.stringify(report, null, 2)}\n`),
  (error: unknown) => {
    process.stderr.write(`calibration monitor: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
