/**
 * The edge and the state: API auth, validation, throttling, logging and WAF per stage; the
 * tables' keys, TTL, recovery, encryption and retention; the events queue.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { FEATURE_TABLE, IDEMPOTENCY_TABLE } from '../../functions/shared/table-schema';
import { dev } from '../../infra/config/stages';
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from '../../infra/constructs/events-pipeline';
import { WAF_MANAGED_RULE_GROUPS } from '../../infra/constructs/scoring-api';
import { only, resources, stage, synthStage } from './support';

describe.each(['dev', 'prod'] as const)('scoring API (%s)', (name) => {
  const { service, config } = stage(name);

  it('is a regional REST API whose every method requires SigV4 (IAM) by default', () => {
    service.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    const methods = Object.values(resources(service, 'AWS::ApiGateway::Method'));
    expect(methods.map((m) => m.Properties?.HttpMethod)).toEqual(['POST', 'POST']);
    for (const method of methods) {
      expect(method.Properties?.AuthorizationType).toBe('AWS_IAM');
      expect(method.Properties?.ApiKeyRequired).toBeUndefined();
    }
    service.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
  });

  it('validates both bodies against models generated from the contract', () => {
    const [validatorId] = only(service, 'AWS::ApiGateway::RequestValidator');
    service.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const models = resources(service, 'AWS::ApiGateway::Model');
    const scoreModel = Object.entries(models).find(([, m]) => m.Properties?.Name === 'ScoreRequest');
    expect(scoreModel?.[1].Properties?.Schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: expect.arrayContaining(['transactionId', 'cardId', 'amount', 'currency', 'timestamp']),
    });
    for (const method of Object.values(resources(service, 'AWS::ApiGateway::Method'))) {
      expect(method.Properties?.RequestValidatorId).toEqual({ Ref: validatorId });
      expect(method.Properties?.RequestModels).toEqual({ 'application/json': { Ref: expect.any(String) } });
    }
  });

  it('routes POST /v1/score to alias live, never to $LATEST', () => {
    const [aliasId] = only(service, 'AWS::Lambda::Alias');
    service.hasResourceProperties('AWS::ApiGateway::Method', {
      OperationName: 'score',
      Integration: { Type: 'AWS_PROXY', Uri: { 'Fn::Join': ['', Match.arrayWith([{ Ref: aliasId }])] } },
    });
  });

  it('throttles, traces and access-logs the stage without request bodies', () => {
    const [, apiStage] = only(service, 'AWS::ApiGateway::Stage');
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
    if (!config.api.waf) {
      service.resourceCountIs('AWS::WAFv2::WebACL', 0);
      return;
    }
    const [aclId, acl] = only(service, 'AWS::WAFv2::WebACL');
    expect((acl.Properties.Rules as { Name: string }[]).map((r) => r.Name)).toEqual([
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

describe('API key mode (per-stage option)', () => {
  const { service, config } = synthStage(dev, (c) => ({ ...c, api: { ...c.api, auth: 'apiKey' } }));

  it('requires a key of a throttled usage plan on every method', () => {
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
  const { data } = stage('prod');
  const tables = Object.values(resources(data, 'AWS::DynamoDB::Table'));

  it.each([
    ['features', FEATURE_TABLE],
    ['idempotency', IDEMPOTENCY_TABLE],
  ])('the %s table is keyed, expiring, recoverable, encrypted and retained', (_, schema) => {
    const table = tables.find(
      (t) =>
        (t.Properties.KeySchema as { AttributeName: string }[])[0]?.AttributeName ===
        schema.partitionKey.name,
    );
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
    const keys = Object.values(resources(data, 'AWS::KMS::Key'));
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
  const { service, config } = stage('prod');

  it('queues events encrypted, dead-letters after repeated failures and reports partial batch failures', () => {
    const queues = Object.entries(resources(service, 'AWS::SQS::Queue'));
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
    const policies = Object.values(resources(service, 'AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(JSON.stringify(p.Properties?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });
});
