/**
 * Stage configs: both shipped stages validate; mistakes an engineer can make in
 * infra/config/stages.ts fail synth with a message naming the field; account and region
 * resolve without lookups.
 */
import {
  DEFAULT_REGION,
  loadStageConfig,
  OFFLINE_ACCOUNT,
  resolveStageConfig,
  StageConfigError,
  type StageConfigInput,
} from '../../infra/config/stage-config';
import { dev, prod, STAGES } from '../../infra/config/stages';

const edit = (base: StageConfigInput, change: (c: StageConfigInput) => void): StageConfigInput => {
  const copy = structuredClone(base);
  change(copy);
  return copy;
};

describe('stage config', () => {
  it.each(Object.keys(STAGES))('%s is valid', (name) => {
    expect(() => loadStageConfig(STAGES, name)).not.toThrow();
  });

  it('prod is stricter than dev where it matters', () => {
    const d = loadStageConfig(STAGES, 'dev');
    const p = loadStageConfig(STAGES, 'prod');
    expect(p.api.waf).toBe(true);
    expect(p.capacity.minProvisioned).toBeGreaterThan(d.capacity.minProvisioned);
    expect(p.sla.p99Ms).toBeLessThanOrEqual(d.sla.p99Ms);
    expect(p.logRetentionDays).toBeGreaterThanOrEqual(365); // PCI DSS 10.7
    expect(p.deployment.strategy).toMatchObject({ type: 'canary' });
  });

  it('names the stage that is missing or unknown', () => {
    expect(() => loadStageConfig(STAGES, undefined)).toThrow(/no stage given: pass -c stage=<dev\|prod>/);
    expect(() => loadStageConfig(STAGES, 'qa')).toThrow(/unknown stage "qa": expected one of dev, prod/);
  });

  it('resolves account and region: stage pin, then environment, then offline defaults', () => {
    expect(resolveStageConfig(dev, {}).env).toEqual({ account: OFFLINE_ACCOUNT, region: DEFAULT_REGION });
    expect(
      resolveStageConfig(dev, { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'us-east-2' }).env,
    ).toEqual({
      account: '123456789012',
      region: 'us-east-2',
    });
    const pinned = edit(prod, (c) => {
      c.env = { account: '210987654321', region: 'eu-central-1' };
    });
    expect(
      resolveStageConfig(pinned, { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'us-east-2' })
        .env,
    ).toEqual({
      account: '210987654321',
      region: 'eu-central-1',
    });
  });

  it.each([
    [
      'capacity.minProvisioned',
      (c: StageConfigInput) => {
        c.capacity.minProvisioned = 100;
      },
      /must not exceed capacity\.maxProvisioned/,
    ],
    [
      'alarms.page.apiLatencyP99Ms',
      (c: StageConfigInput) => {
        c.alarms.page.apiLatencyP99Ms = { threshold: 100, evaluationPeriods: 1, datapointsToAlarm: 3 };
      },
      /datapointsToAlarm 3 exceeds evaluationPeriods 1/,
    ],
    [
      'logRetentionDays',
      (c: StageConfigInput) => {
        c.logRetentionDays = 100;
      },
      /must be one of/,
    ],
    [
      'scoreFunction.timeoutSeconds',
      (c: StageConfigInput) => {
        c.scoreFunction.timeoutSeconds = 30;
      },
      /29/,
    ],
    [
      'notifications.page.httpsEndpoints.0',
      (c: StageConfigInput) => {
        c.notifications.page.httpsEndpoints = ['http://x.example'];
      },
      /.+/,
    ],
    [
      'capacity.scheduled.0.schedule',
      (c: StageConfigInput) => {
        c.capacity.scheduled = [{ name: 'peak', schedule: 'every morning', minCapacity: 1, maxCapacity: 2 }];
      },
      /cron\(m h dom mon dow y\)/,
    ],
    [
      'stage',
      (c: StageConfigInput) => {
        c.stage = 'Prod_1';
      },
      /lower-case letters and digits/,
    ],
  ])('rejects a bad %s with a message naming it', (path, change, message) => {
    const input = edit(prod, change);
    let error: unknown;
    try {
      resolveStageConfig(input, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StageConfigError);
    const line = (error as Error).message.split('\n').find((l) => l.includes(`- ${path}:`));
    expect(line).toMatch(message);
  });

  it.each([
    [
      'deployment.bakeMinutes',
      (c: StageConfigInput) => {
        // a bake longer than one Lambda invocation can run
        c.deployment.bakeMinutes = 20;
      },
      /13/,
    ],
    [
      'api.methodThrottling.score.rateLimit',
      (c: StageConfigInput) => {
        c.api.methodThrottling.score.rateLimit = c.api.throttling.rateLimit + 1;
      },
      /must not exceed api\.throttling\.rateLimit/,
    ],
    [
      'events.updaterMaxConcurrency',
      (c: StageConfigInput) => {
        // SQS event sources accept 2–1000
        c.events.updaterMaxConcurrency = 1;
      },
      /2/,
    ],
    [
      'deployment.onLowTraffic',
      (c: StageConfigInput) => {
        (c.deployment as Record<string, unknown>).onLowTraffic = 'ignore';
      },
      /fail|pass/,
    ],
  ])('rejects a bad delivery or limit setting %s with a message naming it', (path, change, message) => {
    // prepare
    const input = edit(prod, change);
    // act
    let error: unknown;
    try {
      resolveStageConfig(input, {});
    } catch (e) {
      error = e;
    }
    // assert
    expect(error).toBeInstanceOf(StageConfigError);
    const line = (error as Error).message.split('\n').find((l) => l.includes(`- ${path}:`));
    expect(line).toMatch(message);
  });

  it('rejects settings it does not know (a typo is not silently ignored)', () => {
    const input = edit(dev, (c) => {
      (c.api as Record<string, unknown>).wafEnabled = true;
    });
    expect(() => resolveStageConfig(input, {})).toThrow(/api: Unrecognized key: "wafEnabled"/);
  });

  it('returns a frozen config', () => {
    const config = resolveStageConfig(dev, {});
    expect(Object.isFrozen(config.capacity)).toBe(true);
  });
});
