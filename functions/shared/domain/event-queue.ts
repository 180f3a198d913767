import type { TransactionEvent } from './types';

/** Carries accepted events to the feature updater (SQS in AWS, in-process locally). */
export interface EventQueue {
  send(events: readonly TransactionEvent[]): Promise<void>;
}
