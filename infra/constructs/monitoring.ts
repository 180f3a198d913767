/**
 * What on-call sees and hears for one stage: the `page` and `ticket` topics
 * (`alarm-topics.ts`), the stage's alarms (`service-alarms.ts`, plus the canary guardrails the
 * delivery passes in) and the dashboard (`dashboard.ts`). Every alarm is named
 * `<stage>-<resource>-<signal>-<severity>` and links its runbook section.
 */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { PageAlarms, Severity, Subscribers, TicketAlarms } from '../config/stage-config';
import { AlarmTopics } from './alarm-topics';
import type { ServiceAlarm } from './alarms';
import { serviceDashboard } from './dashboard';
import type { EventsPipeline } from './events-pipeline';
import type { ScoringApi } from './scoring-api';
import type { ScoringFunction } from './scoring-function';
import { pageAlarms, type ServiceAlarmTargets, ticketAlarms } from './service-alarms';

export interface ServiceMonitoringProps {
  /** Stage name: alarm names, dashboard name, metric dimension. */
  readonly stage: string;
  /** Page and ticket thresholds with their evaluation defaults. */
  readonly alarms: { readonly page: PageAlarms; readonly ticket: TicketAlarms };
  /** Who each topic notifies. */
  readonly notifications: Readonly<Record<Severity, Subscribers>>;
  /** Encrypts both topics; its policy must let CloudWatch alarms publish. */
  readonly topicKey: kms.IKey;
  /** The score function, its alias and the version this deploy publishes. */
  readonly scoring: ScoringFunction;
  /** Model version served by {@link scoring} (the `modelVersion` metric dimension). */
  readonly modelVersion: string;
  /** Guardrail alarms of the deployment group: they page too. */
  readonly rollbackAlarms: readonly ServiceAlarm[];
  /** The API, its stage and (if any) its web ACL. */
  readonly api: ScoringApi;
  /** Queue, DLQ, events function and updater. */
  readonly events: EventsPipeline;
  /** Online feature table (throttles, dashboard). */
  readonly featureTable: dynamodb.ITable;
  /** Idempotency table (throttles, dashboard). */
  readonly idempotencyTable: dynamodb.ITable;
  /**
   * Dashboard rows of optional parts (the GPU neural service), appended under their own header.
   * @default - none
   */
  readonly extraWidgets?: readonly cloudwatch.IWidget[];
}

export class ServiceMonitoring extends Construct {
  readonly topics: AlarmTopics;
  /** Every alarm of the stage, guardrails included. */
  readonly alarms: readonly ServiceAlarm[];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);
    const { stage } = props;
    this.topics = new AlarmTopics(this, {
      stage,
      notifications: props.notifications,
      topicKey: props.topicKey,
    });
    const targets: ServiceAlarmTargets = {
      stage,
      apiStage: props.api.stage,
      webAcl: props.api.webAcl,
      alias: props.scoring.alias,
      functionVersion: props.scoring.version.version,
      modelVersion: props.modelVersion,
      events: props.events,
      featureTable: props.featureTable,
      idempotencyTable: props.idempotencyTable,
    };
    this.alarms = [
      ...props.rollbackAlarms,
      ...pageAlarms(this, props.alarms.page, targets),
      ...ticketAlarms(this, props.alarms.ticket, targets),
    ];
    this.topics.route(this.alarms);

    this.dashboard = serviceDashboard(this, {
      stage,
      alarms: this.alarms.map((a) => a.alarm),
      api: props.api.api,
      apiStage: props.api.stage,
      alias: props.scoring.alias,
      functionVersion: props.scoring.version.version,
      modelVersion: props.modelVersion,
      events: props.events,
      featureTable: props.featureTable,
      idempotencyTable: props.idempotencyTable,
      extraWidgets: props.extraWidgets,
    });
  }
}
