/**
 * Event time at the door: the feature state is built for events that happened, and one dated
 * ahead would count against every request scored before its time. Clocks run a little ahead,
 * so a small skew is allowed.
 */
import { ValidationError } from './errors';
import type { TransactionEvent } from './types';

/** Default allowance for clocks running ahead of ours. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;

/**
 * Refuses events dated after `now + maxSkewMs` with 400 `EVENT_IN_FUTURE`, naming the first
 * offending field (`timestamp`, or `transactionTimestamp` of a label; prefixed with
 * `events.<i>.` in a batch).
 */
export function checkEventTimes(
  events: readonly TransactionEvent[],
  batch: boolean,
  now: number,
  maxSkewMs: number,
): void {
  const limit = now + maxSkewMs;
  events.forEach((event, i) => {
    const fields: [string, string][] = [['timestamp', event.timestamp]];
    if (event.type === 'label') fields.push(['transactionTimestamp', event.transactionTimestamp]);
    for (const [name, value] of fields) {
      if (Date.parse(value) > limit) {
        throw new ValidationError(
          'EVENT_IN_FUTURE',
          `${name} is more than ${Math.round(maxSkewMs / 1000)} s ahead of the server clock`,
          batch ? `events.${i}.${name}` : name,
        );
      }
    }
  });
}
