/**
 * The feature export's fold, split into two stages so it can use two cores without forking
 * the feature code:
 *
 * 1. {@link MerchantStage}, on the reading thread: it receives the validated events in time
 *    order (parsing and validating is the reader's half of the work), keeps every merchant's
 *    state, and for each authorization takes the merchant features from
 *    `featureVector({ merchant })` and the label, then hands the authorization on in batches;
 * 2. `CardStage` (`export-card-stage.ts`), in a worker thread (or inline): it keeps every card's state, takes
 *    the card and request features from `featureVector({ card })`, writes the row and the
 *    request, then folds the authorization into the card.
 *
 * Why merchants on one side and cards on the other: a card's features read only that card's
 * history, a merchant's only that merchant's, and every feature reads exactly one of the two
 * items (its `source`), so `featureVector({ card, merchant })` equals the card-side vector with
 * the merchant-source entries taken from the merchant-side one (a property test holds the
 * feature code to this). Cards cannot be split from merchants by partitioning the input: every
 * card's authorizations move many merchants, so a worker per card partition would need every
 * event anyway. A pipeline keeps one reader, one time order and one row order, so the files are
 * byte for byte what the single-threaded fold writes.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  emptyMerchantState,
  featureVector,
  foldMerchantAuthorization,
  foldMerchantLabel,
  type MerchantState,
  toEpochMs,
} from '#domain/features';
import { type AuthorizationEvent, isFraudLabel, type TransactionEvent } from '#domain/types';
import {
  BATCH_ROWS,
  type CardSink,
  type CardStageSummary,
  encodeAuthorization,
  MERCHANT_FEATURE_INDEXES,
  ROW_NUMBERS,
} from './export-card-stage';

/**
 * `JSON.stringify({ transactionId, request: requestOf(event) })`, byte for byte, without the
 * generic serializer: every string field of a validated event is an id, code or ISO time
 * that needs no escaping (see the contract's patterns), and amounts are integers. Only for
 * events that passed `event-source.ts`.
 */
export function requestLine(event: AuthorizationEvent): string {
  const device = event.deviceId === undefined ? '' : `,"deviceId":"${event.deviceId}"`;
  return (
    `{"transactionId":"${event.transactionId}","request":{"transactionId":"${event.transactionId}",` +
    `"cardId":"${event.cardId}","merchantId":"${event.merchantId}","mcc":"${event.mcc}","amount":${event.amount},` +
    `"currency":"${event.currency}","country":"${event.country}","channel":"${event.channel}",` +
    `"timestamp":"${event.timestamp}"${device}}}`
  );
}

/** Appends text to a file descriptor in large writes: one syscall per ~1 MB, not per row. */
class BufferedFile {
  private readonly fd: number;
  private parts: string[] = [];
  private size = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Counts kept by the reading thread for the dataset summary. */
export interface MerchantStageCounts {
  readonly events: number;
  readonly authorizations: number;
  readonly labelledFraud: number;
  readonly merchants: number;
  /** First and last authorization (epoch ms). */
  readonly first: number;
  readonly last: number;
}

/**
 * Stage 1: merchant state, labels, `requests.jsonl` and batching, on the reading thread. Give
 * it every validated event once, in time order ({@link add}), awaiting {@link drain} now and
 * then so the card stage keeps up; then {@link finish} (or {@link abort}).
 */
export class MerchantStage {
  private readonly merchants = new Map<string, MerchantState>();
  private readonly requests: BufferedFile;
  private records: string[] = [];
  private numbers = new Float64Array(BATCH_ROWS * ROW_NUMBERS);
  private events = 0;
  private authorizations = 0;
  private labelledFraud = 0;
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    outDir: string,
    private readonly fraud: ReadonlySet<string>,
    private readonly sink: CardSink,
  ) {
    this.requests = new BufferedFile(join(outDir, 'requests.jsonl'));
  }

  /** Applies `event`, dated `ms` (its `timestamp` in epoch ms). */
  add(event: TransactionEvent, ms: number): void {
    this.events += 1;
    let merchant = this.merchants.get(event.merchantId);
    if (event.type === 'label') {
      if (!isFraudLabel(event.label)) return;
      if (merchant === undefined) {
        merchant = emptyMerchantState();
        this.merchants.set(event.merchantId, merchant);
      }
      foldMerchantLabel(merchant, event, toEpochMs(event.transactionTimestamp));
      return;
    }
    const vector = featureVector({ merchant }, event, ms);
    const label = this.fraud.has(event.transactionId) ? 1 : 0;
    const at = this.records.length * ROW_NUMBERS;
    this.numbers[at] = ms;
    this.numbers[at + 1] = label;
    for (let k = 0; k < MERCHANT_FEATURE_INDEXES.length; k += 1) {
      this.numbers[at + 2 + k] = vector[MERCHANT_FEATURE_INDEXES[k] as number] as number;
    }
    this.records.push(encodeAuthorization(event));
    this.requests.write(`${requestLine(event)}\n`);
    this.authorizations += 1;
    this.labelledFraud += label;
    if (ms < this.first) this.first = ms;
    if (ms > this.last) this.last = ms;
    if (merchant === undefined) {
      merchant = emptyMerchantState();
      this.merchants.set(event.merchantId, merchant);
    }
    foldMerchantAuthorization(merchant, event, ms);
    if (this.records.length === BATCH_ROWS) this.send();
  }

  private send(): void {
    if (this.records.length === 0) return;
    this.sink.send(this.records.join('\n'), this.numbers.subarray(0, this.records.length * ROW_NUMBERS));
    this.records = [];
    this.numbers = new Float64Array(BATCH_ROWS * ROW_NUMBERS);
  }

  /** Waits while the card stage is too far behind. */
  drain(): Promise<void> {
    return this.sink.drain();
  }

  /** Sends the last batch, waits for the card stage, and reports both stages' counts. */
  async finish(): Promise<MerchantStageCounts & CardStageSummary> {
    this.send();
    this.requests.close();
    const cards = await this.sink.finish();
    return {
      ...cards,
      events: this.events,
      authorizations: this.authorizations,
      labelledFraud: this.labelledFraud,
      merchants: this.merchants.size,
      first: this.first,
      last: this.last,
    };
  }

  /** Closes the file and stops the card stage, without waiting for it (after an error, or to start over). */
  async abort(): Promise<void> {
    this.requests.close();
    await this.sink.abort();
  }
}
