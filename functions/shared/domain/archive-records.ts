/**
 * The one check of an archived line's record, shared by every reader of the archive (the S3
 * reader, the local file reader, `events:export`): a parsed JSON value either is the record the
 * reader wants, with the fields it reads typed as the writer wrote them, or it is damage to be
 * counted and skipped. The rules are the contract's (`contract.ts`): a record is only ever
 * built from an accepted request or event, so a line that breaks them was not written by us
 * whole, and a reader that took it would publish figures of something else.
 */

import type { EventRecord } from './archive';
import { isContractId, TIMESTAMP_PATTERN } from './contract';
import type { ArchivedAnswer, ArchivedLabel } from './monitoring/calibration';
import { LABELS } from './types';

/** A label with the time of the transaction it judges (the join's window is on that time). */
export type ArchivedLabelWithTime = ArchivedLabel & { readonly transactionTimestamp: string };

const isTime = (value: unknown): value is string =>
  typeof value === 'string' && TIMESTAMP_PATTERN.test(value);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An answer's fields the join reads, or undefined when the record is not a valid score record:
 * `kind` `score`, a contract transaction id, an ISO `eventTime`, string `modelVersion` and
 * `segment`, and a `score` that is null (rules-only) or a finite number in [0, 1].
 *
 * @param intern - shares repeated strings (segments, versions) across millions of answers
 */
export function answerOf(
  record: unknown,
  intern: (value: string) => string = (v) => v,
): ArchivedAnswer | undefined {
  if (
    !isObject(record) ||
    record.kind !== 'score' ||
    !isContractId(record.transactionId) ||
    !isTime(record.eventTime) ||
    typeof record.modelVersion !== 'string' ||
    typeof record.segment !== 'string'
  )
    return undefined;
  const score = record.score;
  if (!(score === null || (typeof score === 'number' && score >= 0 && score <= 1))) return undefined;
  // A new object of five fields: the rest of the record (reasons, ids) is not kept in memory.
  return {
    transactionId: record.transactionId,
    eventTime: record.eventTime,
    modelVersion: intern(record.modelVersion),
    score,
    segment: intern(record.segment),
  };
}

/**
 * A label event's fields; `null` for a valid event record that is not a label; undefined when
 * the record is not a valid event record, or is a label without a contract transaction id, one
 * of the contract's `label`s and an ISO `transactionTimestamp`.
 */
export function labelOf(record: unknown): ArchivedLabelWithTime | null | undefined {
  if (!isObject(record) || record.kind !== 'event') return undefined;
  const event = record.event;
  if (!isObject(event) || typeof event.type !== 'string') return undefined;
  if (event.type !== 'label') return null;
  if (
    !isContractId(event.transactionId) ||
    !(LABELS as readonly unknown[]).includes(event.label) ||
    !isTime(event.transactionTimestamp)
  )
    return undefined;
  return {
    transactionId: event.transactionId,
    label: event.label as string,
    transactionTimestamp: event.transactionTimestamp,
  };
}

/**
 * An event record `events:export` can place and deduplicate (a contract `eventId`, an ISO
 * `timestamp`), or undefined. The rest of the body is passed through as archived.
 */
export function exportableEventOf(record: unknown): EventRecord | undefined {
  if (!isObject(record) || record.kind !== 'event') return undefined;
  const event = record.event;
  if (!isObject(event) || !isContractId(event.eventId) || !isTime(event.timestamp)) return undefined;
  return record as unknown as EventRecord;
}
