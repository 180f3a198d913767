/**
 * Priming the feature updater before the local stack serves: the instance that will apply the
 * real events first applies `count` authorizations of its own, one SQS batch of one event at a
 * time (the shape of a stream the updater keeps up with), on cards and merchants that are not
 * in the seeded population (`prime_card_u*`, `prime_merchant_u*`), through the same dynalite lane.
 * The stack builds the events, has the updater process apply them, then deletes every item they
 * wrote: the cards, the merchants and their applied-markers, all known by key, so the feature
 * table holds exactly what it held before.
 *
 * Why: the workers are primed (`prime.ts`), the updater was not. At 50 payments/s on a fresh stack
 * it spent 40–44 % of a core in the run's first seconds against 22–23 % later, for the same
 * requests (docs/performance.md, "The first seconds"), on the two cores the answers need.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { appliedMarkerKey } from '#adapters/feature-items';
import type { AuthorizationEvent } from '#domain/types';
import { cardKey, merchantKey } from '#shared/table-schema';
import type { createUpdaterFunction } from '../../functions/feature-updater/index';
import { lambdaContext } from './api-gateway';
import { PRIMING_CARDS, PRIMING_ID_PREFIX, PRIMING_MERCHANTS } from './priming-ids';

const MCCS = ['5411', '5812', '5999', '4111', '5732'] as const;
const CHANNELS = ['card_present', 'ecommerce', 'contactless', 'moto'] as const;

/** What priming the updater did, for the stack's output. */
export interface UpdaterPriming {
  readonly events: number;
  /** Events the updater reported as failed (a priming batch that failed is not retried). */
  readonly failed: number;
  /** Items deleted afterwards (cards, merchants and markers). */
  readonly removed: number;
  readonly ms: number;
}

/** The `count` priming events, one second apart, ending at `now`. */
export function updaterPrimingEvents(count: number, now: number): AuthorizationEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 'authorization',
    eventId: `${PRIMING_ID_PREFIX}updater-${now}-${i}`,
    transactionId: `${PRIMING_ID_PREFIX}updater-${now}-${i}`,
    cardId: `prime_card_u${i % PRIMING_CARDS}`,
    merchantId: `prime_merchant_u${(i * 7) % PRIMING_MERCHANTS}`,
    mcc: MCCS[i % MCCS.length] as string,
    amount: 500 + ((i * 7919) % 25_000),
    currency: 'EUR',
    country: i % 11 === 0 ? 'FR' : 'DE',
    channel: CHANNELS[i % CHANNELS.length] as AuthorizationEvent['channel'],
    timestamp: new Date(now - (count - i) * 1000).toISOString(),
    outcome: i % 17 === 0 ? 'declined' : 'approved',
  }));
}

/**
 * Every key priming events can have written (the updater's own and the workers'): their card and
 * merchant items and each item's marker per event.
 */
export function primingEventKeys(
  events: readonly Pick<AuthorizationEvent, 'cardId' | 'merchantId' | 'eventId'>[],
): string[] {
  const keys = new Set<string>();
  for (const event of events) {
    for (const pk of [cardKey(event.cardId), merchantKey(event.merchantId)]) {
      keys.add(pk);
      keys.add(appliedMarkerKey(pk, event.eventId));
    }
  }
  return [...keys];
}

/** A one-record SQS batch, as the local queue delivers it. */
function batchOf(event: AuthorizationEvent, i: number): SQSEvent {
  const record = {
    messageId: `${PRIMING_ID_PREFIX}${i}`,
    body: JSON.stringify(event),
    attributes: { ApproximateReceiveCount: '1' },
  } as unknown as SQSRecord;
  return { Records: [record] };
}

/**
 * Applies `events` through `updater`, one single-event batch at a time, in the updater process
 * (`POST /prime`); the stack deletes what they wrote afterwards (`app.ts`, `primeUpdater`).
 * Resolves with the number of events the updater reported as failed.
 */
export async function applyPrimingEvents(
  updater: Pick<ReturnType<typeof createUpdaterFunction>, 'handler'>,
  events: readonly AuthorizationEvent[],
): Promise<number> {
  let failed = 0;
  for (const [i, event] of events.entries()) {
    const answer = await updater.handler(batchOf(event, i), lambdaContext('feature-updater', 30_000));
    failed += answer.batchItemFailures.length;
  }
  return failed;
}
