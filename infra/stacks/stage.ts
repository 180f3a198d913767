/**
 * Builds the stacks of one stage into an app: data (tables) and service. Used by
 * `infra/bin/app.ts` and by the infra tests, so both synthesize the same thing.
 */
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { StageConfig } from '../config/stage-config';
import { loadModelArtifacts } from '../constructs/model-artifacts';
import { loadNeuralArtifacts } from '../constructs/neural-artifacts';
import { REPO_ROOT } from '../constructs/service-function';
import { DataStack } from './data-stack';
import { NetworkStack } from './network-stack';
import { NeuralStack } from './neural-stack';
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
  /** VPC, endpoints and the internal neural ALB (stages with `neural.enabled`). */
  readonly network?: NetworkStack;
  /** The GPU neural service (stages with `neural.enabled`). */
  readonly neural?: NeuralStack;
}

/** Stack names: `FraudScoring-<stage>-{Data,Network,Service,Neural}`. */
export function stackNames(stage: string) {
  return {
    data: `FraudScoring-${stage}-Data`,
    network: `FraudScoring-${stage}-Network`,
    service: `FraudScoring-${stage}-Service`,
    neural: `FraudScoring-${stage}-Neural`,
  };
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
  const shadowModel =
    config.shadow &&
    loadModelArtifacts(
      join(modelsDir, config.shadow.model, config.shadow.version),
      { name: config.shadow.model, version: config.shadow.version },
      REPO_ROOT,
    );
  const data = new DataStack(app, names.data, {
    stackName: names.data,
    env,
    tags,
    stage: config.stage,
    archive: config.archive,
  });
  const neuralConfig = config.neural.enabled ? config.neural : undefined;
  const neuralArtifacts =
    neuralConfig &&
    loadNeuralArtifacts(
      join(modelsDir, neuralConfig.model.name, neuralConfig.model.version),
      neuralConfig.model,
      config.model,
      REPO_ROOT,
    );
  const network = neuralConfig
    ? new NetworkStack(app, names.network, {
        stackName: names.network,
        env,
        tags,
        stage: config.stage,
        region: env.region,
        neural: neuralConfig,
        logRetentionDays: config.logRetentionDays,
      })
    : undefined;
  const service = new ScoringStack(app, names.service, {
    stackName: names.service,
    env,
    tags,
    config,
    model,
    shadowModel,
    featureTable: data.features,
    idempotencyTable: data.idempotency,
    archive: data.archive,
    onnxRuntimeLayer: options.onnxRuntimeLayer,
    entries: options.entries,
    neural:
      neuralConfig && network && neuralArtifacts
        ? { config: neuralConfig, networkStack: network, artifacts: neuralArtifacts }
        : undefined,
  });
  const neural =
    neuralConfig && network
      ? new NeuralStack(app, names.neural, {
          stackName: names.neural,
          env,
          tags,
          stage: config.stage,
          region: env.region,
          neural: neuralConfig,
          modelsDir,
          tritonVersion: (neuralArtifacts as NonNullable<typeof neuralArtifacts>).tritonVersion,
          networkStack: network,
          topics: service.monitoring.topics,
          logsKey: service.opsKey,
          logRetentionDays: config.logRetentionDays,
          score: { functionVersion: service.scoring.version.version, modelVersion: model.card.version },
          alarmDefaults: { page: config.alarms.page.defaults, ticket: config.alarms.ticket.defaults },
        })
      : undefined;
  return { data, service, network, neural };
}
