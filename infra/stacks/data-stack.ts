/**
 * State that outlives deployments: the online feature table and the idempotency table, each
 * with its own key. Kept apart from the service stack so that a broken service stack can be
 * deleted and recreated without touching data.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { FeatureTable, IdempotencyTable } from '../constructs/feature-table';

export interface DataStackProps extends StackProps {
  /** Stage name, for descriptions. */
  readonly stage: string;
}

export class DataStack extends Stack {
  readonly features: FeatureTable;
  readonly idempotency: IdempotencyTable;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, {
      description: `Fraud scoring (${props.stage}): online features and idempotency records`,
      ...props,
    });
    this.features = new FeatureTable(this, 'Features');
    this.idempotency = new IdempotencyTable(this, 'Idempotency');
  }
}
