import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { daysBetween, FileArchiveReader } from '#adapters/file-archive-reader';
import { createCalibrationHandler, maturedWindow } from '../../../functions/calibration-monitor/handler';
import { captureOutput } from '../../support/output';

const NOW = Date.parse('2026-12-01T03:00:00Z');
const card = {
  version: '1.0.0',
  thresholds: {
    review: { score: 0.5, fpr: 0.02, recall: 0.8 },
    decline: { score: 0.8, fpr: 0.01, recall: 0.75 },
  },
};

function archiveWith(scores: object[], events: object[], raw = ''): string {
  const root = mkdtempSync(join(tmpdir(), 'archive-'));
  const write = (partition: string, day: string, lines: object[], gzip: boolean) => {
    const dir = join(root, partition, `dt=${day}`);
    mkdirSync(dir, { recursive: true });
    const text = `${lines.map((l) => JSON.stringify(l)).join('\n')}\n${raw}`;
    writeFileSync(join(dir, gzip ? 'part-0.gz' : 'part-0.jsonl'), gzip ? gzipSync(text) : text);
  };
  write('score', '2026-10-10', scores, true);
  write('event/type=label', '2026-11-20', events, false);
  return root;
}

const answer = (
  id: string,
  score: number,
  eventTime = '2026-10-10T12:00:00Z',
  segment = 'ecommerce.low.known',
) => ({
  kind: 'score',
  transactionId: id,
  eventTime,
  modelVersion: '1.0.0',
  score,
  segment,
  decision: 'approve',
});
const label = (id: string, value = 'chargeback') => ({
  kind: 'event',
  receivedAt: '2026-11-20T00:00:00Z',
  event: {
    type: 'label',
    transactionId: id,
    label: value,
    transactionTimestamp: '2026-10-10T12:00:00Z',
    timestamp: '2026-11-20T00:00:00Z',
  },
});

async function run(root: string) {
  const handler = createCalibrationHandler({
    archive: new FileArchiveReader(root),
    card,
    config: { maturityDays: 45, spanDays: 7, eceBins: 2, minAnswersPerSegment: 2 },
    metrics: new Metrics({
      namespace: 'Test',
      serviceName: 'calibration-monitor',
      defaultDimensions: { stage: 'dev' },
    }),
    logger: new Logger({ serviceName: 'calibration-monitor' }),
    now: () => NOW,
  });
  return captureOutput(() => handler());
}

