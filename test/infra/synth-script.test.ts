/**
 * `npm run synth` (infra/synth.sh) stays offline and passes only options `cdk synth` knows:
 * `--all` is a deploy/destroy option and makes synth warn "Unknown option".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('infra/synth.sh', () => {
  it('calls cdk synth without --all, offline and quiet', () => {
    // prepare
    const script = readFileSync(join(__dirname, '..', '..', 'infra', 'synth.sh'), 'utf8');
    // act
    const synthLine = script.split('\n').find((line) => line.includes('cdk synth')) ?? '';
    // assert
    expect(synthLine).not.toMatch(/--all\b/);
    for (const option of ['--no-notices', '--no-version-reporting', '--quiet'])
      expect(synthLine).toContain(option);
    expect(script).toContain('CDK_DISABLE_CLI_TELEMETRY=true');
  });
});
