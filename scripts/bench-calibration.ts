/**
 * `npm run bench:calibration [-- --answers N --events N --label-share F --label-concurrency N]`:
 * what one calibration run costs, to size the deployed function (docs/monitoring.md, *Sizing*).
 * Builds gzip JSON-lines objects of archive-shaped score and event records in memory, streams
 * them through the S3 reader (the same gunzip, line splitting and record checks as in Lambda;
 * only S3's transfer is missing), and runs the monitor's handler over them. Prints answers/s,
 * label lines/s from the label partitions (`event/type=label/`), the old layout's scan rate
 * (every event of a date in one partition, lines without `"label"` not parsed, as the reader
 * did before the split), the heap held per answer, and the projected run at the prod stage's
 * planned average traffic (`calibration.plannedAverageRps` in `infra/config/stages.ts`) for
 * the new layout and the old, against Lambda's 15 minutes.
 */
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { decompressed, S3ArchiveReader, splitLines } from '#adapters/s3-archive-reader';
import { labelOf } from '#domain/archive-records';
import { createCalibrationHandler } from '../functions/calibration-monitor/handler';
import { prod } from '../infra/config/stages';

const { values } = parseArgs({
  options: {
    answers: { type: 'string', default: '300000' },
    events: { type: 'string', default: '600000' },
    labels: { type: 'string', default: '100000' },
    'label-share': { type: 'string', default: '0.01' },
    'label-concurrency': { type: 'string', default: '4' },
  },
});
const ANSWERS = Number(values.answers);
const EVENTS = Number(values.events);
const LABELS = Number(values.labels);
/** Label events per authorization (chargebacks and confirmations of either kind). */
const LABEL_SHARE = Number(values['label-share']);
const LAMBDA_LIMIT_S = 15 * 60;
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

