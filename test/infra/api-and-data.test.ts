/**
 * The edge and the state: API auth, validation, throttling, logging and WAF per stage; the
 * tables' keys, TTL, recovery, encryption and retention; the events queue.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { FEATURE_TABLE, IDEMPOTENCY_TABLE } from '../../functions/shared/table-schema';
import type { StageConfigInput } from '../../infra/config/stage-config';
import { dev } from '../../infra/config/stages';
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from '../../infra/constructs/events-pipeline';
import { WAF_MANAGED_RULE_GROUPS, WAF_RATE_RULE } from '../../infra/constructs/scoring-api';
import { type CfnResource, only, resources, stage, synthStage } from './support';

describe.each(['dev', 'prod'] as const)('scoring API (%s)', (name) => {
  // act: synthesize the stage once (cached), shared by the tests below
  const { service, config } = stage(name);

  it('is a regional REST API whose every method requires SigV4 (IAM) by default', () => {
    // act
    const methods = Object.values(resources(service, 'AWS::ApiGateway::Method'));
    // assert
    service.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    expect(methods.map((m) => m.Properties?.HttpMethod)).toEqual(['POST', 'POST']);
    for (const method of methods) {
      expect(method.Properties?.AuthorizationType).toBe('AWS_IAM');
      expect(method.Properties?.ApiKeyRequired).toBeUndefined();
    }
    service.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
  });

  it('validates bodies and parameters of every method with the one request validator', () => {
    // act
    const [validatorId] = only(service, 'AWS::ApiGateway::RequestValidator');
    // assert
    service.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    for (const method of Object.values(resources(service, 'AWS::ApiGateway::Method'))) {
      expect(method.Properties?.RequestValidatorId).toEqual({ Ref: validatorId });
      expect(method.Properties?.RequestModels).toEqual({ 'application/json': { Ref: expect.any(String) } });
    }
  });

  it('validates the score body against a model generated from the contract', () => {
    // act
    const scoreModel = Object.values(resources(service, 'AWS::ApiGateway::Model')).find(
      (m) => m.Properties?.Name === 'ScoreRequest',
    );
    // assert
    expect(scoreModel?.Properties?.Schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: expect.arrayContaining(['transactionId', 'cardId', 'amount', 'currency', 'timestamp']),
    });
  });

  it('routes POST /v1/score to alias live, never to $LATEST', () => {
    // act
    const [aliasId] = only(service, 'AWS::Lambda::Alias');
    // assert
    service.hasResourceProperties('AWS::ApiGateway::Method', {
      OperationName: 'score',
      Integration: { Type: 'AWS_PROXY', Uri: { 'Fn::Join': ['', Match.arrayWith([{ Ref: aliasId }])] } },
    });
  });

  it('throttles, traces and access-logs the stage without request bodies', () => {
    // act
    const [, apiStage] = only(service, 'AWS::ApiGateway::Stage');
    // assert
    expect(apiStage.Properties).toMatchObject({
      StageName: name,
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [expect.stringMatching(/^ApiAccessLogs/), 'Arn'] },
      },
    });
    expect(apiStage.Properties?.MethodSettings).toContainEqual(
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: config.api.throttling.rateLimit,
        ThrottlingBurstLimit: config.api.throttling.burstLimit,
        DataTraceEnabled: false,
      }),
    );
    const format = (apiStage.Properties.AccessLogSetting as { Format: string }).Format;
    expect(Object.keys(JSON.parse(format))).toEqual(
      expect.arrayContaining(['requestId', 'status', 'responseLatency']),
    );
    expect(format).not.toMatch(/requestBody|\$input/);
  });

  it(`attaches a WAF web ACL only where the stage asks (${name}: ${config.api.waf})`, () => {
    // act
    const acls = Object.entries(resources(service, 'AWS::WAFv2::WebACL'));
    // assert
    service.resourceCountIs('AWS::WAFv2::WebACL', config.api.waf ? 1 : 0);
    if (!config.api.waf) return;
    const [aclId, acl] = acls[0] as [string, CfnResource];
    expect((acl.Properties.Rules as { Name: string }[]).map((r) => r.Name)).toEqual([
      WAF_RATE_RULE,
      ...WAF_MANAGED_RULE_GROUPS,
    ]);
    service.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
    });
    service.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: Match.arrayWith([{ SingleHeader: { Name: 'authorization' } }]),
    });
  });
});

describe.each(['dev', 'prod'] as const)('API limits and logs (%s)', (name) => {
  // act: synthesize the stage once (cached), shared by the tests below
  const { service, config } = stage(name);

  it('throttles each method on its own, below the stage-wide limits', () => {
    // prepare
    const expected = [
      ['/~1v1~1score', config.api.methodThrottling.score],
      ['/~1v1~1events', config.api.methodThrottling.events],
    ] as const;
    // act
    const settings = only(service, 'AWS::ApiGateway::Stage')[1].Properties.MethodSettings as Record<
      string,
      unknown
    >[];
    // assert
    for (const [path, limits] of expected) {
      expect(settings).toContainEqual(
        expect.objectContaining({
          HttpMethod: 'POST',
          ResourcePath: path,
          ThrottlingRateLimit: limits.rateLimit,
          ThrottlingBurstLimit: limits.burstLimit,
        }),
      );
    }
  });

  it('owns the ERROR-level execution log group: named as API Gateway writes it, encrypted, kept, masked', () => {
    // prepare
    const [restApiId] = only(service, 'AWS::ApiGateway::RestApi');
    const [, apiStage] = only(service, 'AWS::ApiGateway::Stage');
    // act
    const groups = Object.entries(resources(service, 'AWS::Logs::LogGroup')).filter(([id]) =>
      id.startsWith('ApiExecutionLogs'),
    );
    // assert
    expect(groups).toHaveLength(1);
    const [groupId, group] = groups[0] as [string, { Properties: Record<string, unknown> }];
    expect(group.Properties).toMatchObject({
      LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: restApiId }, `/${name}`]] },
      KmsKeyId: expect.anything(),
      RetentionInDays: config.logRetentionDays,
    });
    expect(JSON.stringify(group.Properties.DataProtectionPolicy)).toContain('CreditCardNumber');
    expect(apiStage.DependsOn).toContain(groupId);
  });

  it("caps the feature updater's concurrency on the SQS event source", () => {
    // assert
    service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: config.events.updaterMaxConcurrency },
    });
  });
});

describe('WAF (prod)', () => {
  // act: synthesize the stage once (cached), shared by the tests below
  const { service, config } = stage('prod');

  it('blocks a client IP above the rate limit with a 429, before the managed groups', () => {
    // act
    const rules = only(service, 'AWS::WAFv2::WebACL')[1].Properties.Rules as Record<string, unknown>[];
    // assert
    expect(rules[0]).toMatchObject({
      Name: WAF_RATE_RULE,
      Priority: 0,
      Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
      Statement: {
        RateBasedStatement: {
          AggregateKeyType: 'IP',
          Limit: config.api.wafRateLimit.requestsPerIp,
          EvaluationWindowSec: config.api.wafRateLimit.windowSeconds,
        },
      },
    });
  });

  it('names the WAF log group per stack instance, so a recreated stack does not collide with the retained one', () => {
    // act
    const group = Object.entries(resources(service, 'AWS::Logs::LogGroup')).find(([id]) =>
      id.startsWith('ApiWafLogs'),
    );
    // assert
    const name = JSON.stringify(group?.[1].Properties.LogGroupName);
    expect(name).toContain('aws-waf-logs-fraud-scoring-prod-');
    expect(name).toContain('"AWS::StackId"');
    expect(group?.[1].Properties.RetentionInDays).toBe(config.logRetentionDays);
  });
});

describe('API key mode (per-stage option)', () => {
  // prepare
  const withApiKeys = (c: StageConfigInput): StageConfigInput => ({
    ...c,
    api: { ...c.api, auth: 'apiKey' },
  });
  // act: synthesize dev with API keys, shared by the tests below
  const { service, config } = synthStage(dev, withApiKeys);

  it('requires a key of a throttled usage plan on every method', () => {
    // assert
    for (const method of Object.values(resources(service, 'AWS::ApiGateway::Method'))) {
      expect(method.Properties).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: true });
    }
    service.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: config.api.throttling.rateLimit, BurstLimit: config.api.throttling.burstLimit },
    });
    service.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    service.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });
});

describe('tables (data stack)', () => {
  // act: synthesize the stage once (cached) and list its tables, shared by the tests below
  const { data } = stage('prod');
  const tables = Object.values(resources(data, 'AWS::DynamoDB::Table'));

  it.each([
    ['features', FEATURE_TABLE],
    ['idempotency', IDEMPOTENCY_TABLE],
  ])('the %s table is keyed, expiring, recoverable, encrypted and retained', (_, schema) => {
    // act
    const table = tables.find(
      (t) =>
        (t.Properties.KeySchema as { AttributeName: string }[])[0]?.AttributeName ===
        schema.partitionKey.name,
    );
    // assert
    expect(table).toBeDefined();
    expect(table?.Properties).toMatchObject({
      KeySchema: [{ AttributeName: schema.partitionKey.name, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: schema.partitionKey.name, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: schema.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: expect.anything() },
      DeletionProtectionEnabled: true,
    });
    expect(table?.DeletionPolicy).toBe('Retain');
    expect(table?.UpdateReplacePolicy).toBe('Retain');
  });

  it('encrypts each table with its own rotating, retained key', () => {
    // act: the archive's key is tested with the archive (test/infra/archive.test.ts)
    const keys = Object.values(resources(data, 'AWS::KMS::Key')).filter((k) =>
      String(k.Properties?.Description).includes('table'),
    );
    // assert
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key.Properties?.EnableKeyRotation).toBe(true);
      expect(key.DeletionPolicy).toBe('Retain');
    }
    const keyIds = new Set(
      tables.map((t) =>
        JSON.stringify((t.Properties.SSESpecification as Record<string, unknown>).KMSMasterKeyId),
      ),
    );
    expect(keyIds.size).toBe(2);
  });
});

describe('events path', () => {
  // act: synthesize the stage once (cached), shared by the tests below
  const { service, config } = stage('prod');

  it('queues events encrypted, dead-letters after repeated failures and reports partial batch failures', () => {
    // act
    const queues = Object.entries(resources(service, 'AWS::SQS::Queue'));
    // assert
    expect(queues).toHaveLength(2);
    for (const [, q] of queues) expect(q.Properties?.KmsMasterKeyId).toBeDefined();
    const main = queues.find(([, q]) => q.Properties?.RedrivePolicy);
    const dlq = queues.find(([, q]) => !q.Properties?.RedrivePolicy);
    expect(main?.[1].Properties).toMatchObject({
      VisibilityTimeout: config.events.updaterTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR,
      RedrivePolicy: {
        maxReceiveCount: MAX_RECEIVE_COUNT,
        deadLetterTargetArn: { 'Fn::GetAtt': [dlq?.[0], 'Arn'] },
      },
    });
    service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [main?.[0], 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: config.events.maxBatchingWindowSeconds,
    });
  });

  it('refuses plain HTTP on both queues', () => {
    // act
    const policies = Object.values(resources(service, 'AWS::SQS::QueuePolicy'));
    // assert
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(JSON.stringify(p.Properties?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });
});
