/**
 * The event and answer archive in AWS: one Firehose delivery stream per record kind (`score`,
 * `event`), each writing gzip JSON lines to one KMS-encrypted bucket under
 * `score/dt=YYYY-MM-DD/` and `event/type=<event type>/dt=YYYY-MM-DD/` (dynamic partitioning on
 * the record's own date, and for events on their type, computed exactly as `recordPrefix` in
 * `functions/shared/domain/archive.ts` does), and a Glue database with a table per kind whose
 * partitions are projected, so Athena reads new days without a crawler (`archive-catalog.ts`).
 *
 * Why events are partitioned by type: the calibration monitor needs the labels of ~47 days, and
 * labels are ~1 % of the event lines. In one partition per date it scanned every authorization
 * too (~490 M lines a run at prod's planned 120 rps, past Lambda's 15 minutes); under
 * `event/type=label/` it lists and reads the labels only, and its role can read nothing else of
 * the events. A second partition key on the same stream was chosen over a third record kind
 * (its own stream, table and writer): the events function, its record and its grant stay as
 * they are, Firehose bills by volume not by stream, and the active partitions per buffer
 * (types × dates in flight, a handful) stay far below the stream's 500. The `events` table
 * gains the partition column `type` (projected as an enum of the contract's types); queries
 * that filter only on `dt` read every type as before.
 *
 * The functions write with `firehose:PutRecordBatch` on their own stream only ({@link EventArchive.grantPut}).
 * Objects move to Infrequent Access and then Glacier Instant Retrieval and expire after the
 * stage's retention. Delivery failures land under `errors/` and raise a ticket
 * (`archiveAlarms` in `archive-alarms.ts`), as do records the functions dropped.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  ARCHIVE_KINDS,
  type ArchiveKind,
  archivePrefix,
  type EventType,
} from '../../functions/shared/domain/archive';
import { archiveCatalog } from './archive-catalog';
import { retentionDays, ServiceKey } from './encryption';
import { ManagedPolicyRole } from './roles';

/** Lifecycle and buffering of the archive (stage config `archive`). */
export interface ArchiveSettings {
  /** Days after which objects move to S3 Standard-IA. */
  readonly infrequentAccessAfterDays: number;
  /** Days after which objects move to Glacier Instant Retrieval. */
  readonly glacierAfterDays: number;
  /** Days after which objects are deleted (labels mature for months: keep well past that). */
  readonly expireAfterDays: number;
  /** Firehose buffering: seconds before an object is written (60–900). */
  readonly bufferSeconds: number;
  /** Firehose buffering: MiB before an object is written (64–128 with dynamic partitioning). */
  readonly bufferMiB: number;
}

export interface EventArchiveProps {
  /** Stage name, for descriptions. */
  readonly stage: string;
  readonly settings: ArchiveSettings;
  /**
   * What happens to the bucket and its key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The partition keys Firehose computes (JQ 1.6, one object of keys): `dt`, the first ten
 * characters of the record's event time (`eventTime` of a score, `event.timestamp` of an
 * event), as `archiveDate` does; for events also `type`, the event's `type` as the contract
 * accepted it (`authorization`, `label`).
 */
export const PARTITION_QUERY: Record<ArchiveKind, string> = {
  score: '{dt: .eventTime[0:10]}',
  event: '{type: .event.type, dt: .event.timestamp[0:10]}',
};

const fromQuery = (key: string) => `!{partitionKeyFromQuery:${key}}`;

/**
 * The S3 prefix each stream writes: `archivePrefix` with Firehose's placeholders for the keys,
 * so the layout of the readers, the local sink and Firehose is written in one place.
 */
export const FIREHOSE_PREFIX: Record<ArchiveKind, string> = {
  score: archivePrefix('score', fromQuery('dt')),
  event: archivePrefix('event', fromQuery('dt'), fromQuery('type') as EventType),
};

export class EventArchive extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;
  readonly streams: Record<ArchiveKind, firehose.CfnDeliveryStream>;
  readonly database: glue.CfnDatabase;
  readonly tables: Record<ArchiveKind, glue.CfnTable>;

