/**
 * A deadline and a stalled event loop (`Deadline` in `#domain/deadline`). Node runs due timers
 * before it reads the sockets that became readable meanwhile; an answer that arrived within the
 * budget while this process was busy (a GC pause, other requests, a CPU taken by another
 * process) must be kept, and an answer that is really late must still lose. The answering side
 * is a separate process, so that it answers while this one is stalled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { withDeadline } from '#domain/deadline';
import { DeadlineExceededError } from '#domain/errors';

/** Answers `answer` on every line it reads, after the delay (ms) the line names. */
const ANSWERING_SERVER = `
  const server = require('node:net').createServer((socket) => {
    socket.on('error', () => {}); // a test that gave up closes its connection
    socket.on('data', (line) => setTimeout(() => socket.writable && socket.write('answer'), Number(String(line))));
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

/** Keeps this process's event loop busy for `ms`, as a long GC pause or CPU-bound work does. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

describe('a deadline over a stalled event loop', () => {
  let server: ChildProcess;
  let port: number;
  // One connection per test: an answer one test gave up on must not reach the next.
  let socket: Socket;

  beforeAll(async () => {
    server = spawn(process.execPath, ['-e', ANSWERING_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(server.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    port = Number(String(line).trim());
  });

  beforeEach(async () => {
    socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
  });

  afterEach(() => socket.destroy());

  afterAll(() => {
    server.kill();
  });

  /** Asks for an answer after `delayMs` and waits for it under a `budgetMs` deadline. */
  function ask(delayMs: number, budgetMs: number): Promise<string> {
    const answer = withDeadline(
      'answer',
      budgetMs,
      () => new Promise<string>((resolve) => socket.once('data', (data) => resolve(String(data)))),
    );
    socket.write(String(delayMs));
    return answer;
  }

  it('keeps an answer that arrived within the budget while the loop was stalled past it', async () => {
    // prepare
    const budgetMs = 15;

    // act: the answer arrives after ~2 ms; this process looks again only after 60 ms
    const answer = ask(2, budgetMs);
    stall(60);

    // assert
    await expect(answer).resolves.toBe('answer');
  });

  it('still rejects an answer that is late, at the deadline', async () => {
    // prepare
    const budgetMs = 15;

    // act: the answer comes after 300 ms, nothing stalls
    const started = performance.now();
    const answer = ask(300, budgetMs);
    const outcome = await answer.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );

    // assert: rejected, and well before the late answer (a loose bound: a slow machine only adds)
    expect(outcome).toEqual({ error: expect.any(DeadlineExceededError) });
    expect(performance.now() - started).toBeLessThan(250);
  });
});
