/**
 * Hard deadlines for I/O on the scoring path. The work gets an abort signal that fires at the
 * deadline (so the SDK call is really cancelled, not just ignored), and the caller gets a
 * {@link DeadlineExceededError} at the deadline even if the work ignores the signal.
 */
import { DeadlineExceededError } from './errors';

/** Runs `work` with a signal that aborts after `budgetMs`; rejects with {@link DeadlineExceededError} then. */
export async function withDeadline<T>(
  step: string,
  budgetMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineExceededError(step, budgetMs);
      controller.abort(error);
      reject(error);
    }, budgetMs);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
