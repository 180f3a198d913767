/**
 * What on-call relies on: every alarm reaches the right topic, which CloudWatch may publish to,
 * names its runbook section (which exists), and the dashboard shows the signals the issue
 * lists. Also checks that the metrics the alarms and widgets query are in the metrics contract
 * the handlers publish with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_METRIC_NAMES, METRICS_NAMESPACE } from '../../functions/shared/metrics-contract';
import { dev } from '../../infra/config/stages';
import { RUNBOOK_PATH } from '../../infra/constructs/naming';
import { alarmsByName, asList, only, resources, stage, synthStage, VERSION_IN_NAME } from './support';

const ROOT = join(__dirname, '..', '..');

/** GitHub's heading anchors for the `###` headings of a Markdown file. */
function headingAnchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
      (m[1] as string)
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe.each(['dev', 'prod'] as const)('alarms and topics (%s)', (name) => {
  const { service } = stage(name);
  const alarms = alarmsByName(service);
  const topics = resources(service, 'AWS::SNS::Topic');
  const topicId = (severity: string) =>
    Object.entries(topics).find(([, t]) => (t.Properties.DisplayName as string).endsWith(severity))?.[0];

  it('has two KMS-encrypted topics, page and ticket', () => {
    expect(Object.keys(topics)).toHaveLength(2);
    for (const topic of Object.values(topics)) expect(topic.Properties?.KmsMasterKeyId).toBeDefined();
    expect(topicId('page')).toBeDefined();
    expect(topicId('ticket')).toBeDefined();
  });

  it('lets CloudWatch alarms of this account and stage publish, next to the TLS deny', () => {
    const policies = Object.values(resources(service, 'AWS::SNS::TopicPolicy'));
    expect(policies).toHaveLength(2);
    const covered = new Set<string>();
    for (const policy of policies) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
        .Statement;
      // prepare: the two statements that matter
      const deny = statements.find((st) => st.Effect === 'Deny');
      const allow = statements.find((st) => st.Effect === 'Allow');
      // assert
      expect(JSON.stringify(deny?.Condition)).toContain('"aws:SecureTransport":"false"');
      expect(allow).toMatchObject({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: {
          StringEquals: { 'aws:SourceAccount': expect.anything() },
          ArnLike: { 'aws:SourceArn': expect.anything() },
        },
      });
      expect(JSON.stringify(allow?.Condition)).toContain(`:alarm:${name}-*`);
      for (const topic of asList(policy.Properties.Topics as { Ref: string }[])) covered.add(topic.Ref);
    }
    expect([...covered].sort()).toEqual(Object.keys(topics).sort());
  });

  it("lets CloudWatch use the topics' key", () => {
    const keys = Object.values(resources(service, 'AWS::KMS::Key')).map((k) => JSON.stringify(k.Properties));
    expect(
      keys.some((k) => k.includes('cloudwatch.amazonaws.com') && k.includes('kms:GenerateDataKey')),
    ).toBe(true);
  });

  it('sends every alarm to the topic its name says, and page alarms also when they clear', () => {
    // 3 guardrails + the judge's verdict + 5 page (+ WAF where on) + 9 ticket + 2 archive
    // tickets + 2 drift tickets + 3 calibration tickets
    expect(alarms.size).toBe(name === 'prod' ? 26 : 25);
    for (const [alarmName, [, alarm]] of alarms) {
      const severity = alarmName.endsWith('-page')
        ? 'page'
        : alarmName.endsWith('-ticket')
          ? 'ticket'
          : undefined;
      expect({ alarmName, severity }).toEqual({ alarmName, severity: expect.stringMatching(/page|ticket/) });
      expect({ alarmName, actions: alarm.Properties?.AlarmActions }).toEqual({
        alarmName,
        actions: [{ Ref: topicId(severity as string) }],
      });
      expect({ alarmName, ok: alarm.Properties?.OKActions }).toEqual({
        alarmName,
        ok: severity === 'page' ? [{ Ref: topicId('page') }] : undefined,
      });
    }
  });

  it('pages for user impact and the canary guardrails, tickets for the rest', () => {
    const names = [...alarms.keys()].sort();
    expect(names.filter((n) => n.endsWith('-page'))).toEqual(
      [
        'api-4xx-rate',
        'api-5xx-rate',
        'api-latency-p99',
        'api-traffic-drop',
        'score-error-rate',
        `score-v${VERSION_IN_NAME}-canary-app-errors`,
        `score-v${VERSION_IN_NAME}-canary-errors`,
        `score-v${VERSION_IN_NAME}-canary-latency`,
        `score-v${VERSION_IN_NAME}-canary-verdict`,
        ...(name === 'prod' ? ['waf-blocked-rate'] : []),
      ].map((s) => `${name}-${s}-page`),
    );
    expect(names.filter((n) => n.endsWith('-ticket'))).toEqual(
      [
        'archive-delivery-failures',
        'archive-dropped-records',
        'calibration-ece',
        'calibration-failed-run',
        'calibration-recall-gap',
        'drift-feature-psi',
        'drift-score-psi',
        'events-dlq-depth',
        'events-queue-age',
        'events-updater-failures',
        'score-degraded-rate',
        'score-feature-age',
        'score-feature-hit-rate',
        'score-pc-spillover',
        'score-pc-utilization',
        'tables-throttles',
      ].map((s) => `${name}-${s}-ticket`),
    );
  });

  it('names a runbook section in every alarm description, and the runbook has it', () => {
    const anchors = headingAnchors(readFileSync(join(ROOT, RUNBOOK_PATH), 'utf8'));
    for (const [alarmName, [, alarm]] of alarms) {
      const description = alarm.Properties?.AlarmDescription as string;
      const anchor = description.match(new RegExp(`Runbook: ${RUNBOOK_PATH}#([a-z0-9-]+)$`))?.[1];
      expect({ alarmName, anchor }).toEqual({
        alarmName,
        anchor: alarmName.replace(/^[a-z0-9]+-|-(page|ticket)$/g, '').replace(`-v${VERSION_IN_NAME}`, ''),
      });
      expect({ alarmName, inRunbook: anchors.has(anchor as string) }).toEqual({ alarmName, inRunbook: true });
    }
  });

  it('uses the stage thresholds: p99 latency pages at the SLA', () => {
    const [, latency] = alarms.get(`${name}-api-latency-p99-page`) ?? [];
    expect(latency?.Properties).toMatchObject({
      Threshold: stage(name).config.alarms.page.apiLatencyP99Ms.threshold,
      ExtendedStatistic: 'p99',
      MetricName: 'Latency',
      Namespace: 'AWS/ApiGateway',
    });
  });
});

