import { type Env, readNumber, readString } from '#shared/config';

/** Settings of the drift monitor, read once at init. */
export interface DriftConfig {
  stage: string;
  region: string;
  /** The model card of the live model (bundled next to the handler). */
  modelCardPath: string;
  /** Minutes of live traffic each run compares (ending `lagMinutes` ago). */
  windowMinutes: number;
  /** CloudWatch needs a few minutes to aggregate EMF; the window ends this long ago. */
  lagMinutes: number;
  /** Below this many live values in the window no PSI is published. */
  minSamples: number;
}

export function loadDriftConfig(env: Env = process.env): Readonly<DriftConfig> {
  return Object.freeze({
    stage: readString(env, 'STAGE', 'local'),
    region: readString(env, 'AWS_REGION', 'us-east-1'),
    modelCardPath: readString(env, 'MODEL_CARD_PATH', 'model/model.json'),
    windowMinutes: readNumber(env, 'DRIFT_WINDOW_MINUTES', 60, { min: 5, max: 1440 }),
    lagMinutes: readNumber(env, 'DRIFT_LAG_MINUTES', 5, { min: 0, max: 60 }),
    minSamples: readNumber(env, 'DRIFT_MIN_SAMPLES', 500, { min: 1 }),
  });
}
