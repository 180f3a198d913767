/**
 * The calibration monitor as deployed: a Node 22 function with the card bundled and the archive
 * bucket in its environment, run daily; a role that reads the archive's two record prefixes and
 * nothing else; ticket alarms on ECE, on the recall gap at decline and on failed runs, with the
 * stage's thresholds; the dashboard row wired to its metrics. Also: the stage config refuses a
 * window older than the archive keeps, and the runbook's alarm counts match the synthesized
 * alarms.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveStageConfig, StageConfigError } from '../../infra/config/stage-config';
import { dev } from '../../infra/config/stages';
import { alarmsByName, asList, functionId, functionStatements, resources, stage } from './support';

const ROOT = join(__dirname, '..', '..');

describe.each(['dev', 'prod'] as const)('calibration monitor (%s)', (name) => {
  const { service, config } = stage(name);
  const fnId = functionId(service, 'ModelMonitorsCalibration');
  const alarms = alarmsByName(service);
  const ticketTopic = Object.entries(resources(service, 'AWS::SNS::Topic')).find(
    ([, topic]) => topic.Properties.DisplayName === `Fraud scoring ${name} ticket`,
  )?.[0];
  const bucketArn = { 'Fn::ImportValue': `FraudScoring-${name}-CalibrationArchiveBucketArn` };

  it('runs a Node 22 function once a day on the archive bucket with the card and the stage settings', () => {
    // prepare
    const fn = resources(service, 'AWS::Lambda::Function')[fnId];
    // act
    const rules = Object.values(resources(service, 'AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule.Properties.Targets).includes(fnId),
    );
    // assert
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Timeout: 900,
      MemorySize: config.calibration.memoryMb,
      Environment: {
        Variables: {
          STAGE: name,
          MODEL_CARD_PATH: 'model/model.json',
          ARCHIVE_BUCKET: { 'Fn::ImportValue': expect.stringMatching(/ArchiveBucket/) },
          CALIBRATION_MATURITY_DAYS: String(config.calibration.maturityDays),
          CALIBRATION_SPAN_DAYS: String(config.calibration.spanDays),
          CALIBRATION_ECE_BINS: String(config.calibration.eceBins),
          CALIBRATION_MIN_SEGMENT_ANSWERS: String(config.calibration.minAnswersPerSegment),
        },
      },
    });
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties).toMatchObject({
      ScheduleExpression: `cron(0 ${config.calibration.runAtHourUtc} * * ? *)`,
      Targets: [{ RetryPolicy: { MaximumRetryAttempts: 2 } }],
    });
  });

  it('reads the answers and the labels of the archive (not the authorizations) and decrypts only through S3', () => {
    // act
    const statements = functionStatements(service, fnId).filter(
      (s) => !asList(s.Action as string[]).some((a) => a.startsWith('logs:') || a.startsWith('xray:')),
    );
    // assert
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucketArn,
        Condition: { StringLike: { 's3:prefix': ['score/dt=*', 'event/type=label/dt=*'] } },
      },
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [
          { 'Fn::Join': ['', [bucketArn, '/score/dt=*']] },
          { 'Fn::Join': ['', [bucketArn, '/event/type=label/dt=*']] },
        ],
      },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::ImportValue': expect.stringMatching(/ArchiveKey.*Arn/) },
        Condition: { StringEquals: { 'kms:ViaService': `s3.${config.env.region}.amazonaws.com` } },
      },
    ]);
    // The metrics leave as EMF in the log: no PutMetricData, no other read.
    const actions = functionStatements(service, fnId).flatMap((s) => asList(s.Action as string[]));
    expect(actions).not.toContain('cloudwatch:PutMetricData');
  });

  it('exports the bucket ARN it reads under the name its policy imports', () => {
    // act
    const outputs = stage(name).data.toJSON().Outputs as Record<string, { Export?: { Name: string } }>;
    // assert
    expect(Object.values(outputs).map((o) => o.Export?.Name)).toContain(
      `FraudScoring-${name}-CalibrationArchiveBucketArn`,
    );
  });

  it.each([
    ['ece', 'CalibrationEce', () => config.calibration.eceThreshold],
    ['recall-gap', 'RecallGapAtDecline', () => config.calibration.recallGapPoints],
  ])('opens a ticket on the last run’s %s above the stage threshold', (signal, metric, threshold) => {
    // act
    const [, alarm] = alarms.get(`${name}-calibration-${signal}-ticket`) ?? [];
    // assert
    expect(alarm?.Properties).toMatchObject({
      Threshold: threshold(),
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 24,
      DatapointsToAlarm: 1,
      TreatMissingData: 'ignore',
      AlarmActions: [{ Ref: ticketTopic }],
      Metrics: [
        {
          MetricStat: {
            Metric: {
              MetricName: metric,
              Namespace: 'FraudScoring',
              Dimensions: [
                { Name: 'modelVersion', Value: '1.0.0' },
                { Name: 'service', Value: 'calibration-monitor' },
                { Name: 'stage', Value: name },
              ],
            },
            Period: 3600,
            Stat: 'Maximum',
          },
        },
      ],
    });
    expect(alarm?.Properties.OKActions).toBeUndefined();
    expect(alarm?.Properties.AlarmDescription).toContain(`docs/runbook.md#calibration-${signal}`);
  });

  it('opens a ticket when a run fails, so a broken monitor does not read as a calibrated model', () => {
    // act
    const [, alarm] = alarms.get(`${name}-calibration-failed-run-ticket`) ?? [];
    // assert
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: ticketTopic }],
    });
  });

  it('graphs the recall gap and the thresholds in the model-health row', () => {
    // act
    const body = JSON.stringify(
      Object.values(resources(service, 'AWS::CloudWatch::Dashboard'))[0]?.Properties,
    );
    // assert
    expect(body).toContain('RecallGapAtDecline');
    expect(body).toContain(`ECE limit (${config.calibration.eceThreshold})`);
    expect(body).toContain(`recall gap limit (${config.calibration.recallGapPoints} points)`);
  });
});

describe('calibration stage settings', () => {
  it('refuses a window whose oldest partition the archive has already deleted', () => {
    // prepare
    const input = structuredClone(dev);
    input.calibration = { ...input.calibration, maturityDays: 80, spanDays: 9 };
    // act
    const attempt = () => resolveStageConfig(input);
    // assert
    expect(attempt).toThrow(StageConfigError);
    expect(attempt).toThrow(
      /calibration\.maturityDays: maturityDays \+ spanDays \+ 1 \(90\) must be below archive\.expireAfterDays \(90\)/,
    );
  });

  it('refuses thresholds outside their range', () => {
    // prepare
    const input = structuredClone(dev);
    input.calibration = { ...input.calibration, eceThreshold: 0, recallGapPoints: 101 };
    // act
    const attempt = () => resolveStageConfig(input);
    // assert
    expect(attempt).toThrow(/calibration\.eceThreshold/);
    expect(attempt).toThrow(/calibration\.recallGapPoints/);
  });
});

describe('runbook: who is notified', () => {
  it('counts exactly the page and ticket alarms each stage synthesizes', () => {
    // prepare
    const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');
    const stated = (severity: 'page' | 'ticket') => {
      const match = runbook.match(
        new RegExp(`\\[${severity} alarms\\]\\(#${severity}-alarms\\): (\\d+) in dev, (\\d+) in prod`),
      );
      return { dev: Number(match?.[1]), prod: Number(match?.[2]) };
    };
    // act
    const counted = (severity: 'page' | 'ticket') => {
      const count = (name: 'dev' | 'prod') => {
        const { service, stacks } = stage(name);
        const inService = [...alarmsByName(service).keys()].filter((n) => n.endsWith(`-${severity}`)).length;
        const inNeural = (stacks.neural?.alarms ?? []).filter((a) => a.severity === severity).length;
        return inService + inNeural;
      };
      return { dev: count('dev'), prod: count('prod') };
    };
    // assert
    expect(stated('page')).toEqual(counted('page'));
    expect(stated('ticket')).toEqual(counted('ticket'));
  });
});
