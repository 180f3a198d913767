/**
 * Builds the stacks of one stage into an app: data (tables) and service. Used by
 * `infra/bin/app.ts` and by the infra tests, so both synthesize the same thing.
 */
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { StageConfig } from '../config/stage-config';
import { loadModelArtifacts } from '../constructs/model-artifacts';
import { REPO_ROOT } from '../constructs/service-function';
import { DataStack } from './data-stack';
import { ScoringStack, type ScoringStackProps } from './scoring-stack';

export interface StageOptions {
  /**
   * Directory holding `<name>/<version>/` model folders.
   * @default models/ in the repository
   */
  readonly modelsDir?: string;
  /**
   * onnxruntime layer code.
   * @default - built by layers/onnxruntime/build.ts for the stage's architecture
   */
  readonly onnxRuntimeLayer?: lambda.Code;
  /** Handler entry overrides (tests). @default - the files under functions/ */
  readonly entries?: ScoringStackProps['entries'];
}

export interface StageStacks {
  /** Tables and their keys. */
  readonly data: DataStack;
  /** API, functions, delivery and monitoring. */
  readonly service: ScoringStack;
}

/** Stack names: `FraudScoring-<stage>-Data` and `FraudScoring-<stage>-Service`. */
export function stackNames(stage: string) {
  return { data: `FraudScoring-${stage}-Data`, service: `FraudScoring-${stage}-Service` };
}

export function addStage(app: App, config: StageConfig, options: StageOptions = {}): StageStacks {
  const names = stackNames(config.stage);
  const env = config.env;
  const tags = { project: 'fraud-scoring', stage: config.stage };
  const modelsDir = options.modelsDir ?? join(REPO_ROOT, 'models');
  const model = loadModelArtifacts(
    join(modelsDir, config.model.name, config.model.version),
    config.model,
    REPO_ROOT,
  );
  const data = new DataStack(app, names.data, {
    stackName: names.data,
    env,
    tags,
    stage: config.stage,
    archive: config.archive,
  });
  const service = new ScoringStack(app, names.service, {
    stackName: names.service,
    env,
    tags,
    config,
    model,
    featureTable: data.features,
    idempotencyTable: data.idempotency,
    archive: data.archive,
    onnxRuntimeLayer: options.onnxRuntimeLayer,
    entries: options.entries,
  });
  return { data, service };
}
