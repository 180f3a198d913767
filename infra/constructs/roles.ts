/**
 * Roles whose permissions live in one customer-managed policy instead of inline policies
 * (PCI DSS 3.2.1 7.1/7.2 as cdk-nag checks it): every grant CDK makes to the role —
 * `grant*()`, event sources, deployment hooks — lands in that policy, so the template has
 * no `AWS::IAM::Policy` for these roles and the permissions are one versioned object.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

export class ManagedPolicyRole extends iam.Role {
  /** Holds every statement granted to the role. */
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: iam.RoleProps) {
    super(scope, id, props);
    // A child of the role: whatever depends on the role (the function) waits for the policy too.
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: props.description,
      roles: [this],
    });
  }

  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}

/** A role Lambda assumes, with its managed policy. */
export function lambdaRole(scope: Construct, id: string, description: string): ManagedPolicyRole {
  return new ManagedPolicyRole(scope, id, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description,
  });
}
