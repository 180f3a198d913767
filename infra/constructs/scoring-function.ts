/**
 * The score function: an ESM bundle of `functions/score/lambda.ts` with the model and the
 * decision policy copied in, the onnxruntime layer for its architecture, alias `live` on the
 * current version, and provisioned concurrency on that alias owned by Application Auto
 * Scaling (never by the alias resource itself; see docs/deploy.md#provisioned-concurrency-and-codedeploy).
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy, TimeZone } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { buildOnnxRuntimeLayer } from '../../layers/onnxruntime/build';
import type { CapacityConfig, LambdaArchitecture } from '../config/stage-config';
import type { FeatureTable, IdempotencyTable } from './feature-table';
import type { ModelArtifacts } from './model-artifacts';
import { NEURAL_MODEL_DIR_IN_BUNDLE, type NeuralArtifacts } from './neural-artifacts';
import {
  copyIntoBundle,
  type FunctionNetwork,
  functionRoleAndLogs,
  grantVpcAccess,
  mergeEnvironment,
  REPO_ROOT,
  serviceFunctionDefaults,
} from './service-function';

/** Where the bundle puts the model and the policy inside `/var/task`. */
export const MODEL_DIR_IN_BUNDLE = 'model';
export const POLICY_FILE_IN_BUNDLE = 'policy.json';
/** Where the bundle puts the stage's shadow tree model, when it names one. */
export const SHADOW_MODEL_DIR_IN_BUNDLE = 'shadow-model';

/** Makes `require` exist in the ESM bundle for the CommonJS dependencies esbuild inlines. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface ScoreSettings {
  /** Budget of the feature read before scoring with defaults, ms (`FEATURE_TIMEOUT_MS`). */
  readonly featureTimeoutMs: number;
  /** Card features older than this are stale, seconds (`FEATURE_MAX_AGE_SECONDS`). */
  readonly featureMaxAgeSeconds: number;
  /** How long a transactionId's answer is replayed, seconds (`IDEMPOTENCY_TTL_SECONDS`). */
  readonly idempotencyTtlSeconds: number;
}

export interface ScoringFunctionProps {
  /** Stage name (`STAGE`, and the `stage` metric dimension). */
  readonly stage: string;
  /** Lambda architecture; the onnxruntime layer is built for the same one. */
  readonly architecture: LambdaArchitecture;
  /** The validated model version to bundle. */
  readonly model: ModelArtifacts;
  /**
   * A validated tree model to bundle and score in shadow (`SHADOW_MODEL_DIR`).
   * @default - no tree shadow
   */
  readonly shadowModel?: ModelArtifacts;
  /** Memory in MB. */
  readonly memoryMb: number;
  /** Timeout in seconds. */
  readonly timeoutSeconds: number;
  /** Behaviour settings passed as environment variables. */
  readonly settings: ScoreSettings;
  /** Read with one BatchGetItem per request. */
  readonly featureTable: FeatureTable;
  /** Powertools idempotency records. */
  readonly idempotencyTable: IdempotencyTable;
  /** Provisioned concurrency of alias `live`: bounds, target tracking and scheduled peaks. */
  readonly capacity: CapacityConfig;
  /** Key of the function's log group (its policy must allow CloudWatch Logs). */
  readonly logsKey: kms.IKey;
  /** Days to keep the function's logs. */
  readonly logRetentionDays: number;
  /**
   * Extra environment variables, merged over the defaults (a key given here wins).
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Code of the onnxruntime layer (`nodejs/node_modules/onnxruntime-node` + `onnxruntime-common`
   * for {@link architecture} only).
   * @default - built by `buildOnnxRuntimeLayer()` from layers/onnxruntime/build.ts
   */
  readonly layerCode?: lambda.Code;
  /**
   * Handler entry. Uses top-level await, so it is bundled as ESM.
   * @default functions/score/lambda.ts
   */
  readonly entry?: string;
  /**
   * Place the function in a VPC (only when it calls the VPC-internal neural service).
   * @default - no VPC: the function reaches only AWS APIs
   */
  readonly network?: FunctionNetwork;
  /**
   * The neural model's card, copied into the bundle as `neural-model/model.json`
   * (`NEURAL_MODEL_DIR`): the client combines the neural score with the tree's through it.
   * @default - no neural card (the neural client is off)
   */
  readonly neuralModel?: NeuralArtifacts;
  /**
   * Decision policy copied into the bundle.
   * @default functions/score/policy.json
   */
  readonly policyPath?: string;
}