describe('notification subscriptions from the stage config', () => {
  it('subscribes e-mail and HTTPS endpoints to their topic', () => {
    const { service } = synthStage(dev, (c) => ({
      ...c,
      notifications: {
        page: {
          emails: ['oncall@example.com'],
          httpsEndpoints: ['https://events.pagerduty.example/integration/x'],
        },
        ticket: { emails: ['team@example.com'], httpsEndpoints: [] },
      },
    }));
    const subs = Object.values(resources(service, 'AWS::SNS::Subscription')).map((s) => s.Properties);
    expect(subs).toHaveLength(3);
    expect(subs).toContainEqual(
      expect.objectContaining({ Protocol: 'email', Endpoint: 'oncall@example.com' }),
    );
    expect(subs).toContainEqual(
      expect.objectContaining({
        Protocol: 'https',
        Endpoint: 'https://events.pagerduty.example/integration/x',
      }),
    );
  });
});

describe('dashboard', () => {
  const { service } = stage('prod');
  const [, dashboard] = only(service, 'AWS::CloudWatch::Dashboard');
  const body = JSON.stringify(dashboard.Properties?.DashboardBody);

  it.each([
    ['request rate', 'Requests'],
    ['error rate', 'MetricName=\\\\\\"Errors\\\\\\"'],
    ['latency total / features / inference', 'LatencyInference'],
    ['feature fetch latency', 'LatencyFeatures'],
    ['score distribution', 'Score distribution'],
    ['decision mix', 'DecisionDecline'],
    ['feature-store hit rate', 'FeatureHit'],
    ['feature age', 'FeatureAge'],
    ['degraded answers', 'DegradedFeaturesUnavailable'],
    ['provisioned-concurrency utilization', 'ProvisionedConcurrencyUtilization'],
    ['spill-over', 'ProvisionedConcurrencySpilloverInvocations'],
    ['throttles', 'Throttles'],
    ['DynamoDB latency', 'SuccessfulRequestLatency'],
    ['queue age', 'ApproximateAgeOfOldestMessage'],
    ['DLQ depth', 'ApproximateNumberOfMessagesVisible'],
  ])('shows %s', (_, needle) => {
    expect(body).toContain(needle);
  });

  it('shows p50, p95 and p99', () => {
    for (const p of ['p50', 'p95', 'p99']) expect(body).toContain(p);
  });
});

