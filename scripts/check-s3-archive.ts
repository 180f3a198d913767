/**
 * `npm run check:s3-archive -- --endpoint http://127.0.0.1:PORT [--bucket NAME]`
 *
 * The calibration monitor's S3 reader against a real S3-compatible server (moto_server, MinIO,
 * or S3 itself without `--endpoint`): what the unit tests mock — HTTP bodies streamed in the
 * server's chunks, ListObjectsV2 pages past 1 000 keys, gzip objects, a truncated one, damaged
 * lines — done over the wire. Creates the bucket, writes the fixtures, reads them back through
 * `S3ArchiveReader` and the monitor's handler, prints the figures and exits 1 on any mismatch.
 * Needs credentials of some kind (moto accepts any).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ArchiveObjects, S3ArchiveReader } from '#adapters/s3-archive-reader';
import { createCalibrationHandler } from '../functions/calibration-monitor/handler';

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    bucket: { type: 'string', default: `calibration-check-${randomUUID().slice(0, 8)}` },
    region: { type: 'string', default: 'us-east-1' },
  },
});
const DAY = '2026-10-10';
const SMALL_OBJECTS = 1005; // past one ListObjectsV2 page (1 000 keys)
const BIG_LINES = 50_000;

const answer = (id: string, score: number) =>
  JSON.stringify({
    kind: 'score',
    transactionId: id,
    eventTime: `${DAY}T12:00:00Z`,
    modelVersion: '1.0.0',
    score,
    segment: id.startsWith('big') ? 'ecommerce.low.known' : 'pos.low.known',
    decision: 'approve',
    reasons: ['CARD_COUNT_1H'],
  });
const label = (id: string) =>
  JSON.stringify({
    kind: 'event',
    receivedAt: '2026-11-20T00:00:00Z',
    event: {
      type: 'label',
      eventId: `l-${id}`,
      transactionId: id,
      label: 'chargeback',
      transactionTimestamp: `${DAY}T12:00:00Z`,
      timestamp: '2026-11-20T00:00:00Z',
    },
  });

async function main(): Promise<void> {
  const client = new S3Client({
    region: values.region,
    ...(values.endpoint ? { endpoint: values.endpoint, forcePathStyle: true } : {}),
  });
  const bucket = values.bucket;
  const started = performance.now();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const put = (key: string, body: Uint8Array | string) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

  for (let i = 0; i < SMALL_OBJECTS; i++)
    await put(
      `score/dt=${DAY}/small-${String(i).padStart(5, '0')}.jsonl.gz`,
      gzipSync(`${answer(`s${i}`, 0.001)}\n`),
    );
  const big = Array.from({ length: BIG_LINES }, (_, i) => answer(`big${i}`, i % 50 === 0 ? 0.95 : 0.002));
  await put(`score/dt=${DAY}/big.jsonl.gz`, gzipSync(`${big.join('\n')}\n`));
  const truncated = gzipSync(
    `${Array.from({ length: 5000 }, (_, i) => answer(`cut${i}`, 0.002)).join('\n')}\n`,
  );
  await put(`score/dt=${DAY}/cut.jsonl.gz`, truncated.subarray(0, Math.floor(truncated.length / 2)));
  await put(
    `score/dt=${DAY}/plain.jsonl`,
    `${answer('plain1', 0.002)}\nnot json\n${answer('plain2', 0.002)}`,
  );
  const frauds = big.filter((_, i) => i % 100 === 0).map((_, k) => `big${k * 100}`);
  await put('event/type=label/dt=2026-11-20/labels.jsonl.gz', gzipSync(`${frauds.map(label).join('\n')}\n`));
  const written = (performance.now() - started) / 1000;

  const logged: string[] = [];
  const reader = new S3ArchiveReader(new S3ArchiveObjects(client, bucket), {
    log: (message, details) => logged.push(`${message} ${JSON.stringify(details)}`),
  });
  const readStart = performance.now();
  let answers = 0;
  let cut = 0;
  for await (const a of reader.answers(DAY, DAY)) {
    answers += 1;
    if (a.transactionId.startsWith('cut')) cut += 1;
  }
  const labels = [];
  for await (const l of reader.labels('2026-11-20', '2026-11-20')) labels.push(l);
  const read = (performance.now() - readStart) / 1000;

  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const handler = createCalibrationHandler({
    archive: new S3ArchiveReader(new S3ArchiveObjects(client, bucket)),
    card: {
      version: '1.0.0',
      thresholds: {
        review: { score: 0.5, fpr: 0.01, recall: 0.9 },
        decline: { score: 0.9, fpr: 0.001, recall: 0.7 },
      },
    },
    config: { maturityDays: 45, spanDays: 1, eceBins: 10, minAnswersPerSegment: 1000 },
    metrics: new Metrics({ namespace: 'Check', serviceName: 'calibration-monitor' }),
    logger: new Logger({ serviceName: 'calibration-monitor', logLevel: 'ERROR' }),
    now: () => Date.parse('2026-11-25T04:00:00Z'),
  });
  const report = await handler();

  const expected = SMALL_OBJECTS + BIG_LINES + 2;
  const checks: [string, boolean, string][] = [
    [
      'objects listed across pages',
      reader.stats.objects === SMALL_OBJECTS + 3 + 1,
      `${reader.stats.objects}`,
    ],
    [
      'answers read (all but the truncated object)',
      answers - cut === expected,
      `${answers - cut} of ${expected}`,
    ],
    [
      'truncated object: a prefix kept, counted unreadable',
      cut > 0 && cut < 5000 && reader.stats.unreadableObjects === 1,
      `${cut} lines, ${reader.stats.unreadableObjects} unreadable`,
    ],
    [
      'damaged line counted and logged',
      reader.stats.skippedLines === 1 && logged.some((l) => l.includes('plain.jsonl')),
      `${reader.stats.skippedLines}`,
    ],
    ['labels read', labels.length === frauds.length, `${labels.length}`],
    [
      'handler: frauds joined, recall at decline',
      report.overall?.frauds === frauds.length && report.overall?.decline.recall === 1,
      `${report.overall?.frauds} frauds, recall ${report.overall?.decline.recall}`,
    ],
  ];
  process.stdout.write(
    `s3://${bucket} at ${values.endpoint ?? 'AWS'}: wrote in ${written.toFixed(1)} s, read in ${read.toFixed(1)} s\n`,
  );
  for (const [name, ok, figure] of checks)
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${figure}\n`);
  if (checks.some(([, ok]) => !ok)) process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`check:s3-archive failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
