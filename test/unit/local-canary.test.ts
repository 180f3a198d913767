/**
 * The local stack's canary pieces: the `--canary` value, routing by weight, the EMF file of a
 * worker, one request at a time per function instance, the routing file, and the
 * `npm run canary:judge` command's exit codes.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import fc from 'fast-check';
import { DEFAULT_MODEL_DIR, DEFAULT_POLICY, ROOT } from '../../scripts/local/app';
import {
  CanarySpecError,
  canaryRouting,
  parseCanarySpec,
  readRouting,
  routingPoint,
  weightedRoute,
  writeRouting,
} from '../../scripts/local/canary';
import { divertEmfLines, oneRequestAtATime, splitEmfLines } from '../../scripts/local/emf-file';

const BASELINE = { modelDir: DEFAULT_MODEL_DIR, policyPath: DEFAULT_POLICY };
const EMF = '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"Requests":1}\n';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-canary-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseCanarySpec', () => {
  it('takes a model directory with the baseline policy, and the percent as a weight', () => {
    // act
    const spec = parseCanarySpec(`${DEFAULT_MODEL_DIR}:10`, BASELINE);

    // assert
    expect(spec).toEqual({ modelDir: DEFAULT_MODEL_DIR, policyPath: DEFAULT_POLICY, weight: 0.1 });
  });

  it('takes a policy directory with the baseline model, a bare version, and --canary-policy over either', () => {
    // prepare
    const policyDir = join(dir, 'policy-only');
    mkdirSync(policyDir, { recursive: true });
    copyFileSync(DEFAULT_POLICY, join(policyDir, 'policy.json'));
    const override = join(dir, 'override.json');
    copyFileSync(DEFAULT_POLICY, override);

    // act
    const policyOnly = parseCanarySpec(`${policyDir}:2.5`, BASELINE);
    const version = parseCanarySpec('1.0.0:50', BASELINE);
    const overridden = parseCanarySpec(`${DEFAULT_MODEL_DIR}:1`, BASELINE, override);

    // assert
    expect(policyOnly).toEqual({
      modelDir: DEFAULT_MODEL_DIR,
      policyPath: join(policyDir, 'policy.json'),
      weight: 0.025,
    });
    expect(version.modelDir).toBe(DEFAULT_MODEL_DIR);
    expect(overridden.policyPath).toBe(override);
  });

  it.each([
    ['no percent', DEFAULT_MODEL_DIR],
    ['an empty percent', `${DEFAULT_MODEL_DIR}:`],
    ['0 %', `${DEFAULT_MODEL_DIR}:0`],
    ['100 %', `${DEFAULT_MODEL_DIR}:100`],
    ['a negative percent', `${DEFAULT_MODEL_DIR}:-5`],
    ['a word', `${DEFAULT_MODEL_DIR}:ten`],
    ['an unknown version', '9.9.9:10'],
    ['a missing directory', '/no/such/dir:10'],
    ['a directory with neither model nor policy', `${ROOT}/docs:10`],
    ['no target', ':10'],
  ])('refuses %s', (_, value) => {
    // act
    const parse = () => parseCanarySpec(value, BASELINE);

    // assert
    expect(parse).toThrow(CanarySpecError);
  });

  it('refuses a --canary-policy file that does not exist', () => {
    // act
    const parse = () => parseCanarySpec(`${DEFAULT_MODEL_DIR}:10`, BASELINE, join(dir, 'missing.json'));

    // assert
    expect(parse).toThrow(/--canary-policy/);
  });
});

describe('routing', () => {
  it('sends the weight share of distinct bodies to the canary, the same way every time', () => {
    // prepare
    const bodies = Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify({ transactionId: `tx-${i}`, amount: 100 }),
    );

    // act
    const points = bodies.map(routingPoint);

    // assert
    for (const weight of [0.05, 0.1, 0.5]) {
      const share = points.filter((p) => p < weight).length / points.length;
      // ± 4 standard deviations of a binomial share at n = 20,000.
      expect(Math.abs(share - weight)).toBeLessThan(4 * Math.sqrt((weight * (1 - weight)) / bodies.length));
    }
    expect(bodies.map(routingPoint)).toEqual(points);
  });

  it('puts every body in [0, 1)', () => {
    fc.assert(
      fc.property(fc.string(), (body) => {
        // act
        const point = routingPoint(body);

        // assert
        expect(point).toBeGreaterThanOrEqual(0);
        expect(point).toBeLessThan(1);
      }),
    );
  });

  it('calls the handler the body routes to, and refuses a weight outside (0, 1)', async () => {
    // prepare
    const body = JSON.stringify({ transactionId: 'tx-1' });
    const answer = (version: string) => async () => ({ statusCode: 200, body: version });
    const route = weightedRoute(answer('baseline'), answer('canary'), 0.5);
    const event = { body } as APIGatewayProxyEvent;

    // act
    const result = await route(event, {} as Context);

    // assert
    expect(result.body).toBe(routingPoint(body) < 0.5 ? 'canary' : 'baseline');
    expect(() => weightedRoute(answer('a'), answer('b'), 0)).toThrow(RangeError);
    expect(() => weightedRoute(answer('a'), answer('b'), 1)).toThrow(RangeError);
  });

  it('writes and reads the routing file, and refuses a broken one', () => {
    // prepare
    const metricsDir = join(dir, 'routing');
    const routing = canaryRouting(
      'local',
      BASELINE,
      { ...BASELINE, weight: 0.1 },
      new Date(Date.UTC(2026, 11, 1)),
    );

    // act
    writeRouting(metricsDir, routing);
    const read = readRouting(metricsDir);
    writeFileSync(join(metricsDir, 'routing.json'), JSON.stringify({ ...routing, canary: {} }));

    // assert
    expect(read).toEqual(routing);
    expect(read.baseline).toMatchObject({ functionVersion: '1', modelVersion: '1.0.0' });
    expect(read.canary.functionVersion).toBe('2');
    expect(() => readRouting(metricsDir)).toThrow(/functionVersion/);
    expect(() => readRouting(join(dir, 'none'))).toThrow(/not found/);
  });
});

describe('EMF lines of a worker', () => {
  it('splits whole lines into EMF documents and the rest', () => {
    // prepare
    const log = '{"level":"WARN","message":"degraded"}\n';

    // act
    const mixed = splitEmfLines(`${log}${EMF}${EMF}tail without newline`);
    const plain = splitEmfLines(log);

    // assert
    expect(mixed).toEqual({ metrics: `${EMF}${EMF}`, other: `${log}tail without newline` });
    expect(plain).toEqual({ metrics: '', other: log });
  });

  it('loses and invents no line', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constant(EMF.trimEnd()),
            fc.string().map((s) => s.replace(/\n/g, '')),
          ),
          { maxLength: 30 },
        ),
        (lines) => {
          // prepare
          const text = lines.map((line) => `${line}\n`).join('');

          // act
          const { metrics, other } = splitEmfLines(text);

          // assert
          const emf = lines.filter((line) => line.startsWith('{"_aws":'));
          expect(metrics).toBe(emf.map((line) => `${line}\n`).join(''));
          expect(other).toBe(
            lines
              .filter((line) => !line.startsWith('{"_aws":'))
              .map((line) => `${line}\n`)
              .join(''),
          );
        },
      ),
    );
  });

  it('diverts a stream’s EMF lines into the file until closed', async () => {
    // prepare
    const seen: string[] = [];
    const stream = {
      write: (chunk: string | Uint8Array) => seen.push(String(chunk)) > 0,
    } as unknown as NodeJS.WriteStream;
    const file = join(dir, 'metrics', 'worker.jsonl');

    // act
    const diverted = divertEmfLines(stream, file);
    stream.write(`${EMF}log line\n`);
    stream.write(Buffer.from(EMF));
    await diverted.close();
    stream.write(EMF);

    // assert
    expect(readFileSync(file, 'utf8')).toBe(`${EMF}${EMF}`);
    expect(seen).toEqual(['log line\n', EMF]);
  });
});

describe('oneRequestAtATime', () => {
  it('runs one call at a time in arrival order, and a failed call does not block the next', async () => {
    // prepare
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const handler = oneRequestAtATime(async (n: number) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5 - n));
      running -= 1;
      order.push(n);
      if (n === 2) throw new Error('boom');
      return n * 10;
    });

    // act
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((n) => handler(n)));

    // assert
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
      0,
      10,
      'rejected',
      30,
      40,
    ]);
  });
});

describe('npm run canary:judge', () => {
  const run = promisify(execFile);
  const judge = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'canary', 'judge.ts'), ...args], {
      cwd: ROOT,
    }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('exits 2 (inconclusive) on a window without traffic, 3 without a routing file, and prints the verdict table', async () => {
    // prepare
    const metricsDir = join(dir, 'judge-cli');
    writeRouting(metricsDir, canaryRouting('local', BASELINE, { ...BASELINE, weight: 0.1 }));

    // act
    const empty = await judge(['--metrics', metricsDir]);
    const missing = await judge(['--metrics', join(dir, 'nothing')]);
    const badWindow = await judge(['--metrics', metricsDir, '--minutes', '-1']);

    // assert
    expect(empty.code).toBe(2);
    expect(empty.stdout).toMatch(
      /verdict INCONCLUSIVE: canary 2 \(model unknown\) vs baseline 1 \(model unknown\)/,
    );
    expect(empty.stdout).toMatch(/decline-rate\[all\]\s+inconclusive/);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/routing\.json not found/);
    expect(badWindow.code).toBe(3);
  }, 60_000);
});
