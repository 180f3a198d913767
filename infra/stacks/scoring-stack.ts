/**
 * The service of one stage: score function with its delivery pipeline, events path, API,
 * dashboard and alarms. Everything comes in as typed props from `infra/bin/app.ts`; nothing
 * here reads the environment or CDK context.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { alarmSettings, type NeuralConfig, type StageConfig } from '../config/stage-config';
import type { EventArchive } from '../constructs/archive';
import { archiveAlarms } from '../constructs/archive-alarms';
import { CanaryJudge } from '../constructs/canary-judge';
import { ServiceKey } from '../constructs/encryption';
import { EventsPipeline } from '../constructs/events-pipeline';
import type { FeatureTable, IdempotencyTable } from '../constructs/feature-table';
import type { ModelArtifacts } from '../constructs/model-artifacts';
import { ServiceMonitoring } from '../constructs/monitoring';
import { acknowledgeServiceFindings } from '../constructs/nag';
import { neuralWidgets } from '../constructs/neural-alarms';
import type { NeuralArtifacts } from '../constructs/neural-artifacts';
import { ProductionMonitors } from '../constructs/production-monitors';
import { ScoreDelivery } from '../constructs/score-delivery';
import { ScoringApi } from '../constructs/scoring-api';
import { ScoringFunction } from '../constructs/scoring-function';
import type { NetworkStack } from './network-stack';

export interface ScoringStackProps extends StackProps {
  /** The validated stage settings. */
  readonly config: StageConfig;
  /** The model version to serve, already checked. */
  readonly model: ModelArtifacts;
  /**
   * The stage's shadow tree model (`config.shadow`), already checked.
   * @default - no tree shadow
   */
  readonly shadowModel?: ModelArtifacts;
  /** Online feature table (data stack). */
  readonly featureTable: FeatureTable;
  /** Idempotency table (data stack). */
  readonly idempotencyTable: IdempotencyTable;
  /**
   * Event and answer archive (data stack): the score and events functions write to it.
   * @default - no archive
   */
  readonly archive?: EventArchive;
  /**
   * onnxruntime layer code for `config.architecture`.
   * @default - built by layers/onnxruntime/build.ts
   */
  readonly onnxRuntimeLayer?: lambda.Code;
  /**
   * The neural service's network: the score function joins the VPC and calls the internal ALB.
   * @default - neural service off: no VPC, `NEURAL_MODE=off`
   */
  readonly neural?: {
    readonly config: NeuralConfig;
    readonly networkStack: NetworkStack;
    /** The neural card the client combines with (bundled) and Triton's version of the model. */
    readonly artifacts: NeuralArtifacts;
  };
  /**
   * Entry overrides, for tests that must not depend on handler files (keys: score, events,
   * updater, preTraffic, postTraffic).
   * @default - the files under functions/
   */
  readonly entries?: Partial<
    Record<
      | 'score'
      | 'events'
      | 'updater'
      | 'preTraffic'
      | 'postTraffic'
      | 'driftMonitor'
      | 'calibrationMonitor'
      | 'canaryJudge',
      string
    >
  >;
}

export class ScoringStack extends Stack {
  readonly scoring: ScoringFunction;
  readonly delivery: ScoreDelivery;
  readonly events: EventsPipeline;
  readonly api: ScoringApi;
  readonly monitoring: ServiceMonitoring;
  /** Encrypts logs and alarm topics (the neural stack's task logs too). */
  readonly opsKey: kms.Key;
  readonly monitors: ProductionMonitors;
  /** The canary judge, where the stage enables it. */
  readonly judge?: CanaryJudge;

