/**
 * The scoring path's one deadline primitive: `Deadline` (budget + caller abort, stopping the
 * work registered with it) and `withDeadline` (the same for work that takes an abort signal).
 */
import { Deadline, withDeadline } from '#domain/deadline';
import { DeadlineExceededError } from '#domain/errors';

const timeout = () => new Error('budget ran out');

/** Resolves after `ms` on a real timer. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('Deadline', () => {
  it('stops the work in flight with the timeout reason once the budget runs out', async () => {
    // prepare
    const deadline = new Deadline(5, timeout);
    const stopped: Error[] = [];
    deadline.track((reason) => stopped.push(reason));

    // act
    await sleep(30);

    // assert
    expect(stopped.map((e) => e.message)).toEqual(['budget ran out']);
    expect(deadline.timedOut).toBe(true);
    expect(deadline.aborted).toBe(false);
    deadline.clear();
  });

  it('stops nothing when cleared before the budget runs out, and never builds the reason', async () => {
    // prepare
    const reason = jest.fn(timeout);
    const deadline = new Deadline(5, reason);
    const stop = jest.fn();
    deadline.track(stop);

    // act
    deadline.clear();
    await sleep(30);

    // assert
    expect(stop).not.toHaveBeenCalled();
    expect(reason).not.toHaveBeenCalled();
    expect(deadline.timedOut).toBe(false);
  });

  it('does not stop work that has untracked itself (it settled in time)', async () => {
    // prepare
    const deadline = new Deadline(5, timeout);
    const settled = jest.fn();
    const pending = jest.fn();
    const untrack = deadline.track(settled);
    deadline.track(pending);

    // act
    untrack();
    await sleep(30);

    // assert
    expect(settled).not.toHaveBeenCalled();
    expect(pending).toHaveBeenCalledTimes(1);
    deadline.clear();
  });

  it("stops the work with the caller's reason when the caller aborts first", () => {
    // prepare
    const caller = new AbortController();
    const deadline = new Deadline(1_000, timeout, caller.signal);
    const stopped: Error[] = [];
    deadline.track((reason) => stopped.push(reason));

    // act
    caller.abort(new Error('request over'));

    // assert
    expect(stopped.map((e) => e.message)).toEqual(['request over']);
    expect(deadline.aborted).toBe(true);
    expect(deadline.timedOut).toBe(false);
    deadline.clear();
  });

  it('stops work registered after the caller had already aborted at once, with an AbortError for a non-Error reason', () => {
    // prepare
    const caller = new AbortController();
    caller.abort('not an error');
    const deadline = new Deadline(1_000, timeout, caller.signal);
    const stopped: Error[] = [];

    // act
    deadline.track((reason) => stopped.push(reason));

    // assert
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.name).toBe('AbortError');
    expect(deadline.aborted).toBe(true);
    deadline.clear();
  });

  it("forgets the caller's signal once cleared (no listener left on a long-lived signal)", () => {
    // prepare
    const caller = new AbortController();
    const deadline = new Deadline(1_000, timeout, caller.signal);
    const stop = jest.fn();
    deadline.track(stop);

    // act
    deadline.clear();
    caller.abort(new Error('late'));

    // assert
    expect(stop).not.toHaveBeenCalled();
    expect(deadline.aborted).toBe(false);
  });
});

describe('withDeadline', () => {
  it("returns the work's value when it finishes in time, its signal never aborted", async () => {
    // prepare
    let seen: AbortSignal | undefined;

    // act
    const value = await withDeadline('feature read', 1_000, async (signal) => {
      seen = signal;
      return 42;
    });

    // assert
    expect(value).toBe(42);
    expect(seen?.aborted).toBe(false);
  });

  it('rejects with DeadlineExceededError at the deadline and aborts the signal, even if the work ignores it', async () => {
    // prepare
    let seen: AbortSignal | undefined;
    const work = (signal: AbortSignal) => {
      seen = signal;
      return new Promise<never>(() => {});
    };

    // act
    const outcome = withDeadline('feature read', 5, work);

    // assert
    await expect(outcome).rejects.toBeInstanceOf(DeadlineExceededError);
    await expect(outcome).rejects.toThrow('feature read timed out after 5 ms');
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(DeadlineExceededError);
  });

  it("passes the work's own failure through unchanged", async () => {
    // prepare
    const failure = new Error('throttled');

    // act
    const outcome = withDeadline('answer write', 1_000, async () => {
      throw failure;
    });

    // assert
    await expect(outcome).rejects.toBe(failure);
  });
});
