/**
 * Labels of the simulated stream: which authorizations get one (chargebacks, confirmed fraud,
 * confirmed legitimate) and after what delay, and the min-heap that releases them in time order.
 */
import type { Label, LabelEvent } from '#domain/types';
import type { DraftAuthorization } from './simulation-legit';
import { DAY, HOUR, MINUTE, normal, type Rng, uniform } from './simulation-model';

export interface PendingLabel {
  ms: number;
  seq: number;
  event: LabelEvent;
}

/** Binary min-heap on (ms, seq); seq keeps equal-time labels in creation order, deterministically. */
export class LabelHeap {
  private readonly items: PendingLabel[] = [];

  get size(): number {
    return this.items.length;
  }

  peekMs(): number {
    return this.items[0]?.ms ?? Number.POSITIVE_INFINITY;
  }

  push(item: PendingLabel): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(items[i] as PendingLabel, items[parent] as PendingLabel)) break;
      [items[i], items[parent]] = [items[parent] as PendingLabel, items[i] as PendingLabel];
      i = parent;
    }
  }

  pop(): PendingLabel | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < items.length && less(items[l] as PendingLabel, items[smallest] as PendingLabel)) smallest = l;
      if (r < items.length && less(items[r] as PendingLabel, items[smallest] as PendingLabel)) smallest = r;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest] as PendingLabel, items[i] as PendingLabel];
      i = smallest;
    }
    return top;
  }
}

function less(a: PendingLabel, b: PendingLabel): boolean {
  return a.ms < b.ms || (a.ms === b.ms && a.seq < b.seq);
}

/** Decides whether and when an authorization gets a label; undefined for most legit ones. */
export function labelFor(rng: Rng, draft: DraftAuthorization): { label: Label; delayMs: number } | undefined {
  if (draft.pattern !== 'legit') {
    // Declined fraud cannot be charged back; the issuer confirms some of it with the holder.
    if (draft.outcome === 'declined') {
      return rng() < 0.8
        ? { label: 'confirmed_fraud', delayMs: uniform(rng, 0.5 * HOUR, 5 * DAY) }
        : undefined;
    }
    if (rng() >= 0.93) return undefined;
    if (rng() < 0.12) return { label: 'confirmed_fraud', delayMs: uniform(rng, 2 * HOUR, 10 * DAY) };
    // Chargebacks: a long right tail, median around two weeks, clipped to 2–45 days.
    const days = Math.min(45, Math.max(2, Math.exp(Math.log(13) + 0.6 * normal(rng))));
    return { label: 'chargeback', delayMs: days * DAY };
  }
  const p = draft.odd ? 0.015 : 0.0003;
  return rng() < p
    ? { label: 'confirmed_legitimate', delayMs: uniform(rng, 10 * MINUTE, 7 * DAY) }
    : undefined;
}
