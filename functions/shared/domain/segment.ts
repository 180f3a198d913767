/**
 * Segments: the low-cardinality slices that every per-segment figure uses (the canary judge's
 * decision mix, the backtest report, the answer archive, the calibration monitor), so that a
 * segment means the same thing everywhere. channel × amount band × new/known card = 4 × 3 × 2 =
 * 24 series, small enough for CloudWatch dimensions.
 *
 * Amount bands are in minor units of whatever currency the request carries: a stack serving
 * several currencies with very different unit values should convert before banding.
 */
import { CHANNELS, type Channel } from './types';

/** Upper bounds (exclusive, minor units) of the amount bands but the last. */
export const AMOUNT_BAND_LIMITS = [5_000, 50_000] as const;
export const AMOUNT_BANDS = ['low', 'mid', 'high'] as const;
export type AmountBand = (typeof AMOUNT_BANDS)[number];

/** `known`: the card has history in the feature store; `new`: it does not. */
export const CARD_HISTORIES = ['new', 'known'] as const;
export type CardHistory = (typeof CARD_HISTORIES)[number];

export interface Segment {
  readonly channel: Channel;
  readonly amountBand: AmountBand;
  readonly cardHistory: CardHistory;
}

export function amountBand(amountMinor: number): AmountBand {
  if (amountMinor < AMOUNT_BAND_LIMITS[0]) return 'low';
  if (amountMinor < AMOUNT_BAND_LIMITS[1]) return 'mid';
  return 'high';
}

/** The segment of one authorization; `cardFound` is whether the card had stored history. */
export function segmentOf(request: { channel: Channel; amount: number }, cardFound: boolean): Segment {
  return {
    channel: request.channel,
    amountBand: amountBand(request.amount),
    cardHistory: cardFound ? 'known' : 'new',
  };
}

/** Stable one-string key, e.g. `ecommerce.high.new` (a metric dimension value, a report row). */
export function segmentKey(segment: Segment): string {
  return `${segment.channel}.${segment.amountBand}.${segment.cardHistory}`;
}

/** Every segment key, in a fixed order (report rows, dashboards). */
export const SEGMENT_KEYS: readonly string[] = CHANNELS.flatMap((channel) =>
  AMOUNT_BANDS.flatMap((band) => CARD_HISTORIES.map((history) => `${channel}.${band}.${history}`)),
);