describe('alarm metrics come from the metrics contract', () => {
  it('queries only FraudScoring metrics the contract names', () => {
    // prepare
    const { service } = stage('prod');
    const template = JSON.stringify(service.toJSON());
    // act
    const used = new Set<string>();
    for (const m of template.matchAll(
      new RegExp(`"MetricName":"(\\w+)","Namespace":"${METRICS_NAMESPACE}"`, 'g'),
    ))
      used.add(m[1] as string);
    for (const m of template.matchAll(/\{FraudScoring,[\w,]+\} MetricName=\\\\\\"(\w+)\\\\\\"/g))
      used.add(m[1] as string);
    // assert
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((metric) => !ALL_METRIC_NAMES.has(metric))).toEqual([]);
  });
});

describe('new page alarms', () => {
  const { service, config } = stage('prod');
  const alarms = alarmsByName(service);

  it('pages on a 4xx surge as a share of requests', () => {
    const [, alarm] = alarms.get('prod-api-4xx-rate-page') ?? [];
    const json = JSON.stringify(alarm?.Properties);
    expect(json).toContain('"MetricName":"4XXError"');
    expect(json).toContain('100 * clientErrors');
    expect(alarm?.Properties).toMatchObject({ Threshold: config.alarms.page.api4xxRatePercent.threshold });
  });

  it('pages on a traffic drop below the anomaly band of the request count, and on no traffic at all', () => {
    const [, alarm] = alarms.get('prod-api-traffic-drop-page') ?? [];
    expect(alarm?.Properties).toMatchObject({
      ComparisonOperator: 'LessThanLowerThreshold',
      ThresholdMetricId: expect.any(String),
      TreatMissingData: 'breaching',
    });
    const metrics = alarm?.Properties.Metrics as {
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    const band = new RegExp(
      `^ANOMALY_DETECTION_BAND\\(\\w+, ${config.alarms.page.trafficDrop.threshold}\\)$`,
    );
    expect(metrics.filter((m) => m.Expression).map((m) => m.Expression)).toEqual([
      expect.stringMatching(band),
    ]);
    expect(metrics.find((m) => m.MetricStat)?.MetricStat?.Metric.MetricName).toBe('Count');
    // dev is idle for hours: there no data is not a drop
    const [, devAlarm] = alarmsByName(stage('dev').service).get('dev-api-traffic-drop-page') ?? [];
    expect(devAlarm?.Properties.TreatMissingData).toBe('notBreaching');
  });

  it('pages on the share of requests the WAF blocks, only where WAF is on', () => {
    const [, alarm] = alarms.get('prod-waf-blocked-rate-page') ?? [];
    const json = JSON.stringify(alarm?.Properties);
    expect(json).toContain('"Namespace":"AWS/WAFV2"');
    expect(json).toContain('"MetricName":"BlockedRequests"');
    expect(json).toContain('"MetricName":"AllowedRequests"');
    expect(json).toContain('{"Name":"Rule","Value":"ALL"}');
    expect(alarmsByName(stage('dev').service).has('dev-waf-blocked-rate-page')).toBe(false);
  });
});
