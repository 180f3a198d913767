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
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { NeuralLoadBalancer } from './neural-load-balancer';
import type { NeuralService } from './neural-service';
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
  // A function in the VPC (the score function when the neural service is on) has no finding.
  if (fn.isBoundToVpc) {
    acknowledgeRoleWildcards(fn);
    return;
  }
  acknowledge(
    fn,
    'PCI.DSS.321-LambdaInsideVPC',
    'The function reaches only AWS APIs (DynamoDB, SQS, KMS, CloudWatch, X-Ray, Lambda, CodeDeploy) with IAM-authorized TLS calls and holds no network listener; a VPC would add ENI cold starts and NAT/endpoint cost without isolating anything. Revisit when the function calls the VPC-internal neural service.',
  );
  acknowledgeRoleWildcards(fn);
}

function acknowledgeRoleWildcards(fn: lambda.Function): void {
  if (fn.role) {
    acknowledge(
      fn.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only xray:PutTraceSegments and xray:PutTelemetryRecords (added by tracing: ACTIVE), cloudwatch:GetMetricData (post-traffic hook, drift monitor, canary judge) and cloudwatch:ListMetrics (drift monitor, canary judge), and for the score function in the VPC the ENI calls of AWSLambdaVPCAccessExecutionRole use Resource "*": none of them supports resource-level permissions, so "*" is the only resource IAM accepts for them.',
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

/** The network stack: the VPC, the internal ALB and its access-log bucket. */
export function acknowledgeNetworkFindings(stack: Stack, parts: { loadBalancer: NeuralLoadBalancer }): void {
  const vpc = stack.node.findAll().find((c) => c instanceof ec2.Vpc);
  if (vpc) {
    acknowledge(
      vpc,
      'PCI.DSS.321-VPCDefaultSecurityGroupClosed',
      'No resource uses the default security group: every ENI (score function, ALB, tasks, instances, endpoints) has its own group with explicit rules (infra/constructs/network.ts). Closing it needs a custom-resource Lambda with EC2 write permissions, which adds more surface than it removes.',
    );
    acknowledge(
      vpc,
      'CloudFormation-Validate::W3010',
      'The AZs come from the stage config (neural.availabilityZones) so that synth needs no account lookup; a stage moves AZs by editing its config.',
    );
    acknowledge(
      vpc,
      'PCI.DSS.321-VPCNoUnrestrictedRouteToIGW',
      'Only with neural.egress "nat": the public subnets hold nothing but the NAT gateways, whose default route must reach the internet gateway; no workload runs there (the functions, tasks, instances and ALB are in the private subnets). The default egress mode has no internet gateway at all.',
    );
  }
  const { loadBalancer } = parts;
  acknowledge(
    loadBalancer.loadBalancer,
    'PCI.DSS.321-ALBWAFEnabled',
    "Internal ALB, reachable only from the score function security group; requests are the score function's own JSON tensors, never caller input. WAF protects the public API in front of it.",
  );
  const plainHttp =
    'Internal ALB inside the VPC (not an open, public network in PCI DSS 4.1 terms), admitting only the score function security group (and, on the test listener, only the replay hook); payloads are numeric sequence tensors, no PAN or card token. TLS would need a private CA certificate and adds a handshake inside a 15 ms budget; revisit with ACM private CA if policy requires encryption in transit inside the VPC.';
  for (const listener of [loadBalancer.listener, loadBalancer.testListener]) {
    acknowledge(listener, 'PCI.DSS.321-ALBHttpToHttpsRedirection', plainHttp);
    acknowledge(listener, 'PCI.DSS.321-ELBv2ACMCertificateRequired', plainHttp);
  }
  const logBucket = loadBalancer.node.findChild('AccessLogs');
  const reason =
    'The ALB access-log bucket itself: logging its own accesses would need yet another bucket; ELB delivers only with SSE-S3 (KMS keys are not supported for access logs); logs are regenerated, not replicated.';
  for (const id of [
    'AwsSolutions-S1',
    'PCI.DSS.321-S3BucketLoggingEnabled',
    'PCI.DSS.321-S3BucketReplicationEnabled',
    'PCI.DSS.321-S3DefaultEncryptionKMS',
  ]) {
    acknowledge(logBucket, id, reason);
  }
}

/** The neural stack: ECS on GPU instances, the model bucket and its upload. */
export function acknowledgeNeuralFindings(stack: Stack, neural: NeuralService): void {
  // The replay hook is a service function in the VPC: runtime pin and the ENI/X-Ray wildcards.
  acknowledgeFunctionFindings(neural.replayHook.function);
  const bucketReason =
    'Model bucket: holds the Triton repository (model graph and config, no cardholder data), written only by the deploy and read by the task role; versioned and rebuilt from the repository by cdk deploy, so neither replication nor access logs add evidence; SSE-S3 keeps Triton free of KMS calls.';
  for (const id of [
    'AwsSolutions-S1',
    'PCI.DSS.321-S3BucketLoggingEnabled',
    'PCI.DSS.321-S3BucketReplicationEnabled',
    'PCI.DSS.321-S3DefaultEncryptionKMS',
  ]) {
    acknowledge(neural.modelBucket, id, bucketReason);
  }
  acknowledge(
    neural.instanceRole,
    'AwsSolutions-IAM5[Action::ecs:Submit*]',
    'CDK grants the ECS container agent ecs:Submit* (task and container state changes) on this cluster only; the agent needs every Submit action.',
  );
  acknowledge(
    neural.instanceRole,
    'AwsSolutions-IAM5[Resource::*]',
    'ECS container agent permissions CDK adds: ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken and log writes have no resource-level permissions; ecs:Poll and ecs:StartTelemetrySession are conditioned on this cluster.',
  );
  acknowledge(
    neural.executionRole,
    'AwsSolutions-IAM5[Resource::*]',
    'ecr:GetAuthorizationToken has no resource-level permissions; image pulls themselves are limited to the two mirrored repositories.',
  );
  acknowledge(
    neural.taskRole,
    `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(neural.modelBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${neural.modelPrefix}/*]`,
    "Triton reads every file of this model version's repository prefix and nothing else in the bucket.",
  );
  acknowledge(
    neural.autoScalingGroup,
    'AwsSolutions-AS3',
    'Scaling of the GPU instances is driven by the ECS capacity provider; its activity is visible in ECS service events and the capacity provider metrics, and user impact is alarmed on the service (healthy targets, queue time), so per-instance launch notifications would only add noise.',
  );
  acknowledge(
    neural.taskDefinition,
    'AwsSolutions-ECS2',
    'The environment holds only non-secret settings (region, the CloudWatch agent and Prometheus configuration); there are no secrets in the task.',
  );
  const green = neural.service.node.tryFindChild('GreenRole');
  if (green) {
    acknowledge(
      green,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
      'The AWS managed policy ECS documents for its built-in blue/green and canary deployments: it lets ECS move the listener rule weights between the two target groups.',
    );
  }
  for (const upload of neural.modelUploads) {
    acknowledge(
      upload,
      'PCI.DSS.321-IAMNoInlinePolicy',
      "The copy custom resource's policy: s3:GetObject on one asset object and s3:PutObject on one model key, nothing else.",
    );
  }
  // The singleton provider function of every AwsCustomResource in the stack.
  const providerFn = stack.node.tryFindChild(
    `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replaceAll('-', '')}`,
  );
  if (providerFn) {
    acknowledge(
      providerFn,
      'PCI.DSS.321-LambdaInsideVPC',
      "CDK's AwsCustomResource provider runs only at deploy time to copy the model files between two S3 buckets; it holds no listener and reaches only S3.",
    );
    acknowledge(
      providerFn,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's AwsCustomResource provider role: log writes of a deploy-time function.",
    );
  }
}
