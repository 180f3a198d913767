/**
 * The archive through the local stack, as `npm start` runs it: every fresh answer and every
 * accepted event lands in `<archive>/score/dt=YYYY-MM-DD/` or `<archive>/event/type=<type>/dt=YYYY-MM-DD/` as gzip JSON lines (written by the
 * front worker's file sink, flushed on shutdown at the latest); a retried answer and refused
 * requests leave nothing; no record holds a card number; `events:export --local` reads it back.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ArchiveRecord, EventRecord, ScoreRecord } from '#domain/archive';
import { exportEvents, LocalArchiveReader } from '../../scripts/archive/export';
import { type LocalStack, startLocalStack } from '../../scripts/local/app';

const PAN = '5500005555555559';

/** Every record under `dir`, with the partition folder it was found in. */
function readArchive(dir: string): { folder: string; record: ArchiveRecord }[] {
  const found: { folder: string; record: ArchiveRecord }[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const folder = entry.parentPath.slice(dir.length + 1);
    for (const line of gunzipSync(readFileSync(join(entry.parentPath, entry.name)))
      .toString('utf8')
      .split('\n')) {
      if (line) found.push({ folder, record: JSON.parse(line) as ArchiveRecord });
    }
  }
  return found;
}

async function post(stack: LocalStack, path: string, body: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

describe('archive on the local stack', () => {
  it('archives fresh answers and accepted events once, tokens only, in the S3 layout', async () => {
    // prepare
    const dir = mkdtempSync(join(tmpdir(), 'e2e-archive-'));
    const stack = await startLocalStack({ archiveDir: dir, workers: 1 });
    const day = new Date().toISOString().slice(0, 10);
    const stamp = Date.now();
    const request = {
      transactionId: `tx-archive-${stamp}`,
      cardId: 'card_archive',
      merchantId: 'm_archive',
      mcc: '5411',
      amount: 60_000,
      currency: 'EUR',
      country: 'DE',
      channel: 'ecommerce',
      timestamp: new Date().toISOString(),
    };
    const event = {
      type: 'label',
      eventId: `evt-archive-${stamp}`,
      transactionId: request.transactionId,
      cardId: 'card_archive',
      merchantId: 'm_archive',
      label: 'chargeback',
      timestamp: new Date().toISOString(),
      transactionTimestamp: request.timestamp,
    };
    let statuses: number[];
    try {
      // act
      statuses = [
        await post(stack, '/v1/score', request),
        await post(stack, '/v1/score', request), // retry: the stored answer
        await post(stack, '/v1/score', { ...request, transactionId: `tx-pan-${stamp}`, cardId: PAN }),
        await post(stack, '/v1/events', { events: [event] }),
        await post(stack, '/v1/events', { ...event, eventId: `evt-pan-${stamp}`, cardId: PAN }),
      ];
    } finally {
      await stack.close();
    }
    // assert
    expect(statuses).toEqual([200, 200, 400, 202, 400]);
    const archived = readArchive(dir);
    const scores = archived.filter((a) => a.record.kind === 'score');
    const events = archived.filter((a) => a.record.kind === 'event');
    expect(scores).toHaveLength(1);
    expect(scores[0]?.folder).toBe(`score/dt=${day}`);
    expect(scores[0]?.record).toMatchObject({
      transactionId: request.transactionId,
      cardId: 'card_archive',
      segment: 'ecommerce.high.new',
      functionVersion: '$LATEST',
      modelVersion: '1.0.0',
      amount: 60_000,
    } satisfies Partial<ScoreRecord>);
    expect(events).toHaveLength(1);
    expect(events[0]?.folder).toBe(`event/type=${event.type}/dt=${day}`);
    expect((events[0]?.record as EventRecord | undefined)?.event).toEqual(event);
    expect(JSON.stringify(archived)).not.toContain(PAN);
    const exported = await exportEvents(new LocalArchiveReader(dir), stamp - 60_000, Date.now() + 60_000);
    expect(exported.events).toEqual([event]);
  }, 60_000);
});