/** An event of the old, untyped layout: a label every 1/LABEL_SHARE lines, else an authorization. */
function eventLine(i: number, label = i % Math.round(1 / LABEL_SHARE) === 0): string {
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

/** A label line of the new layout (every line of a `event/type=label/` object is one). */
const labelLine = (i: number) => eventLine(i, true);

/**
 * An in-memory bucket: `score/dt=DAY/`, `event/type=label/dt=2026-11-02/` and the old layout's
 * `event/dt=2026-11-02/`, opened in 64 KiB chunks.
 */
function memoryBucket(score: Uint8Array[], labels: Uint8Array[], legacy: Uint8Array[]) {
  const files = new Map<string, Uint8Array>();
  for (const [i, bytes] of score.entries()) files.set(`score/dt=${DAY}/part-${i}.jsonl.gz`, bytes);
  for (const [i, bytes] of labels.entries())
    files.set(`event/type=label/dt=2026-11-02/part-${i}.jsonl.gz`, bytes);
  for (const [i, bytes] of legacy.entries()) files.set(`event/dt=2026-11-02/part-${i}.jsonl.gz`, bytes);
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

/**
 * The old layout's label scan, as the reader did it before events were split by type: every
 * line of every event object of the dates, parsed only when it holds the token `"label"`.
 */
async function legacyLabelScan(bucket: ReturnType<typeof memoryBucket>, concurrency: number) {
  const keys = (await bucket.list('event/dt=2026-11-02/')).sort();
  let labels = 0;
  let next = 0;
  async function worker() {
    while (next < keys.length) {
      const key = keys[next++] as string;
      for await (const line of splitLines(decompressed(await bucket.open(key)), 1024 * 1024, () => {}))
        if (line.includes('"label"') && labelOf(JSON.parse(line))) labels++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return labels;
}

async function main(): Promise<void> {
  process.stderr.write(
    `building ${ANSWERS} answers, ${LABELS} labels and ${EVENTS} events of the old layout (gzip, ${LINES_PER_OBJECT} lines per object)…\n`,
  );
  const score = objectsOf(ANSWERS, scoreLine);
  const label = objectsOf(LABELS, labelLine);
  const legacy = objectsOf(EVENTS, (i) => eventLine(i));
  const bucket = memoryBucket(score, label, legacy);

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

  // Answers of a partition next to the window: only offset-written times are parsed (none here).
  started = performance.now();
  let edgeAnswers = 0;
  for await (const _ of reader.answers(DAY, DAY, { offsetTimesOnly: true })) edgeAnswers++;
  const edgeSeconds = (performance.now() - started) / 1000;
  if (edgeAnswers !== 0) throw new Error(`${edgeAnswers} UTC answers parsed as offset-written`);

  // Labels, new layout: every line of the label partitions is parsed and checked.
  started = performance.now();
  let labels = 0;
  for await (const _ of reader.labels('2026-11-02', '2026-11-02')) labels++;
  const labelSeconds = (performance.now() - started) / 1000;
  if (labels !== LABELS) throw new Error(`read ${labels} labels of ${LABELS}`);

  // Labels, old layout: the scan of every event line of the dates.
  started = performance.now();
  const legacyLabels = await legacyLabelScan(bucket, labelScanConcurrency);
  const legacySeconds = (performance.now() - started) / 1000;

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
  const edgePerSecond = ANSWERS / edgeSeconds;
  const labelsPerSecond = LABELS / labelSeconds;
  const legacyPerSecond = EVENTS / legacySeconds;
  const rows = [
    [
      'answers read and held',
      `${held.length}`,
      `${Math.round(answersPerSecond)} /s`,
      `${mib(total(score))} MiB gzip`,
    ],
    [
      'answer lines scanned next to the window (UTC, unparsed)',
      `${ANSWERS}`,
      `${Math.round(edgePerSecond)} /s`,
      `${mib(total(score))} MiB gzip`,
    ],
    [
      'label lines read (`event/type=label/`)',
      `${LABELS}`,
      `${Math.round(labelsPerSecond)} /s`,
      `${mib(total(label))} MiB gzip`,
    ],
    [
      'event lines scanned for labels (old layout)',
      `${EVENTS} (${legacyLabels} labels)`,
      `${Math.round(legacyPerSecond)} /s`,
      `${mib(total(legacy))} MiB gzip`,
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

  // One run of the prod stage at its planned average traffic, as the handler reads: answers of
  // spanDays partitions parsed and held, the partition either side scanned for offset-written
  // times (all UTC assumed), labels (or every event) of maturityDays + spanDays + 2 partitions
  // (the day before the window to today). One authorization per answer; LABEL_SHARE labels
  // per authorization.
  const { maturityDays, spanDays, plannedAverageRps } = prod.calibration;
  if (!plannedAverageRps) throw new Error('prod.calibration.plannedAverageRps is not set');
  const perDay = plannedAverageRps * 86_400;
  const answerLines = perDay * (spanDays + 2);
  const eventDays = maturityDays + spanDays + 2;
  const labelLines = perDay * eventDays * LABEL_SHARE;
  const eventLines = perDay * eventDays * (1 + LABEL_SHARE);
  const answerRunSeconds = (perDay * spanDays) / answersPerSecond + (perDay * 2) / edgePerSecond;
  const gib = (lines: number, objects: Uint8Array[], count: number) =>
    ((lines * total(objects)) / count / 1024 ** 3).toFixed(1);
  const layouts = [
    [
      'event/type=label/ (new), answers next to the window unparsed',
      labelLines,
      labelsPerSecond,
      gib(labelLines, label, LABELS),
    ],
    [
      'event/dt=… (old), answers next to the window unparsed',
      eventLines,
      legacyPerSecond,
      gib(eventLines, legacy, EVENTS),
    ],
  ] as const;
  process.stdout.write(
    `\nProjected prod run: ${plannedAverageRps} rps planned average (prod.calibration.plannedAverageRps), maturityDays ${maturityDays}, spanDays ${spanDays}, ${LABEL_SHARE * 100} % labels per authorization; one core, S3 transfer not included\n\n`,
  );
  process.stdout.write(
    '| layout | answer lines | event lines read | answers s | events s | total | of 15 min | gzip read |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n',
  );
  // Before this change the answers of all spanDays + 2 partitions were parsed.
  const rowsOf = [
    ...layouts.map(
      ([layout, lines, rate, eventGib]) => [layout, answerRunSeconds, lines, rate, eventGib] as const,
    ),
    [
      'event/dt=… (old), every answer parsed (before)',
      answerLines / answersPerSecond,
      eventLines,
      legacyPerSecond,
      gib(eventLines, legacy, EVENTS),
    ] as const,
  ];
  for (const [layout, answerSeconds, lines, rate, eventGib] of rowsOf) {
    const eventSeconds = lines / rate;
    const totalSeconds = answerSeconds + eventSeconds;
    process.stdout.write(
      `| ${layout} | ${(answerLines / 1e6).toFixed(1)} M | ${(lines / 1e6).toFixed(1)} M | ${Math.round(answerSeconds)} | ${Math.round(eventSeconds)} | ${(totalSeconds / 60).toFixed(1)} min | ${Math.round((100 * totalSeconds) / LAMBDA_LIMIT_S)} % | ${gib(answerLines, score, ANSWERS)} + ${eventGib} GiB |\n`,
    );
  }
  process.stdout.write(
    `\nHeap: ${((perDay * spanDays * bytesPerAnswer) / 1024 ** 3).toFixed(2)} GiB of answers held (memoryMb ${prod.calibration.memoryMb}).\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:calibration failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