describe('calibration monitor', () => {
  it('judges the matured week: joins archive answers with later labels and publishes the figures', async () => {
    // prepare: frauds t1 (0.9, declined) and t2 (0.6, reviewed only); legit t3 (0.85) and t4 (0.1);
    // t5 lies outside the window; one line is garbage.
    const root = archiveWith(
      [
        answer('t1', 0.9),
        answer('t2', 0.6),
        answer('t3', 0.85),
        answer('t4', 0.1),
        answer('t5', 0.9, '2026-11-01T00:00:00Z'),
      ],
      [label('t1'), label('t2', 'confirmed_fraud'), label('t4', 'confirmed_legitimate')],
      'not json\n',
    );
    // act
    const { result, output } = await run(root);
    // assert
    expect(result.window).toEqual({ start: '2026-10-10T00:00:00.000Z', end: '2026-10-17T00:00:00.000Z' });
    expect(result.overall).toMatchObject({ answers: 4, frauds: 2 });
    expect(result.overall?.decline).toMatchObject({ recall: 0.5, precision: 0.5 });
    expect(result.overall?.review).toMatchObject({ recall: 1, precision: 2 / 3 });
    // bins {0.1, 0.6}: |0.35 − 0.5| = 0.15; {0.85, 0.9}: |0.875 − 0.5| = 0.375; ECE = 0.2625
    expect(result.overall?.ece).toBeCloseTo(0.2625, 10);
    expect(output).toContain('"RecallAtDecline":50');
    expect(output).toContain('"RecallGapAtDecline":25');
    expect(output).toContain('"segment":"ecommerce.low.known"');
  });

  it('takes from the partitions either side of the window only the answers an offset puts inside it', async () => {
    // prepare: the window is [2026-10-10, 2026-10-17) UTC; the day before holds one answer whose
    // offset moves it in and one in UTC (outside, and damaged: never parsed); the day after, one
    // moved in and one moved further out
    const root = archiveWith([answer('w1', 0.9)], [label('w1'), label('before'), label('after')]);
    const side = (day: string, lines: string[]) => {
      mkdirSync(join(root, 'score', `dt=${day}`), { recursive: true });
      writeFileSync(join(root, 'score', `dt=${day}`, 'part-0.jsonl'), `${lines.join('\n')}\n`);
    };
    side('2026-10-09', [
      JSON.stringify(answer('before', 0.9, '2026-10-09T23:30:00-02:00')),
      '{"kind":"score","eventTime":"2026-10-09T23:30:00Z", damaged',
    ]);
    side('2026-10-17', [
      JSON.stringify(answer('after', 0.9, '2026-10-17T00:30:00+02:00')),
      JSON.stringify(answer('out', 0.9, '2026-10-17T00:30:00-02:00')),
    ]);
    // act
    const { result } = await run(root);
    // assert
    expect(result.overall).toMatchObject({ answers: 3, frauds: 3 });
    expect(result.answersRead).toBe(3);
    expect(result.archive).toMatchObject({ lines: 8, skippedLines: 0 });
  });

  it('publishes every per-segment figure under modelVersion and segment', async () => {
    // prepare: two segments of two answers each (minAnswersPerSegment 2)
    const root = archiveWith(
      [
        answer('a1', 0.9, undefined, 'pos.low.known'),
        answer('a2', 0.1, undefined, 'pos.low.known'),
        answer('b1', 0.85),
        answer('b2', 0.2),
      ],
      [label('a1'), label('b1')],
    );
    // act
    const { output } = await run(root);
    // assert: each EMF document's metrics, by the dimension set it is published under
    const documents = output
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map(
        (line) =>
          JSON.parse(line) as Record<string, unknown> & {
            _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
          },
      );
    const bySegment = new Map<string, string[]>();
    for (const doc of documents) {
      const [directive] = doc._aws.CloudWatchMetrics;
      const dimensions = directive?.Dimensions[0] ?? [];
      expect(dimensions).toContain('modelVersion');
      const key = dimensions.includes('segment') ? String(doc.segment) : 'overall';
      bySegment.set(key, [...(bySegment.get(key) ?? []), ...(directive?.Metrics ?? []).map((m) => m.Name)]);
    }
    for (const segment of ['pos.low.known', 'ecommerce.low.known'])
      expect(bySegment.get(segment)?.sort()).toEqual(
        [
          'CalibrationEce',
          'LabelledAnswers',
          'PrecisionAtDecline',
          'PrecisionAtReview',
          'RecallAtDecline',
          'RecallAtReview',
          'RecallGapAtDecline',
        ].sort(),
      );
    expect(bySegment.get('overall')).toContain('CalibrationEce');
  });

  it('publishes only a zero count and a warning when no labelled answer matured', async () => {
    // prepare
    const root = archiveWith([], []);
    // act
    const { result, output } = await run(root);
    // assert
    expect(result.overall).toBeUndefined();
    expect(output).toContain('no labelled answers');
    expect(output).toContain('"LabelledAnswers":0');
    expect(output).not.toContain('CalibrationEce');
  });

  it('computes the matured window and the partition days', () => {
    // act / assert
    expect(maturedWindow(NOW, 45, 7)).toEqual({
      start: Date.parse('2026-10-10T00:00:00Z'),
      end: Date.parse('2026-10-17T00:00:00Z'),
    });
    expect(daysBetween('2026-02-27', '2026-03-01')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
  });
});
