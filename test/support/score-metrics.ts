/**
 * The EMF lines `recordScoreOutcome` writes for one answer, as the score handler publishes them
 * (the version set added, then one flush), parsed: shared by the score-metrics tests.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { ScoreOutcome } from '#domain/score';
import { type JudgeSignalContext, recordScoreOutcome } from '../../functions/score/metrics';
import { captureOutput } from './output';

/** One EMF line, parsed. */
export interface EmfLine {
  _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/** The version set the tests publish under. */
export const DIMENSIONS = { functionVersion: '7', modelVersion: '1.0.0' };

export async function emitScoreMetrics(result: ScoreOutcome, judge?: JudgeSignalContext): Promise<EmfLine[]> {
  const metrics = new Metrics({
    namespace: 'Test',
    serviceName: 'score',
    defaultDimensions: { stage: 'dev' },
  });
  const { output } = await captureOutput(async () => {
    metrics.addDimensions(DIMENSIONS);
    recordScoreOutcome(metrics, result, DIMENSIONS, judge);
    metrics.publishStoredMetrics();
  });
  return output
    .split('\n')
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}
