/**
 * The write path of the online features: `POST /v1/events` → events function → SQS →
 * feature updater → idempotent DynamoDB updates. The queue and its DLQ are encrypted with a
 * customer key and refuse plain HTTP; the updater reports partial batch failures so only the
 * failed records are redelivered, and a record that keeps failing lands in the DLQ.
 */
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { LambdaArchitecture } from '../config/stage-config';
import { ServiceKey } from './encryption';
import type { FeatureTable } from './feature-table';
import { REPO_ROOT, ServiceFunction } from './service-function';

/** Deliveries of one message before it moves to the DLQ. */
export const MAX_RECEIVE_COUNT = 5;
/** Queue visibility timeout as a multiple of the updater timeout (AWS guidance for SQS event sources). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface EventsPipelineProps {
  /** Stage name (`STAGE`). */
  readonly stage: string;
  /** The table the updater writes. */
  readonly featureTable: FeatureTable;
  /** Architecture of both functions. */
  readonly architecture: LambdaArchitecture;
  /** Updater timeout, seconds. */
  readonly updaterTimeoutSeconds: number;
  /** Longest wait to fill a batch, seconds. */
  readonly maxBatchingWindowSeconds: number;
  /** TTL of feature items written by the updater, seconds (`FEATURE_TTL_SECONDS`). */
  readonly featureTtlSeconds: number;
  /** Most concurrent updater invocations the SQS event source starts (2–1000). */
  readonly updaterMaxConcurrency: number;
  /** Key of the log groups. */
  readonly logsKey: kms.IKey;
  /** Days to keep logs. */
  readonly logRetentionDays: number;
  /**
   * Records per updater invocation.
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Events function entry.
   * @default functions/events/index.ts
   */
  readonly eventsEntry?: string;
  /**
   * Feature-updater entry.
   * @default functions/feature-updater/index.ts
   */
  readonly updaterEntry?: string;
}

export class EventsPipeline extends Construct {
  /** Behind `POST /v1/events`. */
  readonly eventsFunction: lambda.IFunction;
  readonly updater: lambda.IFunction;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: EventsPipelineProps) {
    super(scope, id);
    // Events carry card tokens and amounts: the queue key is not shared with anything else.
    this.key = new ServiceKey(this, 'QueueKey', {
      description: 'Encrypts the transaction events queue and DLQ',
    }).key;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryptionMasterKey: this.key,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.updaterTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    const events = new ServiceFunction(this, 'Events', {
      service: 'events',
      stage: props.stage,
      entry: props.eventsEntry ?? join(REPO_ROOT, 'functions', 'events', 'lambda.ts'),
      description: 'Accepts authorization outcomes and labels and enqueues them',
      architecture: props.architecture,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      timeout: Duration.seconds(5),
      memoryMb: 512,
      environment: { EVENTS_QUEUE_URL: this.queue.queueUrl },
    }).function;
    // SendMessageBatch is authorized as sqs:SendMessage; SSE-KMS needs a data key per batch.
    iam.Grant.addToPrincipal({
      grantee: events,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.queue.queueArn],
    });
    iam.Grant.addToPrincipal({
      grantee: events,
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resourceArns: [this.key.keyArn],
    });

    const updater = new ServiceFunction(this, 'Updater', {
      service: 'feature-updater',
      stage: props.stage,
      entry: props.updaterEntry ?? join(REPO_ROOT, 'functions', 'feature-updater', 'lambda.ts'),
      description: 'Applies transaction events to the online feature items',
      architecture: props.architecture,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      timeout: Duration.seconds(props.updaterTimeoutSeconds),
      memoryMb: 512,
      environment: {
        FEATURE_TABLE_NAME: props.featureTable.table.tableName,
        FEATURE_TTL_SECONDS: String(props.featureTtlSeconds),
      },
    }).function;
    props.featureTable.bindUpdater(updater);
    updater.addEventSource(
      new sources.SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        maxBatchingWindow: Duration.seconds(props.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: props.updaterMaxConcurrency,
      }),
    );

    this.eventsFunction = events;
    this.updater = updater;
  }
}
