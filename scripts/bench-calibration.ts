/**
 * `npm run bench:calibration [-- --answers N --events N]`: what one calibration run costs, to
 * size the deployed function (docs/monitoring.md, *Sizing*). Builds gzip JSON-lines objects of
 * archive-shaped score and event records in memory (1 % of events are labels), streams them
 * through the S3 reader (the same gunzip and line splitting as in Lambda; only S3's transfer
 * is missing), and runs the monitor's handler over them. Prints answers/s, event lines/s
 * (label scan, `--label-concurrency` objects at once), the heap held per answer, and the run
 * time this implies for a traffic level.
 */
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { S3ArchiveReader } from '#adapters/s3-archive-reader';
import { createCalibrationHandler } from '../functions/calibration-monitor/handler';

const { values } = parseArgs({
  options: {
    answers: { type: 'string', default: '300000' },
    events: { type: 'string', default: '600000' },
    'prod-rps': { type: 'string', default: '120' },
    'label-concurrency': { type: 'string', default: '4' },
  },
});
const ANSWERS = Number(values.answers);
const EVENTS = Number(values.events);
const LINES_PER_OBJECT = 20_000;
const DAY = '2026-10-12';
const SEGMENTS = ['ecommerce.low.known', 'ecommerce.high.new', 'pos.low.known', 'pos.high.known'];

function scoreLine(i: number): string {
  return JSON.stringify({
    kind: 'score',
    transactionId: `tx-${i.toString(16).padStart(12, '0')}`,
    cardId: `tok_${(i % 50_000).toString(36)}`,
    merchantId: `m_${i % 3000}`,
    eventTime: `${DAY}T${String(Math.floor((i / ANSWERS) * 24)).padStart(2, '0')}:00:00Z`,
    scoredAt: `${DAY}T12:00:00.012Z`,
    functionVersion: '42',
    modelVersion: '1.0.0',
    policyVersion: '2026-11-23.1',
    score: ((i * 7919) % 10_000) / 10_000,
    decision: 'approve',
    reasons: ['CARD_COUNT_1H', 'MCC_RISK_TIER', 'CARD_AMOUNT_RATIO'],
    degraded: [],
    segment: SEGMENTS[i % SEGMENTS.length],
    amount: 1000 + (i % 9000),
    currency: 'EUR',
    channel: i % 2 ? 'ecommerce' : 'pos',
  });
}

function eventLine(i: number): string {
  const label = i % 100 === 0;
  return JSON.stringify({
    kind: 'event',
    receivedAt: '2026-11-02T00:00:00.000Z',
    event: label
      ? {
          type: 'label',
          eventId: `ev-${i}`,
          transactionId: `tx-${(i * 3).toString(16).padStart(12, '0')}`,
          cardId: `tok_${(i % 50_000).toString(36)}`,
          merchantId: `m_${i % 3000}`,
          label: 'chargeback',
          timestamp: '2026-11-02T00:00:00Z',
          transactionTimestamp: `${DAY}T08:00:00Z`,
        }
      : {
          type: 'authorization',
          eventId: `ev-${i}`,
          transactionId: `tx-${i.toString(16).padStart(12, '0')}`,
          cardId: `tok_${(i % 50_000).toString(36)}`,
          merchantId: `m_${i % 3000}`,
          mcc: '5411',
          amount: 1000 + (i % 9000),
          currency: 'EUR',
          country: 'DE',
          channel: 'ecommerce',
          deviceId: `dev-${i % 7000}`,
          outcome: 'approved',
          timestamp: '2026-11-02T00:00:00Z',
        },
  });
}

function objectsOf(count: number, line: (i: number) => string): Uint8Array[] {
  const objects: Uint8Array[] = [];
  for (let start = 0; start < count; start += LINES_PER_OBJECT) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(count, start + LINES_PER_OBJECT); i++) lines.push(line(i));
    objects.push(gzipSync(`${lines.join('\n')}\n`));
  }
  return objects;
}

