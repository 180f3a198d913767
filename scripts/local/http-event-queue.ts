/**
 * The events function's queue port, locally: hands accepted events to the queue process
 * over loopback HTTP (keep-alive). A refused or failed hand-over is an `EnqueueError`, which
 * the API answers 503 like an SQS failure.
 */
import { Agent, request } from 'node:http';
import { EnqueueError } from '#domain/errors';
import type { EventQueue } from '#domain/event-queue';
import type { TransactionEvent } from '#domain/types';

export class HttpEventQueue implements EventQueue {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  constructor(private readonly url: string) {}

  send(events: readonly TransactionEvent[]): Promise<void> {
    const body = JSON.stringify({ events });
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.url}/enqueue`,
        {
          method: 'POST',
          agent: this.agent,
          timeout: 5000,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 202
              ? resolve()
              : reject(new EnqueueError(`local queue answered ${res.statusCode}`)),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('local queue timed out')));
      req.on('error', (error) => reject(new EnqueueError('local queue unreachable', { cause: error })));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
