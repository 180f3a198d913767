import { ConfigError } from '#domain/errors';
import { loadNeuralConfig } from '#shared/neural-config';

describe('loadNeuralConfig', () => {
  it('is off by default and needs nothing else', () => {
    // act
    const config = loadNeuralConfig({});
    // assert
    expect(config).toEqual({ mode: 'off' });
  });

  it('reads the client settings with their defaults (15 ms budget)', () => {
    // act
    const config = loadNeuralConfig({
      NEURAL_MODE: 'shadow',
      NEURAL_URL: 'http://127.0.0.1:8000',
      NEURAL_MODEL_DIR: 'models/fraud-seq/1.0.0',
    });
    // assert
    expect(config).toEqual({
      mode: 'shadow',
      modelDir: 'models/fraud-seq/1.0.0',
      client: {
        baseUrl: 'http://127.0.0.1:8000',
        model: 'fraud-seq',
        version: undefined,
        budgetMs: 15,
        breakerFailures: 5,
        halfOpenAfterMs: 5_000,
        maxSockets: 32,
        tensorEncoding: 'binary',
      },
    });
  });

  it('reads the JSON tensor encoding, for a server without the binary extension', () => {
    // act
    const config = loadNeuralConfig({
      NEURAL_MODE: 'live',
      NEURAL_URL: 'http://127.0.0.1:8000',
      NEURAL_MODEL_DIR: 'models/fraud-seq/1.0.0',
      NEURAL_TENSOR_ENCODING: 'json',
    });
    // assert
    expect(config.client?.tensorEncoding).toBe('json');
  });

  const bad: [string, Record<string, string>][] = [
    ['an unknown mode', { NEURAL_MODE: 'on' }],
    ['live without a URL', { NEURAL_MODE: 'live' }],
    ['live without the card directory', { NEURAL_MODE: 'live', NEURAL_URL: 'http://x' }],
    [
      'an https URL (the client speaks http to the internal ALB)',
      { NEURAL_MODE: 'live', NEURAL_URL: 'https://x' },
    ],
    [
      'a budget of zero',
      { NEURAL_MODE: 'live', NEURAL_URL: 'http://x', NEURAL_MODEL_DIR: 'd', NEURAL_BUDGET_MS: '0' },
    ],
    [
      'a non-numeric breaker setting',
      { NEURAL_MODE: 'live', NEURAL_URL: 'http://x', NEURAL_MODEL_DIR: 'd', NEURAL_BREAKER_FAILURES: 'many' },
    ],
    [
      'an unknown tensor encoding',
      {
        NEURAL_MODE: 'live',
        NEURAL_URL: 'http://x',
        NEURAL_MODEL_DIR: 'd',
        NEURAL_TENSOR_ENCODING: 'protobuf',
      },
    ],
  ];
  it.each(bad)('fails fast on %s, naming the variable', (_, env) => {
    // act
    const act = () => loadNeuralConfig(env);
    // assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/NEURAL_/);
  });
});