/** An in-memory bucket: `score/dt=DAY/` and `event/dt=2026-11-02/`, opened in 64 KiB chunks. */
function memoryBucket(score: Uint8Array[], event: Uint8Array[]) {
  const files = new Map<string, Uint8Array>();
  for (const [i, bytes] of score.entries()) files.set(`score/dt=${DAY}/part-${i}.jsonl.gz`, bytes);
  for (const [i, bytes] of event.entries()) files.set(`event/dt=2026-11-02/part-${i}.jsonl.gz`, bytes);
  return {
    list: async (prefix: string) => [...files.keys()].filter((key) => key.startsWith(prefix)),
    open: async (key: string) => {
      const bytes = files.get(key) as Uint8Array;
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += 64 * 1024)
        chunks.push(Buffer.from(bytes.subarray(i, i + 64 * 1024)));
      return Readable.from(chunks);
    },
  };
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const total = (objects: Uint8Array[]) => objects.reduce((sum, o) => sum + o.length, 0);

async function main(): Promise<void> {
  process.stderr.write(
    `building ${ANSWERS} answers and ${EVENTS} events (gzip, ${LINES_PER_OBJECT} lines per object)…\n`,
  );
  const score = objectsOf(ANSWERS, scoreLine);
  const event = objectsOf(EVENTS, eventLine);
  const bucket = memoryBucket(score, event);

  // Answers: read and hold, as the handler does.
  const labelScanConcurrency = Number(values['label-concurrency']);
  let reader = new S3ArchiveReader(bucket, { labelScanConcurrency });
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let started = performance.now();
  const held = [];
  for await (const answer of reader.answers(DAY, DAY)) held.push(answer);
  const answerSeconds = (performance.now() - started) / 1000;
  global.gc?.();
  const bytesPerAnswer = (process.memoryUsage().heapUsed - heapBefore) / held.length;

  // Labels: the scan of every event line.
  started = performance.now();
  let labels = 0;
  for await (const _ of reader.labels('2026-11-02', '2026-11-02')) labels++;
  const eventSeconds = (performance.now() - started) / 1000;

  // The whole handler (read, join, ECE, segments) over the same objects.
  reader = new S3ArchiveReader(bucket);
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const handler = createCalibrationHandler({
    archive: reader,
    card: {
      version: '1.0.0',
      thresholds: {
        review: { score: 0.5, fpr: 0.01, recall: 0.9 },
        decline: { score: 0.9, fpr: 0.001, recall: 0.7 },
      },
    },
    config: { maturityDays: 0, spanDays: 1, eceBins: 10, minAnswersPerSegment: 1000 },
    metrics: new Metrics({ namespace: 'Bench', serviceName: 'calibration-monitor' }),
    logger: new Logger({ serviceName: 'calibration-monitor', logLevel: 'ERROR' }),
    now: () => Date.parse('2026-10-13T04:00:00Z'),
  });
  started = performance.now();
  const report = await handler();
  const handlerSeconds = (performance.now() - started) / 1000;

  const answersPerSecond = held.length / answerSeconds;
  const eventsPerSecond = EVENTS / eventSeconds;
  const prodAnswersPerDay = Number(values['prod-rps']) * 86_400;
  const rows = [
    [
      'answers read and held',
      `${held.length}`,
      `${Math.round(answersPerSecond)} /s`,
      `${mib(total(score))} MiB gzip`,
    ],
    [
      'event lines scanned for labels',
      `${EVENTS} (${labels} labels)`,
      `${Math.round(eventsPerSecond)} /s`,
      `${mib(total(event))} MiB gzip`,
    ],
    ['whole handler run', `${report.overall?.answers ?? 0} joined`, `${handlerSeconds.toFixed(2)} s`, ''],
    [
      'heap held per answer',
      '',
      `${Math.round(bytesPerAnswer)} bytes`,
      global.gc ? 'after gc' : 'no --expose-gc: rough',
    ],
  ];
  process.stdout.write(`\n| step | records | rate | data |\n| --- | --- | --- | --- |\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  // One run of a stage: spanDays of answers, and (maturityDays + spanDays + 1) days of events,
  // assuming one event per answer (the authorization outcome) — labels are a rounding error.
  for (const [span, maturity] of [
    [1, 45],
    [7, 45],
  ] as const) {
    const answers = prodAnswersPerDay * span;
    const events = prodAnswersPerDay * (maturity + span + 1);
    const seconds = answers / answersPerSecond + events / eventsPerSecond;
    process.stdout.write(
      `\nAt ${values['prod-rps']} rps, spanDays ${span}, maturityDays ${maturity}: ${(answers / 1e6).toFixed(1)} M answers (~${mib(answers * bytesPerAnswer)} MiB held), ${(events / 1e6).toFixed(0)} M event lines → ~${Math.round(seconds)} s of one core (+ S3 transfer)\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:calibration failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
