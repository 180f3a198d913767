import { SDK_NODE_WARNING_SWITCH, sdkNodeWarningOnce } from '../../scripts/local/processes';

describe('the AWS SDK Node version warning, once per local stack', () => {
  it('on Node 20 returns one line and switches the per-process warning off for the children', () => {
    const env: NodeJS.ProcessEnv = {};
    const line = sdkNodeWarningOnce(env, 'v20.20.2');
    expect(line).toContain('Node v20.20.2');
    expect(line).toContain('>= 22');
    expect(line?.trim().split('\n')).toHaveLength(1);
    expect(env[SDK_NODE_WARNING_SWITCH]).toBe('true');
  });

  it('on Node 22 and later says nothing and leaves the environment alone', () => {
    for (const version of ['v22.0.0', 'v24.3.1']) {
      const env: NodeJS.ProcessEnv = {};
      expect(sdkNodeWarningOnce(env, version)).toBeUndefined();
      expect(env).toEqual({});
    }
  });

  it('keeps a switch the user set, whatever its value', () => {
    for (const value of ['true', 'false', '']) {
      const env: NodeJS.ProcessEnv = { [SDK_NODE_WARNING_SWITCH]: value };
      expect(sdkNodeWarningOnce(env, 'v20.20.2')).toBeUndefined();
      expect(env[SDK_NODE_WARNING_SWITCH]).toBe(value);
    }
  });
});
