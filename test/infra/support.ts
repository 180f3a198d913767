/**
 * Synthesizes a stage the way `infra/bin/app.ts` does — same feature flags, same stage
 * builder, same cdk-nag packs — but without bundling (esbuild and the onnxruntime layer build
 * are covered by their own tests), so the infra tests stay fast.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CDK_FEATURE_FLAGS } from '../../infra/config/cdk-context';
import { resolveStageConfig, type StageConfig, type StageConfigInput } from '../../infra/config/stage-config';
import { STAGES } from '../../infra/config/stages';
import { applyNagPacks } from '../../infra/constructs/nag';
import { addStage, type StageStacks } from '../../infra/stacks/stage';

/** A CloudFormation resource as it appears in a template. */
export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  UpdatePolicy?: Record<string, unknown>;
}

export interface SynthesizedStage {
  config: StageConfig;
  stacks: StageStacks;
  data: Template;
  service: Template;
}

/** An app with the project's feature flags and no asset bundling. */
export function testApp(): App {
  return new App({
    context: { ...CDK_FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [] },
    outdir: mkdtempSync(join(tmpdir(), 'cdk-test-')),
  });
}

let layerDir: string | undefined;
/** A tiny stand-in for the onnxruntime layer asset (the real one is tested in test/unit/layer.test.ts). */
export function fakeLayerCode(): lambda.Code {
  if (!layerDir) {
    layerDir = mkdtempSync(join(tmpdir(), 'fake-layer-'));
    writeFileSync(join(layerDir, 'README'), 'stand-in for the onnxruntime layer');
  }
  return lambda.Code.fromAsset(layerDir);
}

/**
 * Synthesizes one stage with the cdk-nag packs registered: `app.synth()` throws on any
 * unacknowledged finding, exactly as `npm run synth` fails.
 */
export function synthStage(
  input: StageConfigInput,
  edit: (config: StageConfigInput) => StageConfigInput = (c) => c,
): SynthesizedStage {
  const config = resolveStageConfig(edit(structuredClone(input)), {});
  const app = testApp();
  const stacks = addStage(app, config, { onnxRuntimeLayer: fakeLayerCode() });
  applyNagPacks(app);
  const assembly = app.synth();
  const template = (name: string) => Template.fromJSON(assembly.getStackByName(name).template);
  return {
    config,
    stacks,
    data: template(stacks.data.stackName),
    service: template(stacks.service.stackName),
  };
}

const cache = new Map<string, SynthesizedStage>();
/** `synthStage` of a stage in infra/config/stages.ts, once per test file. */
export function stage(name: keyof typeof STAGES & string): SynthesizedStage {
  let synthesized = cache.get(name);
  if (!synthesized) {
    const input = STAGES[name];
    if (!input) throw new Error(`no stage ${name}`);
    synthesized = synthStage(input);
    cache.set(name, synthesized);
  }
  return synthesized;
}

/** Every resource of `type`, keyed by logical id. */
export function resources(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** The one resource of `type` (fails if there is not exactly one). */
export function only(template: Template, type: string): [string, CfnResource] {
  const found = Object.entries(resources(template, type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as [string, CfnResource];
}

/** The Lambda function whose logical id starts with `prefix` (e.g. `ScoreFunction`). */
export function functionId(template: Template, prefix: string): string {
  const ids = Object.keys(resources(template, 'AWS::Lambda::Function')).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`expected one function ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}

/** The placeholder {@link alarmsByName} puts where an alarm name holds the published version. */
export const VERSION_IN_NAME = '{version}';

/**
 * An alarm name as text: a plain string, or a `Fn::Join` whose tokens (the published version of
 * a per-version guardrail) read as {@link VERSION_IN_NAME}.
 */
export function alarmNameText(name: unknown): string {
  if (typeof name === 'string') return name;
  const join = (name as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`unexpected alarm name ${JSON.stringify(name)}`);
  return join[1].map((part) => (typeof part === 'string' ? part : VERSION_IN_NAME)).join(join[0]);
}

/** Alarms keyed by their AlarmName (see {@link alarmNameText}). */
export function alarmsByName(template: Template): Map<string, [string, CfnResource]> {
  return new Map(
    Object.entries(resources(template, 'AWS::CloudWatch::Alarm')).map(([id, r]) => [
      alarmNameText(r.Properties?.AlarmName),
      [id, r],
    ]),
  );
}

/** Every IAM statement of managed and inline policies, with the logical id of its policy. */
export function iamStatements(template: Template): { policy: string; statement: Record<string, unknown> }[] {
  const out: { policy: string; statement: Record<string, unknown> }[] = [];
  for (const type of ['AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy']) {
    for (const [id, r] of Object.entries(resources(template, type))) {
      const doc = r.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
      for (const statement of doc.Statement) out.push({ policy: id, statement });
    }
  }
  return out;
}

/** A value as a list (IAM allows a string or a list for Action and Resource). */
export function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The statements of the managed policy attached to the role of function `fnId`. */
export function functionStatements(template: Template, fnId: string): Record<string, unknown>[] {
  const fn = resources(template, 'AWS::Lambda::Function')[fnId] as CfnResource;
  const roleRef = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statements: Record<string, unknown>[] = [];
  for (const type of ['AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy']) {
    for (const r of Object.values(resources(template, type))) {
      const roles = asList(r.Properties?.Roles as unknown[]);
      if (!roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleRef }))) continue;
      statements.push(...(r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    }
  }
  return statements;
}
