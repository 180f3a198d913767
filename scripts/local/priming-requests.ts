/**
 * The requests a stack is primed with (`prime.ts`), built in the primary: the worker side does
 * not load the simulator or the training code.
 */
import type { AuthorizationEvent, TransactionEvent } from '#domain/types';
import { requestOf } from '../../models/training/export-features';
import type { PrimingRequest } from './prime';
import { PRIMING_CARDS, PRIMING_ID_PREFIX, PRIMING_MERCHANTS } from './priming-ids';

/**
 * The first `count` authorizations of a stream dated after `now`, restamped to `now` and
 * renamed `prime-<id>`: the seeded population's cards, merchants and habits, as a real run
 * would send them, without any event that a later run will send under its own id. The score
 * requests read the seeded cards; the events reported after them are moved to priming cards
 * and merchants (`prime_card_*`, `prime_merchant_*`), since they go through the real queue and
 * feature updater, and the stack deletes what they wrote afterwards (`primingEventKeys`).
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
      eventId: `${PRIMING_ID_PREFIX}${plain.eventId}`,
      transactionId: `${PRIMING_ID_PREFIX}${plain.transactionId}`,
      timestamp,
    };
    const index = requests.length;
    requests.push({
      score: requestOf(event),
      event: {
        ...event,
        cardId: `prime_card_${index % PRIMING_CARDS}`,
        merchantId: `prime_merchant_${index % PRIMING_MERCHANTS}`,
      },
    });
  }
  return requests;
}
