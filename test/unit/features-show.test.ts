/** The on-call decoder of feature items (`npm run features:show`). */
import { toItem } from '#adapters/attribute-values';
import { cardToAttributes, merchantToAttributes } from '#adapters/feature-items';
import { applyEvent, type CardState, type FeatureState, type MerchantState } from '#domain/features';
import type { AuthorizationEvent } from '#domain/types';
import { describeItem, formatDescription, plainItem } from '../../scripts/features-show';
import { authorizationEvent } from '../support/events';

const T0 = Date.parse('2026-11-20T10:07:00.000Z');
const event = (i: number): AuthorizationEvent =>
  authorizationEvent({
    eventId: `e${i}`,
    transactionId: `t${i}`,
    cardId: 'c',
    merchantId: 'm;1',
    amount: 1000 + i,
    timestamp: new Date(T0 + i * 60_000).toISOString(),
  });

describe('features:show', () => {
  const state = [0, 1, 2].map(event).reduce<FeatureState>((s, e) => applyEvent(s, e), {});

  it('shows a compact card item, pasted as DynamoDB JSON, with times as ISO strings', () => {
    // prepare
    const pasted = JSON.parse(
      JSON.stringify(toItem({ pk: 'card#c', v: 1, ...cardToAttributes(state.card as CardState) })),
    );
    // act
    const shown = describeItem(plainItem(pasted));
    // assert
    expect(shown['total [count, amount]']).toEqual([3, 3003]);
    expect(shown['h1 [start, count, amount]']).toEqual([['2026-11-20T10:00:00.000Z', 3, 3003]]);
    expect(shown['merchants [id, last use, use before]']).toEqual([
      ['m;1', '2026-11-20T10:09:00.000Z', '2026-11-20T10:08:00.000Z'],
    ]);
    expect(shown.recent).toEqual(['10:07', '10:08', '10:09'].map((t) => `2026-11-20T${t}:00.000Z`));
    expect(formatDescription(shown)).toContain(
      'm5 [start, count, amount]: 1\n  ["2026-11-20T10:05:00.000Z",3,3003]',
    );
  });

  it('shows a merchant item with its fraud label column', () => {
    // prepare
    const item = { pk: 'merchant#m;1', ...merchantToAttributes(state.merchant as MerchantState) };
    // act
    const shown = describeItem(plainItem(item));
    // assert
    expect(shown['d1 [start, count, amount, fraud labels]']).toEqual([
      ['2026-11-20T00:00:00.000Z', 3, 3003, 0],
    ]);
  });
});
