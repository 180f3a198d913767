/**
 * What every function of the service shares: Node.js 22, active tracing, a local esbuild
 * bundle (never Docker) with the AWS SDK bundled at the locked version, Powertools settings,
 * and an encrypted log group. {@link ServiceFunction} is the plain case; the score function
 * adds its ESM bundle, model files and layer on top of {@link serviceFunctionDefaults}.
 */
import { join, resolve } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../functions/shared/metrics-contract';
import type { LambdaArchitecture } from '../config/stage-config';
import { encryptedLogGroup } from './encryption';
import { lambdaRole, type ManagedPolicyRole } from './roles';

/** The repository root (holds package.json, package-lock.json and tsconfig.json). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** Props and environment shared by all functions of one stage. */
export function serviceFunctionDefaults(options: { service: string; stage: string }) {
  return {
    function: {
      runtime: lambda.Runtime.NODEJS_22_X,
      tracing: lambda.Tracing.ACTIVE,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    },
    environment: {
      STAGE: options.stage,
      POWERTOOLS_SERVICE_NAME: options.service,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    } as Record<string, string>,
    bundling: {
      forceDockerBundling: false,
      target: 'node22',
      tsconfig: join(REPO_ROOT, 'tsconfig.json'),
      minify: true,
      keepNames: true,
      sourceMap: true,
      sourcesContent: false,
      // Bundle the SDK too: the locked version, tree-shaken, instead of whatever the runtime ships.
      externalModules: [] as string[],
    } satisfies nodejs.BundlingOptions,
  };
}

export interface ServiceFunctionProps {
  /** `POWERTOOLS_SERVICE_NAME` and the `service` metric dimension. */
  readonly service: string;
  /** Stage name (`STAGE`). */
  readonly stage: string;
  /** Handler entry file (CommonJS bundle). */
  readonly entry: string;
  /** What the function does, for the console. */
  readonly description: string;
  /** Lambda architecture. */
  readonly architecture: LambdaArchitecture;
  /** Key of the log group. */
  readonly logsKey: kms.IKey;
  /** Days to keep logs. */
  readonly logRetentionDays: number;
  /** Timeout. */
  readonly timeout: Duration;
  /**
   * Memory in MB.
   * @default 512
   */
  readonly memoryMb?: number;
  /**
   * Environment merged over the defaults (a key given here wins).
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Files to copy into the bundle (`to` is relative to the bundle root, i.e. /var/task).
   * @default - none
   */
  readonly bundleFiles?: { from: string; to: string }[];
  /**
   * Place the function in a VPC, with ENI permissions in its own policy ({@link grantVpcAccess}).
   * @default - no VPC
   */
  readonly network?: FunctionNetwork;
}

/** Where a function joins a VPC. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * What AWSLambdaVPCAccessExecutionRole grants, in the function's own policy: Lambda manages
 * the Hyperplane ENIs with the execution role. EC2 has no resource-level permissions for the
 * Describe call; the others are kept to the same statement.
 */
export function grantVpcAccess(role: iam.IGrantable): void {
  role.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: ['*'],
    }),
  );
}

/** A Node.js 22 function of the service with the shared defaults. */
export class ServiceFunction extends Construct {
  readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const defaults = serviceFunctionDefaults(props);
    const { role, logGroup } = functionRoleAndLogs(this, props);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      ...defaults.function,
      description: props.description,
      entry: props.entry,
      architecture: props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: props.memoryMb ?? 512,
      timeout: props.timeout,
      role,
      logGroup,
      environment: mergeEnvironment(defaults.environment, props.environment),
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.subnets,
      securityGroups: props.network ? [props.network.securityGroup] : undefined,
      bundling: {
        ...defaults.bundling,
        commandHooks: props.bundleFiles?.length ? copyIntoBundle(props.bundleFiles) : undefined,
      },
    });
    if (props.network) grantVpcAccess(role);
  }
}

/**
 * The execution role (permissions in one managed policy, no AWS managed policy) and the
 * encrypted log group it may write to — what `AWSLambdaBasicExecutionRole` would grant, minus
 * `logs:CreateLogGroup` and the wildcard resource.
 */
export function functionRoleAndLogs(
  scope: Construct,
  props: { description: string; logsKey: kms.IKey; logRetentionDays: number },
): { role: ManagedPolicyRole; logGroup: logs.LogGroup } {
  const role = lambdaRole(scope, 'Role', props.description);
  const logGroup = encryptedLogGroup(scope, 'Logs', {
    encryptionKey: props.logsKey,
    retentionDays: props.logRetentionDays,
  });
  logGroup.grantWrite(role);
  return { role, logGroup };
}

/** `defaults` overlaid with `overrides`; a key in `overrides` wins. */
export function mergeEnvironment(
  defaults: Record<string, string>,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return Object.fromEntries(new Map([...Object.entries(defaults), ...Object.entries(overrides)]));
}

/** `afterBundling` hooks that copy files into the bundle, creating directories as needed. */
export function copyIntoBundle(files: { from: string; to: string }[]): nodejs.ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) =>
      files.flatMap(({ from, to }) => {
        const target = `${outputDir}/${to}`;
        const dir = target.slice(0, target.lastIndexOf('/'));
        return [`mkdir -p ${shellQuote(dir)}`, `cp ${shellQuote(from)} ${shellQuote(target)}`];
      }),
  };
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