  constructor(scope: Construct, id: string, props: EventArchiveProps) {
    super(scope, id);
    const { settings } = props;
    const { account } = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = new ServiceKey(this, 'Key', {
      description: `Encrypts the fraud-scoring ${props.stage} event and answer archive`,
      allowCloudWatchLogs: true,
      removalPolicy,
    }).key;

    // Server access logs cannot go to a KMS-encrypted bucket: they get their own, S3-encrypted.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(settings.expireAfterDays) }],
      removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          id: 'tiering-and-retention',
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(settings.infrequentAccessAfterDays),
            },
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(settings.glacierAfterDays),
            },
          ],
          expiration: Duration.days(settings.expireAfterDays),
          noncurrentVersionExpiration: Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy,
    });

    const logGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      encryptionKey: this.key,
      retention: retentionDays(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new ManagedPolicyRole(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
      description: 'Firehose writes the archive streams to the archive bucket',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          's3:AbortMultipartUpload',
          's3:GetBucketLocation',
          's3:ListBucket',
          's3:ListBucketMultipartUploads',
          's3:PutObject',
        ],
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );

    this.acknowledgeFindings(accessLogs, role);

    const streams = {} as Record<ArchiveKind, firehose.CfnDeliveryStream>;
    for (const kind of ARCHIVE_KINDS) {
      const logStream = new logs.LogStream(this, `${kind}-delivery-errors`, {
        logGroup,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const stream = new firehose.CfnDeliveryStream(this, `${kind}-stream`, {
        deliveryStreamType: 'DirectPut',
        deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
        extendedS3DestinationConfiguration: {
          bucketArn: this.bucket.bucketArn,
          roleArn: role.roleArn,
          prefix: FIREHOSE_PREFIX[kind],
          errorOutputPrefix: `errors/${kind}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
          fileExtension: '.jsonl.gz',
          compressionFormat: 'GZIP',
          bufferingHints: { intervalInSeconds: settings.bufferSeconds, sizeInMBs: settings.bufferMiB },
          encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: this.key.keyArn } },
          dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
          processingConfiguration: {
            enabled: true,
            processors: [
              {
                type: 'MetadataExtraction',
                parameters: [
                  { parameterName: 'MetadataExtractionQuery', parameterValue: PARTITION_QUERY[kind] },
                  { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
                ],
              },
            ],
          },
          cloudWatchLoggingOptions: {
            enabled: true,
            logGroupName: logGroup.logGroupName,
            logStreamName: logStream.logStreamName,
          },
        },
      });
      stream.node.addDependency(role);
      streams[kind] = stream;
    }
    this.streams = streams;

    const catalog = archiveCatalog(this, { account, stage: props.stage, bucket: this.bucket });
    this.database = catalog.database;
    this.tables = catalog.tables;
  }

  /** cdk-nag findings that are by design here, each with its reason. */
  private acknowledgeFindings(accessLogs: s3.Bucket, role: iam.Role): void {
    const acknowledge = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
      'Firehose writes objects under keys it generates per partition and time (`score/dt=…/`, `event/type=…/dt=…/`, then `<stream>-…`); the statement names only this bucket.',
    );
    for (const bucket of [this.bucket, accessLogs]) {
      acknowledge(
        bucket,
        'PCI.DSS.321-S3BucketReplicationEnabled',
        'One-region deployment: the archive is rebuildable training and monitoring data, versioned in place; cross-region replication is a per-stage decision left out of the default.',
      );
    }
    const logTarget =
      'The server access log target: S3 delivers access logs only to a bucket encrypted with S3-managed keys, and logs are written once, never updated (no versioning, no access logs of the access logs).';
    for (const id of [
      'PCI.DSS.321-S3DefaultEncryptionKMS',
      'PCI.DSS.321-S3BucketVersioningEnabled',
      'PCI.DSS.321-S3BucketLoggingEnabled',
      'AwsSolutions-S1',
    ])
      acknowledge(accessLogs, id, logTarget);
  }

  /** The stream name a function of `kind` writes to (`ARCHIVE_STREAM_NAME`). */
  streamName(kind: ArchiveKind): string {
    return this.streams[kind].ref;
  }

  /** Lets `grantee` put records on the stream of `kind`, and nothing else. */
  grantPut(kind: ArchiveKind, grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['firehose:PutRecordBatch'],
      resourceArns: [this.streams[kind].attrArn],
    });
  }
}
