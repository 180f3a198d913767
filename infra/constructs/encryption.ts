/**
 * Customer-managed KMS keys and the encrypted, PAN-masking log groups every function and the
 * API write to. Keys rotate yearly; their policies name the AWS services that must use
 * them (CloudWatch Logs, CloudWatch alarms publishing to encrypted SNS) with explicit actions.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LOG_RETENTION_DAYS } from '../config/stage-config';

/** The `logs.RetentionDays` member for a number of days. @throws Error for a value Logs does not accept */
export function retentionDays(days: number): logs.RetentionDays {
  if (!LOG_RETENTION_DAYS.includes(days)) {
    throw new Error(
      `log retention ${days} days is not one CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(', ')})`,
    );
  }
  return days as logs.RetentionDays;
}

export interface ServiceKeyProps {
  /** What the key protects, shown in the KMS console. */
  readonly description: string;
  /**
   * Let CloudWatch Logs of this account and region encrypt log groups with the key.
   * @default false
   */
  readonly allowCloudWatchLogs?: boolean;
  /**
   * Let CloudWatch alarms publish to SNS topics encrypted with the key.
   * @default false
   */
  readonly allowCloudWatchAlarms?: boolean;
  /**
   * What happens to the key when its stack is deleted. Keys of retained data must outlive it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** A customer-managed key with rotation on and service access granted by explicit actions. */
export class ServiceKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ServiceKeyProps) {
    super(scope, id);
    const { account, region, partition } = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: props.description,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    if (props.allowCloudWatchLogs) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchLogsOfThisAccount',
          principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
          actions: [
            'kms:Encrypt',
            'kms:Decrypt',
            'kms:ReEncryptFrom',
            'kms:ReEncryptTo',
            'kms:GenerateDataKey',
            'kms:GenerateDataKeyWithoutPlaintext',
            'kms:DescribeKey',
          ],
          resources: ['*'],
          conditions: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*`,
            },
          },
        }),
      );
    }
    if (props.allowCloudWatchAlarms) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsPublishToEncryptedTopics',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
      );
    }
  }
}

export interface EncryptedLogGroupProps {
  /** Key the log group is encrypted with (its policy must allow CloudWatch Logs). */
  readonly encryptionKey: kms.IKey;
  /** Days to keep events; one of {@link LOG_RETENTION_DAYS}. */
  readonly retentionDays: number;
  /**
   * Physical name. Only where a service demands a name (WAF needs `aws-waf-logs-*`).
   * @default - generated
   */
  readonly logGroupName?: string;
  /**
   * Mask card numbers, expiry dates and security codes that reach the log group by mistake.
   * @default true
   */
  readonly maskCardData?: boolean;
}

/** A KMS-encrypted log group with retention and, by default, a card-data masking policy. */
export function encryptedLogGroup(
  scope: Construct,
  id: string,
  props: EncryptedLogGroupProps,
): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    encryptionKey: props.encryptionKey,
    retention: retentionDays(props.retentionDays),
    logGroupName: props.logGroupName,
    removalPolicy: RemovalPolicy.RETAIN,
    dataProtectionPolicy:
      props.maskCardData === false
        ? undefined
        : new logs.DataProtectionPolicy({
            name: 'mask-card-data',
            description: 'Masks card numbers, expiry dates and CVVs (PCI DSS 3.4): the code never logs them.',
            identifiers: [
              logs.DataIdentifier.CREDITCARDNUMBER,
              logs.DataIdentifier.CREDITCARDEXPIRATION,
              logs.DataIdentifier.CREDITCARDSECURITYCODE,
            ],
          }),
  });
}
