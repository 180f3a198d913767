/**
 * The public edge: a regional REST API with `POST /v1/score` (alias `live` of the score
 * function) and `POST /v1/events`. Requests are signed with SigV4 (IAM) by default, or carry
 * an API key tied to a usage plan; bodies are validated against models generated from the
 * same zod contract the handlers use; the stage is throttled (stage-wide and per method),
 * traced, access-logged as JSON, execution-logged at ERROR level into a log group this stack
 * owns (encrypted, retained for the configured days, card data masked), and optionally behind
 * a WAF web ACL with AWS managed rule groups and a per-IP rate rule.
 */
import { Aws, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { apiGatewayModelSchema } from '../../api/openapi';
import { eventsRequestSchema, scoreRequestSchema } from '../../functions/shared/domain/contract';
import type { Throttle } from '../config/stage-config';
import { encryptedLogGroup } from './encryption';
import { toApiGatewaySchema } from './json-schema';

/** AWS managed rule groups of the web ACL, in evaluation order. */
export const WAF_MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesCommonRuleSet',
] as const;

/** Name of the web ACL's rate-based rule (evaluated first: a flood is cut before the managed groups). */
export const WAF_RATE_RULE = 'RateLimitPerIp';

export interface ScoringApiProps {
  /** Stage name; also the API Gateway stage name (`/<stage>/v1/score`). */
  readonly stage: string;
  /** Target of `POST /v1/score`: the score function's alias `live`. */
  readonly scoreFunction: lambda.IFunction;
  /** Target of `POST /v1/events`. */
  readonly eventsFunction: lambda.IFunction;
  /**
   * `iam`: every method requires SigV4 (AWS_IAM). `apiKey`: every method requires an API key
   * of the usage plan this construct creates.
   * @default 'iam'
   */
  readonly auth?: 'iam' | 'apiKey';
  /** Stage-wide throttling (and the usage plan's, in API key mode). */
  readonly throttling: Throttle;
  /**
   * Per-method throttling, overriding the stage-wide limits for that method.
   * @default - the stage-wide limits for both methods
   */
  readonly methodThrottling?: { readonly score: Throttle; readonly events: Throttle };
  /**
   * Associate a WAF web ACL with the AWS managed rule groups in {@link WAF_MANAGED_RULE_GROUPS}
   * and the rate rule {@link WAF_RATE_RULE}.
   * @default false
   */
  readonly waf?: boolean;
  /**
   * The WAF rate rule: requests per client IP per window before WAF answers 429.
   * @default - 60,000 per 60 s
   */
  readonly wafRateLimit?: { readonly requestsPerIp: number; readonly windowSeconds: 60 | 120 | 300 | 600 };
  /** Key of the access-, execution- and WAF-log groups. */
  readonly logsKey: kms.IKey;
  /** Days to keep access, execution and WAF logs. */
  readonly logRetentionDays: number;
}