/** Score function + alias `live` + Application Auto Scaling of its provisioned concurrency. */
export class ScoringFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  /** The version this deploy publishes; CodeDeploy shifts `live` to it. */
  readonly version: lambda.Version;
  readonly alias: lambda.Alias;
  readonly scaling: lambda.IScalableFunctionAttribute;
  /** The CloudFormation resource of the scalable target, for dependency ordering and tests. */
  readonly scalableTarget: appscaling.CfnScalableTarget;

  constructor(scope: Construct, id: string, props: ScoringFunctionProps) {
    super(scope, id);
    const architecture =
      props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    const layerCode = props.layerCode ?? defaultLayerCode(props.architecture);
    const layer = new lambda.LayerVersion(this, 'OnnxRuntime', {
      code: layerCode,
      compatibleArchitectures: [architecture],
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      description: `onnxruntime-node for ${props.architecture}`,
    });
    const description = `Scores card authorizations with ${props.model.card.name}@${props.model.card.version}`;
    const { role, logGroup } = functionRoleAndLogs(this, { ...props, description });
    const policyPath = props.policyPath ?? join(REPO_ROOT, 'functions', 'score', 'policy.json');
    const defaults = serviceFunctionDefaults({ service: 'score', stage: props.stage });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      ...defaults.function,
      description,
      entry: props.entry ?? join(REPO_ROOT, 'functions', 'score', 'lambda.ts'),
      architecture,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      layers: [layer],
      role,
      logGroup,
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.subnets,
      securityGroups: props.network ? [props.network.securityGroup] : undefined,
      // CloudFormation would delete the previous version after each deploy; the runbook's fast
      // rollback (`update-alias` to it) needs it. The post-traffic hook prunes beyond the newest N.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
      environment: mergeEnvironment(
        {
          ...defaults.environment,
          FEATURE_TABLE_NAME: props.featureTable.table.tableName,
          IDEMPOTENCY_TABLE_NAME: props.idempotencyTable.table.tableName,
          MODEL_DIR: `/var/task/${MODEL_DIR_IN_BUNDLE}`,
          // The metric dimension the version-scoped alarms query, even if the model fails to load.
          MODEL_VERSION: props.model.card.version,
          POLICY_PATH: `/var/task/${POLICY_FILE_IN_BUNDLE}`,
          FEATURE_TIMEOUT_MS: String(props.settings.featureTimeoutMs),
          FEATURE_MAX_AGE_SECONDS: String(props.settings.featureMaxAgeSeconds),
          IDEMPOTENCY_TTL_SECONDS: String(props.settings.idempotencyTtlSeconds),
          ...(props.shadowModel ? { SHADOW_MODEL_DIR: `/var/task/${SHADOW_MODEL_DIR_IN_BUNDLE}` } : {}),
          ...(props.neuralModel ? { NEURAL_MODEL_DIR: `/var/task/${NEURAL_MODEL_DIR_IN_BUNDLE}` } : {}),
        },
        props.environment,
      ),
      bundling: {
        ...defaults.bundling,
        // index.ts awaits the ONNX session at top level: only an ES module can do that.
        format: nodejs.OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        // Native addon: comes from the layer, cannot be bundled.
        externalModules: ['onnxruntime-node'],
        commandHooks: copyIntoBundle([
          ...scoreBundleFiles(props.model, policyPath, props.shadowModel),
          ...(props.neuralModel
            ? [{ from: props.neuralModel.cardPath, to: `${NEURAL_MODEL_DIR_IN_BUNDLE}/model.json` }]
            : []),
        ]),
      },
    });

    if (props.network) grantVpcAccess(role);
    props.featureTable.bindScoringRead(this.function);
    props.idempotencyTable.bindIdempotency(this.function);

    this.version = this.function.currentVersion;
    // No provisionedConcurrentExecutions here: CloudFormation would then call
    // PutProvisionedConcurrencyConfig while CodeDeploy holds weights on the alias, which fails
    // ("Alias with weights can not be used with Provisioned Concurrency").
    this.alias = new lambda.Alias(this, 'Live', { aliasName: 'live', version: this.version });

    this.scaling = this.alias.addAutoScaling({
      minCapacity: props.capacity.minProvisioned,
      maxCapacity: props.capacity.maxProvisioned,
    });
    this.scaling.scaleOnUtilization({ utilizationTarget: props.capacity.utilizationTarget });
    for (const action of props.capacity.scheduled) {
      this.scaling.scaleOnSchedule(action.name, {
        schedule: appscaling.Schedule.expression(action.schedule),
        timeZone: action.timeZone ? TimeZone.of(action.timeZone) : undefined,
        minCapacity: action.minCapacity,
        maxCapacity: action.maxCapacity,
      });
    }
    this.scalableTarget = findScalableTarget(this.alias);
    // Bounds change only after the alias update, i.e. after CodeDeploy has finished shifting
    // and removed the weights (PC cannot be managed on a weighted alias).
    this.scalableTarget.addResourceDependency(this.alias.node.defaultChild as lambda.CfnAlias);
  }
}

/** The files copied into the score function's bundle: model, policy, and the shadow model if any. */
export function scoreBundleFiles(
  model: Pick<ModelArtifacts, 'onnxPath' | 'cardPath'>,
  policyPath: string,
  shadowModel?: Pick<ModelArtifacts, 'onnxPath' | 'cardPath'>,
): { from: string; to: string }[] {
  return [
    { from: model.onnxPath, to: `${MODEL_DIR_IN_BUNDLE}/model.onnx` },
    { from: model.cardPath, to: `${MODEL_DIR_IN_BUNDLE}/model.json` },
    { from: policyPath, to: POLICY_FILE_IN_BUNDLE },
    ...(shadowModel
      ? [
          { from: shadowModel.onnxPath, to: `${SHADOW_MODEL_DIR_IN_BUNDLE}/model.onnx` },
          { from: shadowModel.cardPath, to: `${SHADOW_MODEL_DIR_IN_BUNDLE}/model.json` },
        ]
      : []),
  ];
}

function findScalableTarget(alias: lambda.Alias): appscaling.CfnScalableTarget {
  const found = alias.node.findAll().find((c) => c instanceof appscaling.CfnScalableTarget);
  if (!found) throw new Error(`no scalable target under ${alias.node.path}`);
  return found as appscaling.CfnScalableTarget;
}

function defaultLayerCode(architecture: LambdaArchitecture): lambda.Code {
  return lambda.Code.fromAsset(buildOnnxRuntimeLayer(architecture === 'arm64' ? 'arm64' : 'x64'));
}
