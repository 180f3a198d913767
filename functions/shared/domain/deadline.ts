/**
 * Hard deadlines for I/O on the scoring path: one primitive, {@link Deadline}, for both ways
 * work is cancelled here.
 *
 * - Work that takes an abort signal (the AWS SDK's calls) runs under {@link withDeadline}: the
 *   signal fires at the deadline (so the SDK call is really cancelled, not just ignored), and
 *   the caller gets a {@link DeadlineExceededError} at the deadline even if the work ignores it.
 * - The neural client registers its requests in flight with a {@link Deadline} directly
 *   ({@link Deadline.track}): no `AbortController` per call on its hot path (see the class).
 */
import { DeadlineExceededError } from './errors';

/**
 * One call's budget and its caller's abort, released when the call settles: when either runs
 * out first, the work registered with it is stopped with the reason.
 *
 * Why not `AbortSignal.timeout` (and `AbortSignal.any` with the caller's signal): its timer
 * outlives the call. Every call's timer fired `budgetMs` after a request long answered, woke
 * the event loop and built a `DOMException` (stack trace included) for an abort nobody
 * listened to: ~70 µs of CPU per call in a sequential probe of the neural client against the
 * twin (client CPU per call 374 µs, against 233 µs with a cleared timer), and one more wake-up
 * of the score process per request on the box the neural service shares. Why no
 * `AbortController` inside either: a signal handed to `http.request` costs an `AbortController`,
 * its `AbortSignal`, and an abort listener added to and removed from it per call (5 % of the
 * neural client's profile in `bench:neural --parts tail`); work that can be stopped by a
 * function (`req.destroy`) registers that function instead, and only {@link withDeadline}, for
 * work that needs a signal, pays for a controller.
 */
export class Deadline {
  private readonly timer: NodeJS.Timeout;
  /** The expiry, deferred past the I/O the event loop already holds (see the constructor). */
  private expiry?: NodeJS.Immediate;
  private readonly caller?: AbortSignal;
  private readonly onCallerAbort?: () => void;
  /** Stops each piece of work in flight under this deadline (the neural warm-up sends several). */
  private readonly inFlight = new Set<(reason: Error) => void>();
  /** Why the work was stopped, once it was. */
  private reason?: Error;
  /** The budget ran out (as opposed to the caller aborting). */
  timedOut = false;

  /**
   * @param ms the budget in milliseconds, from now
   * @param timeoutReason builds the reason the work is stopped with when the budget runs out
   *   (called then, not before: most calls never build it)
   * @param caller the caller's own abort, folded in: its `reason` when it is an `Error`, an
   *   `AbortError` `DOMException` otherwise
   */
  constructor(
    readonly ms: number,
    timeoutReason: () => Error,
    caller?: AbortSignal,
  ) {
    // Node runs due timers before it reads the sockets that became readable meanwhile: after a
    // stall of the event loop (a GC pause, a burst of other requests, a CPU taken by another
    // process) the timer would fire first and throw away an answer that arrived in time. The
    // expiry waits for that read (`setImmediate` runs right after it) and no longer: an answer
    // already there settles the work first; one still on its way gets no more time.
    this.timer = setTimeout(() => {
      this.expiry = setImmediate(() => {
        this.timedOut = true;
        this.stop(timeoutReason());
      });
    }, ms);
    if (!caller) return;
    if (caller.aborted) {
      this.stop(Deadline.abortError(caller));
    } else {
      this.caller = caller;
      this.onCallerAbort = () => this.stop(Deadline.abortError(caller));
      caller.addEventListener('abort', this.onCallerAbort, { once: true });
    }
  }

  private static abortError(caller: AbortSignal): Error {
    return caller.reason instanceof Error
      ? caller.reason
      : new DOMException('aborted by its caller', 'AbortError');
  }

  private stop(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    for (const stop of this.inFlight) stop(reason);
    this.inFlight.clear();
  }

  /**
   * Registers work in flight: `stop` runs at once if the deadline has already stopped, or when
   * it stops. Returns the function that unregisters it (call it when the work settles).
   */
  track(stop: (reason: Error) => void): () => void {
    if (this.reason) {
      stop(this.reason);
      return () => {};
    }
    this.inFlight.add(stop);
    return () => this.inFlight.delete(stop);
  }

  /** The caller aborted before the budget ran out. */
  get aborted(): boolean {
    return this.reason !== undefined && !this.timedOut;
  }

  /** Stops the budget timer and forgets the caller's signal (the call has settled). */
  clear(): void {
    clearTimeout(this.timer);
    if (this.expiry) clearImmediate(this.expiry);
    this.inFlight.clear();
    if (this.onCallerAbort) this.caller?.removeEventListener('abort', this.onCallerAbort);
  }
}

/** Runs `work` with a signal that aborts after `budgetMs`; rejects with {@link DeadlineExceededError} then. */
export async function withDeadline<T>(
  step: string,
  budgetMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const deadline = new Deadline(budgetMs, () => new DeadlineExceededError(step, budgetMs));
  const expired = new Promise<never>((_, reject) => {
    deadline.track((error) => {
      controller.abort(error);
      reject(error);
    });
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    deadline.clear();
  }
}
