/**
 * `npm run features:load -- FILE [--table NAME] [--endpoint URL]`: materializes online
 * feature items from an event file (JSON lines, time order). Safe to rerun.
 * Without --endpoint it writes to the AWS account of the current credentials.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { createDynamoClients } from '#adapters/dynamo-client';
import { bulkWrite, FeatureAccumulator } from '#adapters/feature-bulk-loader';
import type { TransactionEvent } from '#domain/types';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      table: { type: 'string', default: process.env.FEATURE_TABLE_NAME ?? 'local-features' },
      endpoint: { type: 'string', default: process.env.DYNAMODB_ENDPOINT },
      'ttl-days': { type: 'string', default: '180' },
    },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: npm run features:load -- FILE [--table NAME] [--endpoint URL]\n');
    process.exit(2);
  }
  const accumulator = new FeatureAccumulator();
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (line.trim() === '') continue;
    let event: TransactionEvent;
    try {
      event = JSON.parse(line) as TransactionEvent;
    } catch {
      throw new Error(`${file}:${lineNo}: not valid JSON`);
    }
    accumulator.add(event);
    if (lineNo % 100_000 === 0) process.stderr.write(`read ${lineNo} events\n`);
  }
  const items = accumulator.items(Date.now(), Number(values['ttl-days']) * 86_400);
  process.stderr.write(`folded ${accumulator.events} events into ${items.length} items\n`);
  const { documents } = createDynamoClients({
    endpoint: values.endpoint,
    requestTimeoutMs: 5000,
    maxAttempts: 4,
  });
  const bar = new SingleBar({
    format: 'writing [{bar}] {percentage}% | {value}/{total} items | {eta}s left',
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 3000,
  });
  bar.start(items.length, 0);
  const written = await bulkWrite(documents, values.table, items, { onProgress: (n) => bar.update(n) });
  bar.stop();
  process.stderr.write(`wrote ${written} items to ${values.table}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`features:load failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