  constructor(scope: Construct, id: string, props: ScoringStackProps) {
    const { config, model } = props;
    super(scope, id, {
      description: `Fraud scoring (${config.stage}): API, score function with canary delivery, events path, monitoring`,
      ...props,
    });
    // Logs and alarm topics share one key; CloudWatch Logs and CloudWatch alarms may use it.
    const opsKey = new ServiceKey(this, 'OpsKey', {
      description: `Encrypts fraud-scoring ${config.stage} logs and alarm topics`,
      allowCloudWatchLogs: true,
      allowCloudWatchAlarms: true,
    }).key;
    this.opsKey = opsKey;
    const logs = { logsKey: opsKey, logRetentionDays: config.logRetentionDays };

    this.scoring = new ScoringFunction(this, 'Score', {
      ...logs,
      stage: config.stage,
      architecture: config.architecture,
      model,
      shadowModel: props.shadowModel,
      memoryMb: config.scoreFunction.memoryMb,
      timeoutSeconds: config.scoreFunction.timeoutSeconds,
      settings: config.scoreFunction,
      featureTable: props.featureTable,
      idempotencyTable: props.idempotencyTable,
      capacity: config.capacity,
      layerCode: props.onnxRuntimeLayer,
      entry: props.entries?.score,
      ...neuralWiring(props.neural),
    });

    const page = config.alarms.page;
    this.delivery = new ScoreDelivery(this, 'Delivery', {
      ...logs,
      stage: config.stage,
      scoring: this.scoring,
      model,
      strategy: config.deployment.strategy,
      preTrafficMaxLatencyMs: config.deployment.preTrafficMaxLatencyMs,
      guardrails: {
        canaryErrors: alarmSettings(page, page.canaryErrors),
        canaryLatencyP99Ms: alarmSettings(page, page.canaryLatencyP99Ms),
        canaryAppErrorRatePercent: alarmSettings(page, page.canaryAppErrorRatePercent),
      },
      latencyMinSamples: config.deployment.latencyMinSamples,
      bakeMinutes: config.deployment.bakeMinutes,
      minCanaryInvocations: config.deployment.minCanaryInvocations,
      onLowTraffic: config.deployment.onLowTraffic,
      retainedVersions: config.deployment.retainedVersions,
      architecture: config.architecture,
      preTrafficEntry: props.entries?.preTraffic,
      postTrafficEntry: props.entries?.postTraffic,
      judge: config.judge.requirePass ? { inconclusive: config.judge.inconclusive } : undefined,
    });
    if (config.judge.enabled) {
      this.judge = new CanaryJudge(this, 'CanaryJudge', {
        ...logs,
        stage: config.stage,
        scoring: this.scoring,
        deploymentGroup: this.delivery.deploymentGroup,
        model,
        architecture: config.architecture,
        judgeConfig: config.judge.config,
        entry: props.entries?.canaryJudge,
      });
    }

    this.events = new EventsPipeline(this, 'Events', {
      ...logs,
      stage: config.stage,
      featureTable: props.featureTable,
      architecture: config.architecture,
      updaterTimeoutSeconds: config.events.updaterTimeoutSeconds,
      maxBatchingWindowSeconds: config.events.maxBatchingWindowSeconds,
      featureTtlSeconds: config.events.featureTtlSeconds,
      updaterMaxConcurrency: config.events.updaterMaxConcurrency,
      eventsEntry: props.entries?.events,
      updaterEntry: props.entries?.updater,
    });

    this.api = new ScoringApi(this, 'Api', {
      ...logs,
      stage: config.stage,
      scoreFunction: this.scoring.alias,
      eventsFunction: this.events.eventsFunction,
      auth: config.api.auth,
      throttling: config.api.throttling,
      methodThrottling: config.api.methodThrottling,
      waf: config.api.waf,
      wafRateLimit: config.api.wafRateLimit,
    });

    this.monitoring = new ServiceMonitoring(this, 'Monitoring', {
      stage: config.stage,
      alarms: config.alarms,
      notifications: config.notifications,
      topicKey: opsKey,
      scoring: this.scoring,
      modelVersion: model.card.version,
      rollbackAlarms: this.delivery.rollbackAlarms,
      api: this.api,
      events: this.events,
      featureTable: props.featureTable.table,
      idempotencyTable: props.idempotencyTable.table,
      extraWidgets: props.neural
        ? neuralWidgets({
            stage: config.stage,
            config: props.neural.config,
            region: config.env.region,
            loadBalancer: props.neural.networkStack.loadBalancer.loadBalancer,
            targetGroups: [
              props.neural.networkStack.loadBalancer.blueTargetGroup,
              props.neural.networkStack.loadBalancer.greenTargetGroup,
            ],
            score: { functionVersion: this.scoring.version.version, modelVersion: model.card.version },
          })
        : undefined,
    });

    if (props.archive) this.wireArchive(props.archive, config, model.card.version);

    // Drift and (over the archive) calibration: ticket alarms on the ticket topic, a dashboard row.
    this.monitors = new ProductionMonitors(this, 'ModelMonitors', {
      ...logs,
      stage: config.stage,
      architecture: config.architecture,
      model,
      entry: props.entries?.driftMonitor,
      calibration: props.archive && {
        archive: { bucket: props.archive.bucket, key: props.archive.key },
        settings: config.calibration,
        entry: props.entries?.calibrationMonitor,
      },
    });
    this.monitoring.topics.route(this.monitors.alarms);
    this.monitoring.dashboard.addWidgets(...this.monitors.widgets);
    if (this.judge) {
      this.monitoring.topics.route([this.judge.verdictAlarm]);
      this.monitoring.dashboard.addWidgets(...this.judge.widgets);
    }

    acknowledgeServiceFindings(this, {
      api: this.api,
      delivery: this.delivery,
      auth: config.api.auth,
      waf: config.api.waf,
    });
  }

  /** Each function writes its own record kind (`ARCHIVE_STREAM_NAME`); the archive's alarms open tickets. */
  private wireArchive(archive: EventArchive, config: StageConfig, modelVersion: string): void {
    this.scoring.function.addEnvironment('ARCHIVE_STREAM_NAME', archive.streamName('score'));
    archive.grantPut('score', this.scoring.function);
    // A NodejsFunction behind the IFunction the pipeline exposes.
    (this.events.eventsFunction as lambda.Function).addEnvironment(
      'ARCHIVE_STREAM_NAME',
      archive.streamName('event'),
    );
    archive.grantPut('event', this.events.eventsFunction);
    const alarms = archiveAlarms(this.monitoring, {
      stage: config.stage,
      defaults: config.alarms.ticket.defaults,
      thresholds: config.archive.alarms,
      streams: archive.streams,
      functionVersion: this.scoring.version.version,
      modelVersion,
    });
    this.monitoring.topics.route(alarms);
  }
}

/**
 * The score function's VPC placement and neural client settings (read by
 * `functions/shared/neural-config.ts`), or nothing when the neural service is off.
 */
function neuralWiring(neural: ScoringStackProps['neural']) {
  if (!neural) return {};
  const { network, loadBalancer } = neural.networkStack;
  return {
    network: {
      vpc: network.vpc,
      subnets: network.privateSubnets,
      securityGroup: network.scoreFunctionSecurityGroup,
    },
    // Bundled card: NEURAL_MODEL_DIR, which the client requires unless off.
    neuralModel: neural.artifacts,
    environment: {
      NEURAL_MODE: neural.config.mode,
      NEURAL_URL: loadBalancer.url,
      NEURAL_MODEL: neural.config.model.name,
      // Triton's integer version directory, not the card's semantic version.
      NEURAL_MODEL_VERSION: neural.artifacts.tritonVersion,
      NEURAL_BUDGET_MS: String(neural.config.budgetMs),
    },
  };
}
