/**
 * The bench's cold-start figure: the score function's Lambda entry bundled as the CDK bundles
 * it, started in fresh Node processes against the bench's dynalite.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR, DEFAULT_POLICY, ROOT } from '../local/app';
import { BENCH_ANSWER_TABLE, BENCH_FEATURE_TABLE } from '../support/bench-card';

/** Bundles the Lambda entry like the CDK does and times a cold start in a fresh process. */
export function coldInit(endpoint: string): Record<string, number> {
  // A temp dir outside the repo: onnxruntime-node is found only through NODE_PATH, as from the
  // layer in Lambda, so the probe fails if the bundle resolved it any other way.
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  const bundle = join(dir, 'index.mjs');
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'esbuild'),
    [
      join(ROOT, 'functions', 'score', 'lambda.ts'),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node20',
      `--outfile=${bundle}`,
      '--external:onnxruntime-node',
      '--main-fields=module,main',
      "--banner:js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      '--log-level=error',
    ],
    { cwd: ROOT },
  );
  const probe = `
    const t0 = performance.now();
    const mod = await import(${JSON.stringify(bundle)});
    const t1 = performance.now();
    const body = JSON.stringify({ transactionId: 'cold-' + Date.now(), cardId: 'card_bench', merchantId: 'm_bench', mcc: '5411', amount: 2500, currency: 'EUR', country: 'DE', channel: 'ecommerce', timestamp: new Date().toISOString() });
    const res = await mod.handler({ body, isBase64Encoded: false }, { functionName: 'score', awsRequestId: 'x', getRemainingTimeInMillis: () => 3000 });
    const t2 = performance.now();
    if (res.statusCode !== 200) throw new Error('cold score failed: ' + res.body);
    console.log(JSON.stringify({ initMs: t1 - t0, firstScoreMs: t2 - t1, totalMs: t2 - t0 }));
  `;
  const probeFile = join(dir, 'probe.mjs');
  writeFileSync(probeFile, probe);
  const runs: Record<string, number>[] = [];
  for (let i = 0; i < 3; i += 1) {
    const out = execFileSync(process.execPath, [probeFile], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_PATH: join(ROOT, 'node_modules'),
        FEATURE_TABLE_NAME: BENCH_FEATURE_TABLE,
        IDEMPOTENCY_TABLE_NAME: BENCH_ANSWER_TABLE,
        MODEL_DIR: DEFAULT_MODEL_DIR,
        POLICY_PATH: DEFAULT_POLICY,
        DYNAMODB_ENDPOINT: endpoint,
        POWERTOOLS_TRACE_ENABLED: 'false',
        AWS_LAMBDA_FUNCTION_NAME: 'score',
      },
    });
    runs.push(JSON.parse(out.toString().trim().split('\n').pop() as string));
  }
  // The median of three fresh processes: the first also warms the OS file cache.
  const median = (key: string) => runs.map((r) => r[key] as number).sort((a, b) => a - b)[1] as number;
  return { initMs: median('initMs'), firstScoreMs: median('firstScoreMs'), totalMs: median('totalMs') };
}
