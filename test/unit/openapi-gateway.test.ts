/**
 * What API Gateway itself answers (validator 400s, throttling 429s) is what the OpenAPI
 * document and the client's error table say it answers. The ScoringApi construct alone is
 * synthesized in a bare stack: no bundling, no stage.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { API_ERRORS, isApiErrorCode } from '../../api/errors';
import { ScoringApi } from '../../infra/constructs/scoring-api';

function gatewayResponses(auth: 'iam' | 'apiKey') {
  const stack = new Stack(new App(), 'Api', { env: { account: '123456789012', region: 'eu-west-1' } });
  const fn = (id: string) =>
    lambda.Function.fromFunctionArn(stack, id, `arn:aws:lambda:eu-west-1:123456789012:function:${id}`);
  new ScoringApi(stack, 'Scoring', {
    stage: 'test',
    scoreFunction: fn('score'),
    eventsFunction: fn('events'),
    auth,
    throttling: { rateLimit: 10, burstLimit: 20 },
    logsKey: new kms.Key(stack, 'Key'),
    logRetentionDays: 7,
  });
  const responses = Template.fromStack(stack).findResources('AWS::ApiGateway::GatewayResponse');
  return Object.values(responses).map((r) => r.Properties as Record<string, unknown>);
}

describe('API Gateway responses match the documented errors', () => {
  it.each(['iam', 'apiKey'] as const)('throttling and validation bodies (%s)', (auth) => {
    // prepare (the construct under its auth mode), act
    const responses = gatewayResponses(auth);
    // assert
    const byType = Object.fromEntries(responses.map((r) => [r.ResponseType, r]));
    for (const type of ['THROTTLED', 'BAD_REQUEST_BODY']) {
      const response = byType[type] as Record<string, unknown> & {
        ResponseTemplates: Record<string, string>;
        ResponseParameters?: Record<string, string>;
      };
      const body = JSON.parse(response.ResponseTemplates['application/json'] as string) as {
        error: { code: string };
      };
      const code = body.error.code;
      expect(isApiErrorCode(code)).toBe(true);
      if (!isApiErrorCode(code)) continue;
      expect(Number(response.StatusCode)).toBe(API_ERRORS[code].status);
      if ('retryAfter' in API_ERRORS[code]) {
        expect(response.ResponseParameters?.['gatewayresponse.header.Retry-After']).toMatch(/^'\d+'$/);
      }
    }
    const throttled = JSON.parse(
      (byType.THROTTLED as { ResponseTemplates: Record<string, string> }).ResponseTemplates[
        'application/json'
      ] ?? '{}',
    );
    expect(throttled).toEqual({ error: { code: 'THROTTLED', ...API_ERRORS.THROTTLED.example } });
  });
});

describe('the API error table and the functions’ status table', () => {
  it('agree on the status of every code the functions answer with', () => {
    // prepare
    const { ERROR_STATUS } =
      require('../../functions/shared/domain/errors') as typeof import('../../functions/shared/domain/errors');
    const { API_ERRORS } = require('../../api/errors') as typeof import('../../api/errors');
    // act
    const disagreements = Object.entries(ERROR_STATUS).filter(
      ([code, status]) => (API_ERRORS as Record<string, { status: number }>)[code]?.status !== status,
    );
    // assert: every code a handler can send is documented, with the same status
    expect(disagreements).toEqual([]);
  });
});
