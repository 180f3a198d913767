/**
 * The real thing, once: `cdk synth` of the prod stage through the pinned CLI with bundling on
 * (esbuild, the onnxruntime layer build, model files copied in), offline. Then the score
 * function's asset is run as Lambda would run it — a fresh Node.js process importing the ESM
 * bundle, onnxruntime-node resolved only from the layer through NODE_PATH — and must reproduce
 * the model card's replay scores.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { NEURAL_MODEL_DIR_IN_BUNDLE } from '../../infra/constructs/neural-artifacts';
import { REPLAY_FILE_IN_BUNDLE } from '../../infra/constructs/score-delivery';
import { MODEL_DIR_IN_BUNDLE, POLICY_FILE_IN_BUNDLE } from '../../infra/constructs/scoring-function';
import { stackNames } from '../../infra/stacks/stage';
import { runProcess } from '../support/process';

const ROOT = join(__dirname, '..', '..');
const MODEL_DIR = join(ROOT, 'models', 'fraud-gbdt', '1.0.0');
const run = promisify(execFile);

interface Template {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, string> }
  >;
}

let outdir: string;
let service: Template;

/** The asset directory of a resource (CDK records it as `aws:asset:path` metadata). */
function assetDir(logicalIdPrefix: string, type = 'AWS::Lambda::Function'): string {
  const entry = Object.entries(service.Resources).find(
    ([id, r]) => r.Type === type && id.startsWith(logicalIdPrefix),
  );
  const path = entry?.[1].Metadata?.['aws:asset:path'];
  if (!path) throw new Error(`no asset for ${logicalIdPrefix}`);
  return join(outdir, path);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

beforeAll(async () => {
  // prepare
  outdir = mkdtempSync(join(tmpdir(), 'cdk-synth-'));
  // act: one real synth, shared by the tests below
  await run(
    'npx',
    [
      'cdk',
      'synth',
      '-c',
      'stage=prod',
      '--no-notices',
      '--no-version-reporting',
      '--quiet',
      '--output',
      outdir,
    ],
    { cwd: ROOT, env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' }, maxBuffer: 64 * 1024 * 1024 },
  );
  service = JSON.parse(readFileSync(join(outdir, `${stackNames('prod').service}.template.json`), 'utf8'));
}, 180_000);

/**
 * Starts the built score bundle in a fresh Node process (the layer's modules on NODE_PATH, the
 * environment the template gives it plus `extraEnv`) and sends it the deployment hook's replay
 * request with `cases`.
 */
function runBundledReplay(
  functionDir: string,
  layerModules: string,
  cases: { features: number[] }[],
  extraEnv: Record<string, string> = {},
) {
  const script = `
      const { handler } = await import(${JSON.stringify(join(functionDir, 'index.mjs'))});
      const out = await handler(${JSON.stringify({ kind: 'replay', cases })}, {});
      process.stdout.write(JSON.stringify(out));
    `;
  return runProcess(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      NODE_PATH: layerModules,
      STAGE: 'prod',
      FEATURE_TABLE_NAME: 'unused-by-replay',
      IDEMPOTENCY_TABLE_NAME: 'unused-by-replay',
      MODEL_DIR: join(functionDir, MODEL_DIR_IN_BUNDLE),
      POLICY_PATH: join(functionDir, POLICY_FILE_IN_BUNDLE),
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      ...extraEnv,
    },
  });
}

