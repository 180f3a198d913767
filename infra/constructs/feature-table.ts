/**
 * The DynamoDB tables, keyed from `functions/shared/table-schema.ts` — the same definitions
 * the local stack and the integration tests create tables from, so the schemas cannot drift.
 * Both are on-demand, point-in-time recoverable, encrypted with their own customer-managed
 * key, and retained when the stack goes away.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { FEATURE_TABLE, IDEMPOTENCY_TABLE, type TableSchema } from '../../functions/shared/table-schema';
import { ServiceKey } from './encryption';

export interface EncryptedTableProps {
  /**
   * Refuse `DeleteTable` until someone turns this off on purpose.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/** A table built from a {@link TableSchema}, with its own rotating customer-managed key. */
abstract class EncryptedTable extends Construct {
  readonly table: dynamodb.Table;
  readonly key: kms.Key;
  readonly schema: TableSchema;

  protected constructor(
    scope: Construct,
    id: string,
    schema: TableSchema,
    what: string,
    props: EncryptedTableProps,
  ) {
    super(scope, id);
    this.schema = schema;
    this.key = new ServiceKey(this, 'Key', { description: `Encrypts the ${what} table` }).key;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: {
        name: schema.partitionKey.name,
        type: dynamodb.AttributeType[ATTRIBUTE_TYPES[schema.partitionKey.type]],
      },
      timeToLiveAttribute: schema.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Exactly `actions` on this table, plus the key actions DynamoDB needs on the caller's behalf. */
  protected grant(grantee: iam.IGrantable, actions: string[], keyActions: string[]): void {
    iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.table.tableArn] });
    iam.Grant.addToPrincipal({ grantee, actions: keyActions, resourceArns: [this.key.keyArn] });
  }
}

const ATTRIBUTE_TYPES = { S: 'STRING' } as const;

/** Key actions for reading a customer-key-encrypted table. */
const KEY_READ = ['kms:Decrypt', 'kms:DescribeKey'];
/** Key actions for writing one (DynamoDB asks for a data key on the writer's behalf). */
const KEY_WRITE = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];

/** Online features: one item per card and per merchant, written by the updater, read by scoring. */
export class FeatureTable extends EncryptedTable {
  constructor(scope: Construct, id: string, props: EncryptedTableProps = {}) {
    super(scope, id, FEATURE_TABLE, 'online feature', props);
  }

  /** The scoring path: one `BatchGetItem` per request. No Query, no Scan, no writes. */
  bindScoringRead(grantee: iam.IGrantable): void {
    this.grant(grantee, ['dynamodb:BatchGetItem'], KEY_READ);
  }

  /**
   * The feature updater: consistent reads of the items, then one `TransactWriteItems` per
   * batch (marker Puts and aggregate Updates, authorized as PutItem and UpdateItem, per
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html),
   * and label Puts.
   */
  bindUpdater(grantee: iam.IGrantable): void {
    this.grant(grantee, ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'], KEY_WRITE);
  }
}

/** The score function's stored answers (idempotent retries). */
export class IdempotencyTable extends EncryptedTable {
  constructor(scope: Construct, id: string, props: EncryptedTableProps = {}) {
    super(scope, id, IDEMPOTENCY_TABLE, 'idempotency', props);
  }

  /**
   * What `DynamoScoringStore` calls: the stored answer is read in the same `BatchGetItem` as the
   * features, stored with one conditional `PutItem`, and read back with `GetItem` only when a
   * concurrent duplicate won the race on a server that does not return the winner.
   */
  bindIdempotency(grantee: iam.IGrantable): void {
    this.grant(grantee, ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], KEY_WRITE);
  }
}