export class ScoringApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly stage: apigateway.Stage;
  /** Set in API key mode. */
  readonly usagePlan?: apigateway.UsagePlan;
  /** Set in API key mode. */
  readonly apiKey?: apigateway.IApiKey;
  /** Set when WAF is on. */
  readonly webAcl?: wafv2.CfnWebACL;
  /** API Gateway's execution log group of the stage, created (and so configured) by this stack. */
  readonly executionLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ScoringApiProps) {
    super(scope, id);
    const auth = props.auth ?? 'iam';
    const accessLogs = encryptedLogGroup(this, 'AccessLogs', {
      encryptionKey: props.logsKey,
      retentionDays: props.logRetentionDays,
    });

    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `fraud-scoring-${props.stage}`,
      description: `Fraud scoring API (${props.stage})`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Execution logging (ERROR level) needs the account-level CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      apiKeySourceType: auth === 'apiKey' ? apigateway.ApiKeySourceType.HEADER : undefined,
      defaultMethodOptions:
        auth === 'iam'
          ? { authorizationType: apigateway.AuthorizationType.IAM }
          : { authorizationType: apigateway.AuthorizationType.NONE, apiKeyRequired: true },
      deployOptions: {
        stageName: props.stage,
        tracingEnabled: true,
        metricsEnabled: true,
        // Errors only, and never request/response bodies: they hold card tokens and amounts.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttling.rateLimit,
        throttlingBurstLimit: props.throttling.burstLimit,
        methodOptions: methodThrottling(props),
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogFormat(),
      },
    });
    this.stage = this.api.deploymentStage;

    // API Gateway writes ERROR-level execution logs to this fixed group name and creates it
    // itself (no retention, no key, no masking) if it does not exist. Created here first, the
    // group is the stack's: encrypted, retained for the configured days, card data masked. The
    // name holds the generated API id, so a recreated stack gets its own group.
    this.executionLogs = encryptedLogGroup(this, 'ExecutionLogs', {
      encryptionKey: props.logsKey,
      retentionDays: props.logRetentionDays,
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${props.stage}`,
    });
    this.stage.node.addDependency(this.executionLogs);

    const validator = this.api.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const model = (name: string, schema: Record<string, unknown>) =>
      this.api.addModel(name, {
        contentType: 'application/json',
        modelName: name,
        schema: toApiGatewaySchema(schema),
      });
    const scoreModel = model('ScoreRequest', apiGatewayModelSchema(scoreRequestSchema));
    const eventsModel = model('EventsRequest', apiGatewayModelSchema(eventsRequestSchema));

    const v1 = this.api.root.addResource('v1');
    v1.addResource('score').addMethod('POST', new apigateway.LambdaIntegration(props.scoreFunction), {
      operationName: 'score',
      requestValidator: validator,
      requestModels: { 'application/json': scoreModel },
    });
    v1.addResource('events').addMethod('POST', new apigateway.LambdaIntegration(props.eventsFunction), {
      operationName: 'events',
      requestValidator: validator,
      requestModels: { 'application/json': eventsModel },
    });

    // Same error shape as the handlers. The validator's own message is not echoed: it quotes
    // the offending value, which may be a card number.
    this.api.addGatewayResponse('BadRequestBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json': JSON.stringify({
          error: {
            code: 'INVALID_FIELD',
            message: 'request body does not match the API contract (api/openapi.json)',
          },
        }),
      },
    });
    this.api.addGatewayResponse('Throttled', {
      type: apigateway.ResponseType.THROTTLED,
      statusCode: '429',
      responseHeaders: { 'Retry-After': "'1'" },
      templates: {
        'application/json': JSON.stringify({
          error: { code: 'THROTTLED', message: 'too many requests; retry' },
        }),
      },
    });

    if (auth === 'apiKey') {
      this.apiKey = this.api.addApiKey('ApiKey', { description: `Payment service key (${props.stage})` });
      this.usagePlan = this.api.addUsagePlan('UsagePlan', {
        description: `Payment service (${props.stage})`,
        throttle: { rateLimit: props.throttling.rateLimit, burstLimit: props.throttling.burstLimit },
        apiStages: [{ api: this.api, stage: this.stage }],
      });
      this.usagePlan.addApiKey(this.apiKey);
    }

    if (props.waf) this.webAcl = this.addWebAcl(props);
  }

  private addWebAcl(props: ScoringApiProps): wafv2.CfnWebACL {
    const metricPrefix = `fraud-scoring-${props.stage}`;
    const rate = props.wafRateLimit ?? { requestsPerIp: 60_000, windowSeconds: 60 };
    const acl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: metricPrefix,
        sampledRequestsEnabled: true,
      },
      customResponseBodies: {
        throttled: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({ error: { code: 'THROTTLED', message: 'too many requests; retry' } }),
        },
      },
      rules: [
        {
          name: WAF_RATE_RULE,
          priority: 0,
          action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: 'throttled' } } },
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              limit: rate.requestsPerIp,
              evaluationWindowSec: rate.windowSeconds,
            },
          },
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            metricName: `${metricPrefix}-${WAF_RATE_RULE}`,
            sampledRequestsEnabled: true,
          },
        },
        ...WAF_MANAGED_RULE_GROUPS.map((name, i) => ({
          name,
          priority: i + 1,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            metricName: `${metricPrefix}-${name}`,
            sampledRequestsEnabled: true,
          },
        })),
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.stage.stageArn,
      webAclArn: acl.attrArn,
    });
    // WAF only delivers to log groups named aws-waf-logs-*. The suffix is this stack's own id
    // (the GUID of its stack ARN): the group is retained on delete, and a recreated stack must
    // not collide with the group its predecessor left behind.
    const wafLogs = encryptedLogGroup(this, 'WafLogs', {
      encryptionKey: props.logsKey,
      retentionDays: props.logRetentionDays,
      logGroupName: `aws-waf-logs-fraud-scoring-${props.stage}-${Fn.select(2, Fn.split('/', Aws.STACK_ID))}`,
    });
    new wafv2.CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: acl.attrArn,
      logDestinationConfigs: [wafLogs.logGroupArn],
      // SigV4 signatures and API keys never reach the logs.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'x-api-key' } }],
    });
    return acl;
  }
}

/** Method-level throttling (`/<path>/<METHOD>` keys), falling back to the stage-wide limits. */
function methodThrottling(props: ScoringApiProps): Record<string, apigateway.MethodDeploymentOptions> {
  const limits = props.methodThrottling ?? { score: props.throttling, events: props.throttling };
  const options = (t: Throttle): apigateway.MethodDeploymentOptions => ({
    throttlingRateLimit: t.rateLimit,
    throttlingBurstLimit: t.burstLimit,
  });
  return { '/v1/score/POST': options(limits.score), '/v1/events/POST': options(limits.events) };
}

/** JSON access logs: who called, what, how it ended and how long each part took. No bodies. */
function accessLogFormat(): apigateway.AccessLogFormat {
  const f = apigateway.AccessLogField;
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
      requestId: f.contextRequestId(),
      extendedRequestId: f.contextExtendedRequestId(),
      requestTime: f.contextRequestTime(),
      ip: f.contextIdentitySourceIp(),
      caller: f.contextIdentityCaller(),
      userArn: f.contextIdentityUserArn(),
      apiKeyId: f.contextIdentityApiKeyId(),
      userAgent: f.contextIdentityUserAgent(),
      httpMethod: f.contextHttpMethod(),
      resourcePath: f.contextResourcePath(),
      protocol: f.contextProtocol(),
      status: f.contextStatus(),
      responseLength: f.contextResponseLength(),
      responseLatency: f.contextResponseLatency(),
      integrationLatency: f.contextIntegrationLatency(),
      integrationStatus: f.contextIntegrationStatus(),
      errorType: f.contextErrorResponseType(),
      wafResponseCode: f.contextWafResponseCode(),
      xrayTraceId: f.contextXrayTraceId(),
    }),
  );
}
