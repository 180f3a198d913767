/**
 * Lambda entry of the pre-traffic hook. Clients are created once per environment; the
 * configuration is read inside the check so an error in it is reported to CodeDeploy.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { loadPreTrafficConfig } from './config';
import { createPreTrafficHook } from './replay-check';

export const handler = createPreTrafficHook({
  lambda: new LambdaClient({}),
  codeDeploy: new CodeDeployClient({}),
  logger: new Logger({ serviceName: 'deploy-hooks' }),
  config: () => loadPreTrafficConfig(process.env),
});
