/**
 * Security properties of the synthesized stages: cdk-nag (AWS Solutions + PCI DSS 3.2.1) passes
 * with every acknowledgement reasoned, and actually fails on a finding; encryption at rest;
 * least-privilege grants with no wildcard actions on data resources.
 */
import { Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { applyNagPacks } from '../../infra/constructs/nag';
import {
  asList,
  type CfnResource,
  functionId,
  functionStatements,
  iamStatements,
  resources,
  stage,
  testApp,
} from './support';

describe('cdk-nag at synth', () => {
  it.each(['dev', 'prod'] as const)('%s synthesizes with no unacknowledged finding', (name) => {
    // act: stage() runs app.synth() with both packs registered; it throws on any finding.
    const synth = () => stage(name);
    // assert
    expect(synth).not.toThrow();
  });

  it('fails synth on a finding nobody acknowledged (the packs really run)', () => {
    // prepare
    const app = testApp();
    const stack = new Stack(app, 'Unsafe', { env: { account: '000000000000', region: 'eu-west-1' } });
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    applyNagPacks(app);
    // act
    const synth = () => app.synth();
    // assert
    expect(synth).toThrow(/AwsSolutions-SQS2/); // no server-side encryption
  });
});

describe.each(['dev', 'prod'] as const)('least privilege and encryption (%s)', (name) => {
  // act: synthesize the stage once (cached), shared by the tests below
  const { service, data } = stage(name);

  it('grants no wildcard action anywhere', () => {
    // act
    const statements = [...iamStatements(service), ...iamStatements(data)];
    // assert
    for (const { policy, statement } of statements) {
      for (const action of asList(statement.Action as string | string[])) {
        expect({ policy, action }).toEqual({ policy, action: expect.not.stringMatching(/\*/) });
      }
    }
  });

  it('uses "*" resources only for X-Ray, GetMetricData and ListMetrics, which have no resource-level permissions', () => {
    // prepare
    const postHookPolicy = functionStatements(service, functionId(service, 'DeliveryPostTrafficHook'));
    const driftPolicy = functionStatements(service, functionId(service, 'ModelMonitorsDrift'));
    const judgePolicy = functionStatements(service, functionId(service, 'CanaryJudgeFunction'));
    // act
    const onAnyResource = iamStatements(service).filter(({ statement }) =>
      asList(statement.Resource).includes('*'),
    );
    // assert
    for (const { policy, statement } of onAnyResource) {
      const actions = asList(statement.Action as string[]).sort();
      if (actions.includes('ec2:DescribeNetworkInterfaces')) {
        // the score function in the VPC (neural service on): Lambda's ENI management, as
        // AWSLambdaVPCAccessExecutionRole grants it
        expect(stage(name).config.neural.enabled).toBe(true);
        expect(functionStatements(service, functionId(service, 'ScoreFunction'))).toContainEqual(statement);
        expect(actions.every((a) => a.startsWith('ec2:'))).toBe(true);
        continue;
      }
      if (actions.includes('cloudwatch:ListMetrics')) {
        // the drift monitor's histogram read or the canary judge's series read, and nothing else
        expect(actions).toEqual(['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics']);
        expect([...driftPolicy, ...judgePolicy]).toContainEqual(statement);
        continue;
      }
      if (actions.includes('cloudwatch:GetMetricData')) {
        // the post-traffic hook's evidence read, and nothing else
        expect(actions).toEqual(['cloudwatch:GetMetricData']);
        expect(postHookPolicy).toContainEqual(statement);
        continue;
      }
      expect({ policy, actions }).toEqual({
        policy,
        actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      });
    }
  });

  const actionsOf = (prefix: string) =>
    functionStatements(service, functionId(service, prefix))
      .flatMap((s) => asList(s.Action as string[]))
      .filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:') && !a.startsWith('ec2:'))
      .sort();

  it('lets the score function read features with BatchGetItem only, and read and store its answers', () => {
    // act
    const actions = actionsOf('ScoreFunction');
    // assert
    expect(actions).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'firehose:PutRecordBatch',
        'kms:Decrypt',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
      ].sort(),
    );
    const statements = functionStatements(service, functionId(service, 'ScoreFunction'));
    const batchGet = statements.find((s) => asList(s.Action as string[]).join() === 'dynamodb:BatchGetItem');
    const writes = statements.find((s) => asList(s.Action as string[]).includes('dynamodb:PutItem'));
    // Reads the feature table, writes only the idempotency table: never the same resource.
    expect(JSON.stringify(batchGet?.Resource)).not.toEqual(JSON.stringify(writes?.Resource));
    expect(asList(batchGet?.Action as string[])).toEqual(['dynamodb:BatchGetItem']);
  });

  it('lets the events function only enqueue, and the updater only read items and commit marker transactions', () => {
    // act
    const [events, updater] = ['EventsFunction', 'EventsUpdater'].map(actionsOf) as [string[], string[]];
    // assert
    expect(events).toEqual([
      'firehose:PutRecordBatch',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'sqs:SendMessage',
    ]);
    // TransactWriteItems of marker Puts and aggregate Updates is authorized as PutItem + UpdateItem.
    expect(updater.filter((a) => a.startsWith('dynamodb:'))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(updater).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
  });

  it('keeps every permission in a customer-managed policy, no AWS managed policy on function roles', () => {
    // act
    const roles = ['ScoreFunction', 'EventsFunction', 'EventsUpdater', 'DeliveryPreTrafficHook'].map(
      (prefix) => {
        const fn = resources(service, 'AWS::Lambda::Function')[functionId(service, prefix)] as CfnResource;
        const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
        return resources(service, 'AWS::IAM::Role')[roleId];
      },
    );
    // assert
    service.resourceCountIs('AWS::IAM::Policy', 0);
    for (const role of roles) {
      expect(role).toBeDefined();
      expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('encrypts every log group with a customer key, keeps it for the configured days and masks card data', () => {
    // act
    const groups = Object.values(resources(service, 'AWS::Logs::LogGroup'));
    // assert
    expect(groups.length).toBeGreaterThanOrEqual(6);
    for (const group of groups) {
      expect(group.Properties).toMatchObject({
        KmsKeyId: expect.anything(),
        RetentionInDays: stage(name).config.logRetentionDays,
      });
      expect(JSON.stringify(group.Properties?.DataProtectionPolicy)).toContain('CreditCardNumber');
    }
  });

  it('encrypts queues, topics and keys rotate', () => {
    // act
    const [queues, topics, keys] = ['AWS::SQS::Queue', 'AWS::SNS::Topic', 'AWS::KMS::Key'].map((type) =>
      Object.values(resources(service, type)),
    ) as [CfnResource[], CfnResource[], CfnResource[]];
    // assert
    for (const q of queues) {
      expect(q.Properties?.KmsMasterKeyId).toBeDefined();
    }
    for (const t of topics) {
      expect(t.Properties?.KmsMasterKeyId).toBeDefined();
    }
    for (const k of keys) {
      expect(k.Properties?.EnableKeyRotation).toBe(true);
    }
  });
});
