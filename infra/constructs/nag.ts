/**
 * cdk-nag 3: the AWS Solutions and PCI DSS 3.2.1 packs run as policy-validation plugins at
 * synth, and any unacknowledged finding — warnings included — fails it.
 *
 * Every acknowledgement of the app is in this file, each on the narrowest construct that
 * carries the finding (a function, a role's policy, the API stage, a method) with the reason,
 * so a reviewer reads all exceptions in one place. The acknowledged rule ids are exact
 * (`RuleId[finding]`), so a new wildcard or managed policy is a new, failing finding.
 */
import { type App, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { ScoreDelivery } from './score-delivery';
import type { ScoringApi } from './scoring-api';

/** The packs the app is checked against (new instances: a pack keeps state per validation). */
export function nagPacks(app?: App) {
  return [new AwsSolutionsChecks(app, { verbose: true }), new PCIDSS321Checks(app, { verbose: true })];
}

/** Registers the packs on the app: `app.synth()` then fails on any unacknowledged finding. */
export function applyNagPacks(app: App): void {
  Validations.of(app).addPlugins(...nagPacks(app));
}

/** Records an acknowledgement; `reason` must say why the finding is acceptable here. */
function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Findings every Lambda function of the service carries by design. */
export function acknowledgeFunctionFindings(fn: lambda.Function): void {
  acknowledge(
    fn,
    'AwsSolutions-L1',
    'The project targets the nodejs22.x runtime (Node 22 LTS, supported by Lambda until 2027); moving to a newer runtime is its own tested change, not a side effect of a CDK upgrade.',
  );
  acknowledge(
    fn,
    'PCI.DSS.321-LambdaInsideVPC',
    'The function reaches only AWS APIs (DynamoDB, SQS, KMS, CloudWatch, X-Ray, Lambda, CodeDeploy) with IAM-authorized TLS calls and holds no network listener; a VPC would add ENI cold starts and NAT/endpoint cost without isolating anything. Revisit when the function calls the VPC-internal neural service.',
  );
  if (fn.role) {
    acknowledge(
      fn.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only xray:PutTraceSegments and xray:PutTelemetryRecords (added by tracing: ACTIVE) and, for the post-traffic hook alone, cloudwatch:GetMetricData use Resource "*": neither X-Ray nor GetMetricData has resource-level permissions.',
    );
  }
}

/** The REST API: IAM (SigV4) auth instead of Cognito, no cache, Lambda integrations. */
export function acknowledgeApiFindings(
  api: ScoringApi,
  options: { auth: 'iam' | 'apiKey'; waf: boolean },
): void {
  for (const method of api.api.methods) {
    acknowledge(
      method,
      'AwsSolutions-COG4',
      options.auth === 'iam'
        ? 'Callers are AWS principals of the payment service, authorized with SigV4 (AWS_IAM); there are no end users for a Cognito user pool.'
        : 'API key mode: the payment service authenticates with a usage-plan API key (a per-stage option); there are no end users for a Cognito user pool.',
    );
    if (options.auth === 'apiKey') {
      acknowledge(
        method,
        'AwsSolutions-APIG4',
        'API key mode (per-stage option): every method requires a key of the stage usage plan, which identifies and throttles the payment service; IAM auth is the default mode.',
      );
    }
  }
  acknowledge(
    api.stage,
    'PCI.DSS.321-APIGWCacheEnabledAndEncrypted',
    'No stage cache at all: every POST /v1/score is a distinct authorization and POST /v1/events a write, so caching would be wrong; with no cache there is no cached data to encrypt.',
  );
  acknowledge(
    api.stage,
    'PCI.DSS.321-APIGWSSLEnabled',
    'The client certificate authenticates API Gateway to HTTP backends; both integrations are Lambda proxy integrations invoked through IAM, which present no certificate.',
  );
  if (!options.waf) {
    const reason =
      'WAF is a per-stage option that this stage turns off (non-production traffic only, cost); prod enables it (api.waf in infra/config/stages.ts).';
    acknowledge(api.stage, 'AwsSolutions-APIG3', reason);
    acknowledge(api.stage, 'PCI.DSS.321-APIGWAssociatedWithWAF', reason);
  }
  const cloudWatchRole = api.api.node.tryFindChild('CloudWatchRole');
  if (cloudWatchRole) {
    acknowledge(
      cloudWatchRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'The account-level role API Gateway needs for execution logging; AWS maintains this managed policy for exactly that purpose.',
    );
  }
}

/** CodeDeploy's role: the AWS managed policy CDK attaches, and invoking the hooks. */
export function acknowledgeDeliveryFindings(delivery: ScoreDelivery): void {
  const role = delivery.deploymentGroup.role;
  acknowledge(
    role,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
    'CDK attaches this AWS managed policy to every Lambda deployment group: CodeDeploy needs it to read and update the alias and to check alarms.',
  );
  const postRole = delivery.postTrafficHook.role;
  const scoreFn = delivery.scoredFunction.node.defaultChild as lambda.CfnFunction;
  if (postRole) {
    acknowledge(
      postRole,
      `AwsSolutions-IAM5[Resource::<${Stack.of(scoreFn).getLogicalId(scoreFn)}.Arn>:*]`,
      'Version pruning: lambda:DeleteFunction on the qualified ARNs (versions) of the score function only; the pattern cannot match the unqualified function, and the hook never deletes a version an alias points to.',
    );
  }
  for (const hook of [delivery.preTrafficHook, delivery.postTrafficHook]) {
    const cfn = hook.node.defaultChild as lambda.CfnFunction;
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::<${Stack.of(hook).getLogicalId(cfn)}.Arn>:*]`,
      'CDK grants CodeDeploy lambda:InvokeFunction on the lifecycle hook function and its qualifiers; the wildcard covers only versions of this one hook.',
    );
  }
}

/** Applies every acknowledgement the service stack needs. */
export function acknowledgeServiceFindings(
  stack: Stack,
  parts: { api: ScoringApi; delivery: ScoreDelivery; auth: 'iam' | 'apiKey'; waf: boolean },
): void {
  for (const construct of stack.node.findAll()) {
    if (construct instanceof lambda.Function) acknowledgeFunctionFindings(construct);
  }
  acknowledgeApiFindings(parts.api, parts);
  acknowledgeDeliveryFindings(parts.delivery);
}
