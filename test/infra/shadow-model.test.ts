import { Match } from 'aws-cdk-lib/assertions';
import { resolveStageConfig } from '../../infra/config/stage-config';
import { dev, prod } from '../../infra/config/stages';
import { ModelArtifactsError } from '../../infra/constructs/model-artifacts';
import { SHADOW_MODEL_DIR_IN_BUNDLE, scoreBundleFiles } from '../../infra/constructs/scoring-function';
import { functionId, resources, stage, synthStage } from './support';

const scoreEnvironment = (name: 'dev' | 'prod') => {
  const { service } = stage(name);
  const fn = resources(service, 'AWS::Lambda::Function')[functionId(service, 'ScoreFunction')];
  if (!fn) throw new Error('no score function');
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
};

describe('stage key shadow (tree model scored in shadow)', () => {
  it('gives the score function SHADOW_MODEL_DIR where the stage names a shadow, and nothing where not', () => {
    // act
    const devEnv = scoreEnvironment('dev');
    const prodEnv = scoreEnvironment('prod');
    // assert
    expect(dev.shadow).toEqual({ model: 'fraud-gbdt', version: '1.0.0' });
    expect(devEnv.SHADOW_MODEL_DIR).toBe(`/var/task/${SHADOW_MODEL_DIR_IN_BUNDLE}`);
    expect(prod.shadow).toBeUndefined();
    expect(prodEnv).not.toHaveProperty('SHADOW_MODEL_DIR');
    expect(prodEnv.MODEL_DIR).toBe('/var/task/model');
  });

  it('keeps the shadow out of the live model: the live MODEL_VERSION and description stay the served model', () => {
    // act
    const { service } = stage('dev');
    // assert
    service.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Scores card authorizations with fraud-gbdt@1\\.0\\.0'),
      Environment: {
        Variables: Match.objectLike({ MODEL_VERSION: '1.0.0', SHADOW_MODEL_DIR: '/var/task/shadow-model' }),
      },
    });
  });

  it('bundles the shadow tree next to the live one', () => {
    // prepare
    const live = { onnxPath: '/m/live.onnx', cardPath: '/m/live.json' };
    const shadow = { onnxPath: '/m/shadow.onnx', cardPath: '/m/shadow.json' };
    // act
    const withShadow = scoreBundleFiles(live, '/p.json', shadow);
    const without = scoreBundleFiles(live, '/p.json');
    // assert
    expect(withShadow.slice(3)).toEqual([
      { from: '/m/shadow.onnx', to: 'shadow-model/model.onnx' },
      { from: '/m/shadow.json', to: 'shadow-model/model.json' },
    ]);
    expect(without.map((f) => f.to)).toEqual(['model/model.onnx', 'model/model.json', 'policy.json']);
  });

  it('fails synth with a message naming the missing shadow version', () => {
    // act
    const attempt = () =>
      synthStage(prod, (c) => ({ ...c, shadow: { model: 'fraud-gbdt', version: '9.9.9' } }));
    // assert
    expect(attempt).toThrow(ModelArtifactsError);
    expect(attempt).toThrow(/fraud-gbdt@9\.9\.9 is missing models\/fraud-gbdt\/9\.9\.9\/model\.onnx/);
  });

  it.each([
    ['an unknown key', { model: 'fraud-gbdt', version: '1.0.0', modelDir: 'x' }],
    ['a path as version', { model: 'fraud-gbdt', version: '../1.0.0' }],
    ['no version', { model: 'fraud-gbdt' }],
  ])('rejects a shadow with %s', (_name, shadow) => {
    // act
    const attempt = () => resolveStageConfig({ ...prod, shadow } as never, {});
    // assert
    expect(attempt).toThrow(/shadow/);
  });
});
