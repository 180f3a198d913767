/**
 * The two alarm topics of a stage, `page` and `ticket`, KMS-encrypted and refusing plain HTTP.
 *
 * A topic policy replaces SNS's default policy, so the TLS `Deny` alone would leave nobody
 * allowed to publish: each topic also allows `cloudwatch.amazonaws.com` to publish, only for
 * alarms of this account, region and stage (`aws:SourceAccount`, `aws:SourceArn`). The key
 * policy must allow CloudWatch too (`ServiceKey` with `allowCloudWatchAlarms`).
 */
import { Annotations, Stack } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { Severity, Subscribers } from '../config/stage-config';
import type { ServiceAlarm } from './alarms';

export interface AlarmTopicsProps {
  /** Stage name: topic display names, and the alarm-name prefix allowed to publish (`<stage>-*`). */
  readonly stage: string;
  /** Who each topic notifies. */
  readonly notifications: Readonly<Record<Severity, Subscribers>>;
  /** Encrypts both topics; its policy must let CloudWatch alarms use it. */
  readonly topicKey: kms.IKey;
}

/**
 * The `page` and `ticket` topics, and the routing of alarms to them. The topics are created
 * directly in `scope` (ids `PageTopic`, `TicketTopic`): their logical ids, and so their
 * confirmed subscriptions, survive refactoring of this class.
 */
export class AlarmTopics {
  readonly page: sns.Topic;
  readonly ticket: sns.Topic;

  constructor(
    private readonly scope: Construct,
    props: AlarmTopicsProps,
  ) {
    this.page = this.topic('PageTopic', 'page', props);
    this.ticket = this.topic('TicketTopic', 'ticket', props);
  }

  /** The topic of a severity. */
  of(severity: Severity): sns.Topic {
    return severity === 'page' ? this.page : this.ticket;
  }

  /**
   * Sends each alarm to its severity's topic. A page also notifies when the alarm clears (it
   * resolves itself); a ticket is closed by a person.
   */
  route(alarms: readonly ServiceAlarm[]): void {
    for (const { alarm, severity } of alarms) {
      const action = new actions.SnsAction(this.of(severity));
      alarm.addAlarmAction(action);
      if (severity === 'page') alarm.addOkAction(action);
    }
  }

  private topic(id: string, severity: Severity, props: AlarmTopicsProps): sns.Topic {
    const { account, region, partition } = Stack.of(this.scope);
    const topic = new sns.Topic(this.scope, id, {
      displayName: `Fraud scoring ${props.stage} ${severity}`,
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisStage',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: {
            'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:${props.stage}-*`,
          },
        },
      }),
    );
    const subscribers = props.notifications[severity];
    for (const email of subscribers.emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
    for (const url of subscribers.httpsEndpoints)
      topic.addSubscription(new subscriptions.UrlSubscription(url));
    if (severity === 'page' && subscribers.emails.length + subscribers.httpsEndpoints.length === 0) {
      Annotations.of(topic).addWarningV2(
        'fraud-scoring:page-topic-without-subscribers',
        `stage ${props.stage}: the page topic has no subscribers; set notifications.page in infra/config/stages.ts`,
      );
    }
    return topic;
  }
}
