import { type ArchiveConfig, loadArchiveConfig } from '#shared/archive-wiring';
import { type Env, readNumber, readString } from '#shared/config';

/** Settings of the events function, read once at init. */
export interface EventsConfig {
  readonly stage: string;
  /** The SQS queue the feature updater consumes (`EVENTS_QUEUE_URL`). */
  readonly queueUrl: string;
  /**
   * How far in the future an event's time may be, for clocks running ahead
   * (`EVENT_MAX_FUTURE_SKEW_SECONDS`, default 300). Later events are refused with 400
   * `EVENT_IN_FUTURE`: they would count against requests that precede them.
   */
  readonly maxFutureSkewMs: number;
  /** Where accepted events are archived (`ARCHIVE_STREAM_NAME` or `ARCHIVE_DIR`); off when unset. */
  readonly archive?: ArchiveConfig;
}

export function loadEventsConfig(env: Env = process.env): EventsConfig {
  return Object.freeze({
    stage: readString(env, 'STAGE', 'dev'),
    queueUrl: readString(env, 'EVENTS_QUEUE_URL'),
    maxFutureSkewMs: readNumber(env, 'EVENT_MAX_FUTURE_SKEW_SECONDS', 300, { min: 0 }) * 1000,
    archive: loadArchiveConfig(env),
  });
}
