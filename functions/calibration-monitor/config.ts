import { isArchiveBucketPrefix } from '#domain/archive';
import { ConfigError } from '#domain/errors';
import { type Env, readNumber, readOptionalString, readString } from '#shared/config';

/** Settings of the calibration monitor, read once at init. */
export interface CalibrationConfig {
  stage: string;
  /** The model card of the live model (thresholds and the recall the card promises). */
  modelCardPath: string;
  /** Root of the archive's local layout (`<root>/score/dt=…/`, `<root>/event/type=label/dt=…/`), read when no bucket is set. */
  archiveDir: string;
  /** The archive bucket in AWS; when set, the monitor reads S3 instead of `archiveDir`. */
  archiveBucket?: string;
  /** Key prefix of the archive inside the bucket (`''`: `score/`, `event/` at the top). */
  archivePrefix: string;
  /** Labels (chargebacks) arrive weeks late: transactions younger than this are not judged. */
  maturityDays: number;
  /** Days of matured transactions each run judges. */
  spanDays: number;
  /** Equal-mass bins of the ECE. */
  eceBins: number;
  /** A segment with fewer labelled answers publishes no figures. */
  minAnswersPerSegment: number;
}

export function loadCalibrationConfig(env: Env = process.env): Readonly<CalibrationConfig> {
  return Object.freeze({
    stage: readString(env, 'STAGE', 'local'),
    modelCardPath: readString(env, 'MODEL_CARD_PATH', 'model/model.json'),
    archiveDir: readString(env, 'ARCHIVE_DIR', '.local-data/archive'),
    archiveBucket: readOptionalString(env, 'ARCHIVE_BUCKET'),
    archivePrefix: readArchivePrefix(env),
    maturityDays: readNumber(env, 'CALIBRATION_MATURITY_DAYS', 45, { min: 0, max: 365 }),
    spanDays: readNumber(env, 'CALIBRATION_SPAN_DAYS', 7, { min: 1, max: 90 }),
    eceBins: readNumber(env, 'CALIBRATION_ECE_BINS', 10, { min: 2, max: 100 }),
    minAnswersPerSegment: readNumber(env, 'CALIBRATION_MIN_SEGMENT_ANSWERS', 1000, { min: 1 }),
  });
}

/** `ARCHIVE_PREFIX`: empty, or a folder (`archive/`) — without the slash every key would miss. */
function readArchivePrefix(env: Env): string {
  const prefix = readOptionalString(env, 'ARCHIVE_PREFIX') ?? '';
  if (!isArchiveBucketPrefix(prefix))
    throw new ConfigError(`ARCHIVE_PREFIX must end with "/", got "${prefix}"`);
  return prefix;
}
