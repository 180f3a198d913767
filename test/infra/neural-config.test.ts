/**
 * The `neural` block of the stage config: the schema refuses settings that would synthesize a
 * service that cannot work (tasks below one per AZ, a budget past the SLA, a movable image tag).
 */
import { resolveStageConfig, StageConfigError, type StageConfigInput } from '../../infra/config/stage-config';
import { prod } from '../../infra/config/stages';

type Neural = Extract<StageConfigInput['neural'], { enabled: true }>;
const base = prod.neural as Neural;
const withNeural = (edit: (n: Neural) => Partial<Neural>): StageConfigInput => ({
  ...structuredClone(prod),
  neural: { ...structuredClone(base), ...edit(base) },
});

describe('neural stage config', () => {
  it('accepts prod as written and dev with only enabled: false', () => {
    // act / assert
    expect(resolveStageConfig(prod).neural.enabled).toBe(true);
    expect(resolveStageConfig({ ...structuredClone(prod), neural: { enabled: false } }).neural).toEqual({
      enabled: false,
    });
  });

  it.each([
    ['fewer tasks than AZs', () => ({ tasks: { min: 1, max: 4 } }), /neural\.tasks\.min.*Availability Zone/],
    ['min above max', () => ({ tasks: { min: 5, max: 4 } }), /neural\.tasks\.min.*max/],
    ['a budget at the SLA', () => ({ budgetMs: 100 }), /neural\.budgetMs/],
    [
      'a tag instead of a digest',
      (n: Neural) => ({ tritonImage: { ...n.tritonImage, digest: '24.12-py3' } }),
      /neural\.tritonImage\.digest/,
    ],
    ['a multi-GPU instance', () => ({ instanceType: 'g5.12xlarge' }), /neural\.instanceType/],
    ['one AZ', () => ({ availabilityZones: ['a'] }), /neural\.availabilityZones/],
    ['an unknown mode', () => ({ mode: 'on' as never }), /neural\.mode/],
    [
      'a scheduled floor above the ceiling',
      (n: Neural) => ({
        scheduled: [{ ...(n.scheduled[0] as Neural['scheduled'][number]), maxCapacity: 9 }],
      }),
      /neural\.scheduled\.0/,
    ],
    [
      'a canary share above 100 %',
      (n: Neural) => ({ canary: { ...n.canary, percent: 120 } }),
      /neural\.canary\.percent/,
    ],
  ])('refuses %s', (_name, edit, message) => {
    // prepare
    const input = withNeural(edit as (n: Neural) => Partial<Neural>);
    // act / assert
    expect(() => resolveStageConfig(input)).toThrow(StageConfigError);
    expect(() => resolveStageConfig(input)).toThrow(message);
  });

  it('refuses settings of the service when it is off (no half-configured stages)', () => {
    // prepare
    const input = { ...structuredClone(prod), neural: { enabled: false, mode: 'live' } } as never;
    // act / assert
    expect(() => resolveStageConfig(input)).toThrow(/neural/);
  });
});
