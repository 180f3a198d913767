import { type Env, readString } from '#shared/config';

/** Settings of the events function, read once at init. */
export interface EventsConfig {
  readonly stage: string;
  /** The SQS queue that feeds the feature updater. */
  readonly queueUrl: string;
}

export function loadEventsConfig(env: Env = process.env): EventsConfig {
  return Object.freeze({
    stage: readString(env, 'STAGE', 'dev'),
    queueUrl: readString(env, 'EVENTS_QUEUE_URL'),
  });
}
