/**
 * The CDK app. The only place that reads CDK context (`-c stage=dev|prod`) and the
 * environment; everything below gets a validated, typed {@link StageConfig}.
 *
 *   npx cdk synth -c stage=prod      (or: npm run synth, for every stage)
 */
import { App } from 'aws-cdk-lib';
import { CDK_FEATURE_FLAGS } from '../config/cdk-context';
import { loadStageConfig, type StageConfig } from '../config/stage-config';
import { STAGES } from '../config/stages';
import { applyNagPacks } from '../constructs/nag';
import { addStage } from '../stacks/stage';

const app = new App({ context: { ...CDK_FEATURE_FLAGS } });
const stage = app.node.tryGetContext('stage') as string | undefined;
const config: StageConfig = loadStageConfig(STAGES, stage, {
  CDK_DEFAULT_ACCOUNT: process.env.CDK_DEFAULT_ACCOUNT,
  CDK_DEFAULT_REGION: process.env.CDK_DEFAULT_REGION,
});
addStage(app, config);
applyNagPacks(app);
app.synth();
