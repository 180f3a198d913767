/**
 * The requests a stack is primed with (`prime.ts`), built in the primary: the worker side does
 * not load the simulator or the training code.
 */
import type { AuthorizationEvent, TransactionEvent } from '#domain/types';
import { requestOf } from '../../models/training/export-features';
import type { PrimingRequest } from './prime';

/**
 * The first `count` authorizations of a stream dated after `now`, restamped to `now` and
 * renamed `prime-<id>`: the seeded population's cards, merchants and habits, as a real run
 * would send them, without any event that a later run will send under its own id.
 */
export function primingRequests(
  stream: Iterable<TransactionEvent & { sim?: unknown }>,
  now: number,
  count: number,
): PrimingRequest[] {
  const timestamp = new Date(now).toISOString();
  const requests: PrimingRequest[] = [];
  for (const candidate of stream) {
    if (requests.length >= count) break;
    if (candidate.type !== 'authorization' || Date.parse(candidate.timestamp) <= now) continue;
    const { sim: _truth, ...plain } = candidate as AuthorizationEvent & { sim?: unknown };
    const event: AuthorizationEvent = {
      ...plain,
      eventId: `prime-${plain.eventId}`,
      transactionId: `prime-${plain.transactionId}`,
      timestamp,
    };
    requests.push({ score: requestOf(event), event });
  }
  return requests;
}
