/**
 * Lambda entry of the post-traffic hook. Clients are created once per environment; the
 * configuration is read inside the check so an error in it is reported to CodeDeploy.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createPostTrafficHook } from './alarm-check';
import { loadPostTrafficConfig } from './config';

export const handler = createPostTrafficHook({
  cloudWatch: new CloudWatchClient({}),
  codeDeploy: new CodeDeployClient({}),
  lambda: new LambdaClient({}),
  logger: new Logger({ serviceName: 'deploy-hooks' }),
  config: () => loadPostTrafficConfig(process.env),
});
