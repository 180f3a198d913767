/**
 * The ECS lifecycle hook of the neural service against the real CPU twin in its own process:
 * the committed model passes its own replay set; a wrong answer, a wrong model version, a
 * failing server and a server that never becomes ready each fail the deployment.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createNeuralReplayHook,
  type EcsHookResult,
  loadNeuralReplayConfig,
  type NeuralReplayConfig,
  parseNeuralReplay,
} from '../../functions/deploy-hooks/neural-replay';
import { startTwinProcess, type TwinProcess } from '../support/neural-twin';

const MODEL_DIR = join(__dirname, '..', '..', 'models', 'fraud-seq', '1.0.0');
const REPLAY = join(MODEL_DIR, 'replay.jsonl');

function recordingLogger() {
  const lines: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  const log = (level: string) => (message: string, data?: Record<string, unknown>) => {
    lines.push({ level, message, data });
  };
  return { lines, logger: { info: log('info'), warn: log('warn'), error: log('error') } };
}

function configFor(url: string, overrides: Partial<NeuralReplayConfig> = {}): NeuralReplayConfig {
  return {
    ...loadNeuralReplayConfig({ NEURAL_TEST_URL: url, NEURAL_MODEL_VERSION: '1', REPLAY_PATH: REPLAY }),
    ...overrides,
  };
}

function hookWith(config: NeuralReplayConfig, readReplayFile = (path: string) => readFile(path, 'utf8')) {
  const { lines, logger } = recordingLogger();
  const hook = createNeuralReplayHook({ logger, config, readReplayFile });
  return { hook, lines };
}

describe('neural replay hook, against the twin', () => {
  let twin: TwinProcess;

  beforeAll(async () => {
    twin = await startTwinProcess([], 60_000);
  }, 90_000);
  afterAll(async () => {
    await twin?.stop();
  });

  it('passes the committed model on its own 256 golden cases', async () => {
    // prepare
    const { hook, lines } = hookWith(configFor(twin.url));
    // act
    const result = await hook({ lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT', executionId: 'e-1' });
    // assert
    expect(result).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(lines.at(-1)).toMatchObject({ level: 'info', message: 'neural replay passed' });
    expect(lines.at(-1)?.data).toMatchObject({ cases: 256, version: '1', executionId: 'e-1' });
  }, 60_000);

  it('fails when one expected probability is off by more than the tolerance', async () => {
    // prepare: the first case's golden score moved by 10 × the tolerance
    const text = await readFile(REPLAY, 'utf8');
    const [first, ...rest] = text.split('\n');
    const tampered = JSON.parse(first as string);
    tampered.score += 1e-3;
    const { hook, lines } = hookWith(configFor(twin.url), async () =>
      [JSON.stringify(tampered), ...rest].join('\n'),
    );
    // act
    const result = await hook({});
    // assert
    expect(result).toEqual({ hookStatus: 'FAILED' });
    const failure = lines.find((line) => line.message === 'neural replay failed');
    expect(failure?.data).toMatchObject({ mismatches: 1 });
    expect(((failure?.data?.examples ?? []) as { transactionId: string }[])[0]?.transactionId).toBe(
      tampered.transactionId,
    );
  }, 60_000);

  it('waits (IN_PROGRESS) while the version is not served, then fails after the last attempt', async () => {
    // prepare: the twin serves version 1 only
    const { hook } = hookWith(
      configFor(twin.url, { version: '2', readyAttempts: 2, callBackDelaySeconds: 7 }),
    );
    // act
    const first = await hook({});
    const second = await hook({ hookDetails: first.hookDetails });
    // assert
    expect(first).toEqual({ hookStatus: 'IN_PROGRESS', callBackDelay: 7, hookDetails: { readyAttempt: 1 } });
    expect(second).toEqual({ hookStatus: 'FAILED' });
  });

  it('fails a deployment whose replay set or settings are broken, without calling anything', async () => {
    // prepare
    const broken = hookWith(configFor(twin.url), async () => '{"transactionId": "x"}\n');
    const { lines, logger } = recordingLogger();
    const unconfigured = createNeuralReplayHook({
      logger,
      config: () => loadNeuralReplayConfig({}),
      readReplayFile: async () => '',
    });
    // act
    const results: EcsHookResult[] = [await broken.hook({}), await unconfigured({})];
    // assert
    expect(results).toEqual([{ hookStatus: 'FAILED' }, { hookStatus: 'FAILED' }]);
    expect(broken.lines[0]?.data?.error).toMatch(/replay line 1/);
    expect(lines[0]?.data?.error).toMatch(/NEURAL_TEST_URL is required/);
  });
});

describe('neural replay hook, against a failing server', () => {
  it.each([
    ['status:500', /HTTP 500|status 500|500/],
    ['malformed', /./],
  ])(
    'fails when every inference answers %s',
    async (fault, errorPattern) => {
      // prepare
      const twin = await startTwinProcess(['--fault', fault], 60_000);
      try {
        const { hook, lines } = hookWith(configFor(twin.url, { readyAttempts: 1 }));
        // act
        const result = await hook({});
        // assert
        expect(result).toEqual({ hookStatus: 'FAILED' });
        const failure = lines.find((line) => line.message === 'neural replay failed');
        expect(failure?.data?.mismatches).toBe(256);
        expect(((failure?.data?.examples ?? []) as { error?: string }[])[0]?.error).toMatch(errorPattern);
      } finally {
        await twin.stop();
      }
    },
    90_000,
  );

  it('waits, then fails, when nothing listens at the test URL', async () => {
    // prepare: a port nobody listens on (the twin above is gone)
    const { hook } = hookWith(configFor('http://127.0.0.1:9', { readyAttempts: 3 }));
    // act
    const first = await hook({});
    const last = await hook({ hookDetails: { readyAttempt: 2 } });
    // assert
    expect(first.hookStatus).toBe('IN_PROGRESS');
    expect(last).toEqual({ hookStatus: 'FAILED' });
  });
});

describe('parseNeuralReplay', () => {
  it('reads the committed replay set and names a bad line', async () => {
    // prepare
    const text = await readFile(REPLAY, 'utf8');
    // act
    const cases = parseNeuralReplay(text);
    // assert
    expect(cases).toHaveLength(256);
    expect(() => parseNeuralReplay(`${text}\nnot json\n`)).toThrow(/replay line 258: not JSON/);
    expect(() => parseNeuralReplay('\n\n')).toThrow(/empty/);
  });
});
