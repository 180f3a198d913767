/**
 * The drift monitor as deployed: hourly schedule, least-privilege role, the card bundled as its
 * baseline, ticket alarms that hold for 3 hours before opening, and the dashboard row.
 */
import { alarmsByName, asList, functionId, functionStatements, resources, stage } from './support';

describe.each(['dev', 'prod'] as const)('production monitors (%s)', (name) => {
  const { service } = stage(name);
  const driftId = functionId(service, 'ModelMonitorsDrift');
  const alarms = alarmsByName(service);

  it('runs the drift monitor every hour with the card as its baseline', () => {
    // prepare
    const fn = resources(service, 'AWS::Lambda::Function')[driftId];
    // act
    const rules = Object.values(resources(service, 'AWS::Events::Rule'));
    // assert
    expect(fn?.Properties?.Environment).toMatchObject({
      Variables: { MODEL_CARD_PATH: 'model/model.json', DRIFT_WINDOW_MINUTES: '60', STAGE: name },
    });
    const hourly = rules.filter((rule) => rule.Properties?.ScheduleExpression === 'rate(1 hour)');
    expect(hourly).toHaveLength(1);
    expect(JSON.stringify(hourly[0]?.Properties?.Targets)).toContain(driftId);
  });

  it('lets the drift monitor read metrics and nothing else', () => {
    // act
    const actions = functionStatements(service, driftId)
      .flatMap((s) => asList(s.Action as string[]))
      .filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))
      .sort();
    // assert
    expect(actions).toEqual(['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics']);
  });

  it('opens a ticket when score PSI stays above 0.2 for 3 hours', () => {
    // act
    const [, alarm] = alarms.get(`${name}-drift-score-psi-ticket`) ?? [];
    // assert
    const [query] = (alarm?.Properties?.Metrics ?? []) as {
      MetricStat?: { Metric: Record<string, unknown>; Period: number; Stat: string };
    }[];
    expect(query?.MetricStat).toMatchObject({
      Metric: {
        MetricName: 'DriftPsiScore',
        Namespace: 'FraudScoring',
        Dimensions: expect.arrayContaining([
          { Name: 'service', Value: 'drift-monitor' },
          { Name: 'modelVersion', Value: '1.0.0' },
        ]),
      },
      Period: 3600,
      Stat: 'Maximum',
    });
    expect(alarm?.Properties).toMatchObject({
      Threshold: 0.2,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(JSON.stringify(alarm?.Properties?.AlarmDescription)).toContain('docs/runbook.md#drift-score-psi');
  });

  it('opens a ticket when the most shifted top feature stays above 0.2 for 3 hours', () => {
    // act
    const [, alarm] = alarms.get(`${name}-drift-feature-psi-ticket`) ?? [];
    const metrics = (alarm?.Properties?.Metrics ?? []) as {
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    // assert
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('MAX([f0,f1,f2,f3,f4])');
    expect(metrics.filter((m) => m.MetricStat?.Metric.MetricName === 'DriftPsiFeature')).toHaveLength(5);
    expect(alarm?.Properties).toMatchObject({ Threshold: 0.2, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  it('adds the model-health row to the dashboard', () => {
    // act
    const body = JSON.stringify(
      Object.values(resources(service, 'AWS::CloudWatch::Dashboard'))[0]?.Properties,
    );
    // assert
    for (const needle of [
      'Model health',
      'DriftPsiScore',
      'DriftPsiFeature',
      'CalibrationEce',
      'RecallAtDecline',
    ])
      expect(body).toContain(needle);
  });
});
