/**
 * The prefix of every priming request's transaction and event id (`priming-requests.ts` names
 * them, the front worker recognizes them): the answers they store are `answer#prime-…`, and the
 * archive leaves them out.
 */
export const PRIMING_ID_PREFIX = 'prime-';
/**
 * Cards and merchants the priming events are applied to (`prime_card_<n>`, `prime_merchant_<n>`),
 * outside the seeded population: several events per card, as a stream has. Their items are
 * deleted after priming.
 */
export const PRIMING_CARDS = 100;
export const PRIMING_MERCHANTS = 20;
