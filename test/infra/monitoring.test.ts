/**
 * What on-call relies on: every alarm reaches the right topic, names its runbook section (which
 * exists), and the dashboard shows the signals the issue lists. Also checks that the metrics the
 * alarms and widgets query are ones the handlers actually publish.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dev } from '../../infra/config/stages';
import { RUNBOOK_PATH } from '../../infra/constructs/naming';
import { alarmsByName, only, resources, stage, synthStage } from './support';

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

  it('sends every alarm to the topic its name says, and page alarms also when they clear', () => {
    expect(alarms.size).toBe(15);
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
        'api-5xx-rate',
        'api-latency-p99',
        'score-canary-app-errors',
        'score-canary-errors',
        'score-canary-latency',
        'score-error-rate',
      ].map((s) => `${name}-${s}-page`),
    );
    expect(names.filter((n) => n.endsWith('-ticket'))).toEqual(
      [
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
        anchor: alarmName.replace(/^[a-z0-9]+-|-(page|ticket)$/g, ''),
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

describe('alarm metrics match what the handlers publish', () => {
  const handlerSources = ['score/handler.ts', 'events/handler.ts', 'feature-updater/handler.ts']
    .map((f) => readFileSync(join(ROOT, 'functions', f), 'utf8'))
    .join('\n');
  const published = new Set([...handlerSources.matchAll(/addMetric\(\s*'(\w+)'/g)].map((m) => m[1]));
  for (const m of handlerSources.matchAll(/addMetric\(\s*[\w.]+ \? '(\w+)' : '(\w+)'/g)) {
    published.add(m[1]);
    published.add(m[2]);
  }
  // Built with a template literal in the handler: Decision<Approve|Review|Decline>, Degraded<Reason>.
  for (const d of ['DecisionApprove', 'DecisionReview', 'DecisionDecline']) published.add(d);
  for (const d of ['DegradedFeaturesUnavailable', 'DegradedModelUnavailable']) published.add(d);

  it('queries only FraudScoring metrics some handler emits', () => {
    const { service } = stage('prod');
    const template = JSON.stringify(service.toJSON());
    const used = new Set<string>();
    for (const m of template.matchAll(/"MetricName":"(\w+)","Namespace":"FraudScoring"/g))
      used.add(m[1] as string);
    for (const m of template.matchAll(/\{FraudScoring,[\w,]+\} MetricName=\\\\\\"(\w+)\\\\\\"/g))
      used.add(m[1] as string);
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !published.has(name))).toEqual([]);
  });
});
