/**
 * `npm run bench:archive`: what the archive adds to the score path, measured in-process on the
 * function built by the same factory as the Lambda entry, against dynalite:
 *
 * - `off`: no archive;
 * - `file`: the local stack's file sink (gzip JSON lines, flushed every second);
 * - `firehose`: the AWS sink in its Lambda setting (`ARCHIVE_FLUSH_INTERVAL_MS` 0: each
 *   answer's `PutRecordBatch` starts right after the answer), against a local
 *   Firehose-compatible server answering after `--firehose-ms` (default 20) — real SDK, signing
 *   and HTTP.
 *
 * The modes alternate in rounds so that drift of the machine hits them alike. Reports handler
 * latency p50/p99 per mode, the added p99 over `off`, and how many records reached each sink.
 * Options: --iterations N per mode and round (default 1000), --rounds R (default 3), --gap-ms G
 * (pause between answers, default 0: back to back, so a flush overlaps the next answer; a gap
 * longer than `--firehose-ms` is one Lambda environment serving spaced invocations).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createDynamoClients } from '#adapters/dynamo-client';
import { FEATURE_TABLE, IDEMPOTENCY_TABLE } from '#shared/table-schema';
import { loadScoreConfig } from '../functions/score/config';
import { createScoreFunction } from '../functions/score/index';
import { lambdaContext } from './local/api-gateway';
import { DEFAULT_MODEL_DIR, DEFAULT_POLICY } from './local/app';
import { ensureTable } from './local/dynamo-local';
import { forkTs, OutputCapture, stopChild, whenReady } from './local/processes';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
// The SDK signs Firehose calls even against the local endpoint.
process.env.AWS_ACCESS_KEY_ID ??= 'bench';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';

type Mode = 'off' | 'file' | 'firehose';
const MODES: readonly Mode[] = ['off', 'file', 'firehose'];

/** A PutRecordBatch endpoint that accepts everything after a delay, counting records. */
async function fakeFirehose(delayMs: number) {
  let records = 0;
  let calls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Records: unknown[] };
      calls += 1;
      records += body.Records.length;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify({
            FailedPutCount: 0,
            Encrypted: false,
            RequestResponses: body.Records.map((_, i) => ({ RecordId: `r-${calls}-${i}` })),
          }),
        );
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ calls, records }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Lines in every gzip file under `dir`. */
function archivedLines(dir: string): number {
  let lines = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const text = gunzipSync(readFileSync(join(entry.parentPath, entry.name))).toString('utf8');
    lines += text.split('\n').filter(Boolean).length;
  }
  return lines;
}

function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '3' },
      'firehose-ms': { type: 'string', default: '20' },
      'gap-ms': { type: 'string', default: '0' },
    },
  });
  const iterations = Number(values.iterations);
  const rounds = Number(values.rounds);
  const gapMs = Number(values['gap-ms']);
  const pause = () => (gapMs > 0 ? new Promise((resolve) => setTimeout(resolve, gapMs)) : Promise.resolve());
  const dynalite: ChildProcess = forkTs('dynalite-process.ts', {}, new OutputCapture(true));
  const endpoint = `http://127.0.0.1:${(await whenReady(dynalite, 'dynalite')).port}`;
  const { client } = createDynamoClients({ endpoint, requestTimeoutMs: 2000 });
  const firehose = await fakeFirehose(Number(values['firehose-ms']));
  const archiveDir = mkdtempSync(join(tmpdir(), 'bench-archive-'));
  try {
    await ensureTable(client, 'bench-features', FEATURE_TABLE);
    await ensureTable(client, 'bench-idempotency', IDEMPOTENCY_TABLE);
    const base = {
      STAGE: 'bench',
      FEATURE_TABLE_NAME: 'bench-features',
      IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
      MODEL_DIR: DEFAULT_MODEL_DIR,
      POLICY_PATH: DEFAULT_POLICY,
      FEATURE_TIMEOUT_MS: '1000',
      IDEMPOTENCY_TIMEOUT_MS: '1000',
      POWERTOOLS_TRACE_ENABLED: 'false',
      DYNAMODB_ENDPOINT: endpoint,
    };
    const env: Record<Mode, Record<string, string>> = {
      off: base,
      file: { ...base, ARCHIVE_DIR: archiveDir },
      firehose: {
        ...base,
        AWS_REGION: 'us-east-1',
        ARCHIVE_STREAM_NAME: 'bench-score',
        ARCHIVE_FIREHOSE_ENDPOINT: firehose.url,
      },
    };
    const functions = Object.fromEntries(
      await Promise.all(
        MODES.map(async (mode) => [mode, await createScoreFunction(loadScoreConfig(env[mode]))]),
      ),
    ) as Record<Mode, Awaited<ReturnType<typeof createScoreFunction>>>;
    const samples: Record<Mode, number[]> = { off: [], file: [], firehose: [] };
    const now = Date.now();
    let n = 0;
    const score = async (mode: Mode) => {
      n += 1;
      const body = {
        transactionId: `bench-${mode}-${n}-${now}`,
        cardId: `card_${n % 50}`,
        merchantId: 'm_bench',
        mcc: '5411',
        amount: 2500 + (n % 900),
        currency: 'EUR',
        country: 'DE',
        channel: 'ecommerce',
        timestamp: new Date().toISOString(),
      };
      const started = performance.now();
      const response = await functions[mode].handler(
        { body: JSON.stringify(body), isBase64Encoded: false } as unknown as APIGatewayProxyEvent,
        lambdaContext('score'),
      );
      const elapsed = performance.now() - started;
      if (response.statusCode !== 200) throw new Error(`bench request failed: ${response.body}`);
      return elapsed;
    };
    for (const mode of MODES) for (let i = 0; i < 100; i += 1) await score(mode); // warm-up
    for (let round = 0; round < rounds; round += 1) {
      for (const mode of MODES) {
        for (let i = 0; i < iterations; i += 1) {
          samples[mode].push(await score(mode));
          await pause();
        }
      }
    }
    await Promise.all(MODES.map((mode) => functions[mode].close()));

    const off = { p50: percentile(samples.off, 0.5), p99: percentile(samples.off, 0.99) };
    process.stdout.write(
      `\nbench:archive — ${rounds} rounds × ${iterations} answers per mode, ${gapMs} ms between answers, Node ${process.version}, Firehose stand-in answers in ${values['firehose-ms']} ms\n\n`,
    );
    for (const mode of MODES) {
      const p50 = percentile(samples[mode], 0.5);
      const p99 = percentile(samples[mode], 0.99);
      const added = mode === 'off' ? '' : `   added p99 ${(p99 - off.p99).toFixed(3).padStart(7)} ms`;
      process.stdout.write(
        `  score handler, archive ${mode.padEnd(9)} p50 ${p50.toFixed(3).padStart(7)} ms   p99 ${p99.toFixed(3).padStart(7)} ms${added}\n`,
      );
    }
    const warmUp = 100;
    const expected = warmUp + rounds * iterations;
    const { calls, records } = firehose.counts();
    process.stdout.write(
      `\n  records archived: file ${archivedLines(archiveDir)} of ${expected}; firehose ${records} of ${expected} in ${calls} PutRecordBatch calls\n\n`,
    );
  } finally {
    await firehose.close();
    client.destroy();
    await stopChild(dynalite);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:archive failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