describe('cdk synth -c stage=prod (bundling on)', () => {
  it('bundles the score function as ESM with the model and policy, and without onnxruntime', () => {
    // prepare
    const dir = assetDir('ScoreFunction');
    // act
    const files = filesUnder(dir).sort();
    // assert
    expect(files).toEqual(
      expect.arrayContaining([
        'index.mjs',
        `${MODEL_DIR_IN_BUNDLE}/model.onnx`,
        `${MODEL_DIR_IN_BUNDLE}/model.json`,
        POLICY_FILE_IN_BUNDLE,
      ]),
    );
    expect(readFileSync(join(dir, `${MODEL_DIR_IN_BUNDLE}/model.onnx`))).toEqual(
      readFileSync(join(MODEL_DIR, 'model.onnx')),
    );
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(bundle.startsWith("import { createRequire } from 'module';")).toBe(true);
    expect(files.some((f) => f.includes('onnxruntime') || f.endsWith('.node'))).toBe(false);
  });

  it('bundles the replay set into the pre-traffic hook', () => {
    // prepare
    const dir = assetDir('DeliveryPreTrafficHook');
    // act
    const bundled = readFileSync(join(dir, REPLAY_FILE_IN_BUNDLE), 'utf8');
    // assert
    expect(bundled).toBe(readFileSync(join(MODEL_DIR, 'replay.jsonl'), 'utf8'));
  });

  it('ships a layer with only linux-x64 binaries of onnxruntime-node, under 60 MB', () => {
    // prepare
    const dir = assetDir('ScoreOnnxRuntime', 'AWS::Lambda::LayerVersion');
    // act
    const files = filesUnder(dir);
    // assert
    const natives = files.filter((f) => f.endsWith('.node') || /\.so(\.\d+)*$/.test(f));
    expect(natives.length).toBeGreaterThan(0);
    for (const f of natives) expect(f).toMatch(/linux[/\\]x64/);
    const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(bytes).toBeLessThan(60 * 1024 * 1024);
  });

  it('scores the replay set from the deployed artifact in a fresh process, as Lambda would', async () => {
    // prepare
    const functionDir = assetDir('ScoreFunction');
    const layerModules = join(
      assetDir('ScoreOnnxRuntime', 'AWS::Lambda::LayerVersion'),
      'nodejs',
      'node_modules',
    );
    const card = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8')) as {
      replay: { tolerance: number };
    };
    const cases = readFileSync(join(MODEL_DIR, 'replay.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(0, 50)
      .map((l) => JSON.parse(l) as { features: number[]; score: number });
    // act
    const {
      status: code,
      stdout,
      stderr,
    } = await runBundledReplay(
      functionDir,
      layerModules,
      cases.map((c) => ({ features: c.features })),
    );
    // assert
    expect(existsSync(join(layerModules, 'onnxruntime-node'))).toBe(true);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const out = JSON.parse(stdout) as { model: { version: string }; scores: number[] };
    expect(out.model.version).toBe('1.0.0');
    expect(out.scores).toHaveLength(cases.length);
    const worst = Math.max(...out.scores.map((s, i) => Math.abs(s - (cases[i]?.score ?? Number.NaN))));
    expect(worst).toBeLessThanOrEqual(card.replay.tolerance);
  }, 60_000);

  it('bundles the neural card and initializes with the neural client wired as the template sets it', async () => {
    // prepare: the function's own NEURAL_* variables; /var/task is the asset directory here, and
    // the ALB is a closed local port (init must survive a neural service that is not there yet)
    const functionDir = assetDir('ScoreFunction');
    const fn = Object.entries(service.Resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('ScoreFunction'),
    )?.[1];
    if (!fn?.Properties) throw new Error('no score function in the service template');
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const neuralVars = Object.fromEntries(
      Object.entries(vars)
        .filter(([k, v]) => k.startsWith('NEURAL_') && typeof v === 'string')
        .map(([k, v]) => [k, (v as string).replace('/var/task', functionDir)]),
    );
    const layerModules = join(
      assetDir('ScoreOnnxRuntime', 'AWS::Lambda::LayerVersion'),
      'nodejs',
      'node_modules',
    );
    const firstCase = JSON.parse(
      readFileSync(join(MODEL_DIR, 'replay.jsonl'), 'utf8').split('\n')[0] as string,
    ) as {
      features: number[];
    };
    // act
    const {
      status: code,
      stdout,
      stderr,
    } = await runBundledReplay(functionDir, layerModules, [{ features: firstCase.features }], {
      ...neuralVars,
      NEURAL_URL: 'http://127.0.0.1:9',
    });
    // assert
    expect(Object.keys(neuralVars).sort()).toEqual(
      expect.arrayContaining(['NEURAL_MODE', 'NEURAL_MODEL_DIR', 'NEURAL_MODEL_VERSION']),
    );
    expect(readFileSync(join(functionDir, NEURAL_MODEL_DIR_IN_BUNDLE, 'model.json'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'models', 'fraud-seq', '1.0.0', 'model.json'), 'utf8'),
    );
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const out = JSON.parse(stdout) as { model: { version: string }; scores: number[] };
    expect(out.model.version).toBe('1.0.0');
    expect(out.scores).toHaveLength(1);
  }, 60_000);
});
