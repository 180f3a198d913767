/**
 * State that outlives deployments: the online feature table and the idempotency table, each
 * with its own key, and the event and answer archive. Kept apart from the service stack so that a broken service stack can be
 * deleted and recreated without touching data.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type ArchiveSettings, EventArchive } from '../constructs/archive';
import { FeatureTable, IdempotencyTable } from '../constructs/feature-table';

export interface DataStackProps extends StackProps {
  /** Stage name, for descriptions. */
  readonly stage: string;
  /** Lifecycle and buffering of the event and answer archive. */
  readonly archive: ArchiveSettings;
}

export class DataStack extends Stack {
  readonly features: FeatureTable;
  readonly idempotency: IdempotencyTable;
  /** Every accepted event and every answer: Firehose → S3, queryable with Athena. */
  readonly archive: EventArchive;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, {
      description: `Fraud scoring (${props.stage}): online features and idempotency records`,
      ...props,
    });
    this.features = new FeatureTable(this, 'Features');
    this.idempotency = new IdempotencyTable(this, 'Idempotency');
    this.archive = new EventArchive(this, 'Archive', { stage: props.stage, settings: props.archive });
  }
}
