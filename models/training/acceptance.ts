/**
 * `npm run train:acceptance`: the acceptance of "training on any labelled history", end to
 * end, on a history that is not the simulator's (`foreign-history.ts`):
 *
 * 1. one command trains on its first 70 % of rows (`train.sh --events … --train-fraction 0.7`,
 *    which also fits the raw-column baseline on the same split);
 * 2. the local stack serves the result (`startLocalStack({ modelDir })`, what
 *    `npm start -- --model DIR` runs), its feature store holding the history before the
 *    holdout (bulk-folded with the same domain code as `npm start`'s seeding);
 * 3. the holdout is replayed in time order: every authorization through `POST /v1/score`,
 *    then its events through the events queue → feature-updater path, so each request sees
 *    exactly the history before it;
 * 4. ROC-AUC of the served scores against the labels is compared with the baseline's.
 *
 *   npm run train:acceptance -- [--cards 1500] [--days 30] [--seed 7] [--out DIR] [--max-iter N]
 *
 * Prints the figures and writes DIR/acceptance.json; exits 1 when the served ROC-AUC is
 * below the baseline's.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createDynamoClients } from '#adapters/dynamo-client';
import { bulkWrite, FeatureAccumulator } from '#adapters/feature-bulk-loader';
import { isFraudLabel, type TransactionEvent } from '#domain/types';
import { startLocalStack } from '../../scripts/local/app';
import { readEvents } from './event-source';
import { requestOf } from './export-features';
import { foreignHistoryLines } from './foreign-history';

const ROOT = resolve(__dirname, '../..');

/** ROC-AUC by the rank-sum (Mann–Whitney) formula, ties counted half. */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1] as number] === scores[order[i] as number]) j += 1;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k += 1) {
      if (labels[order[k] as number] === 1) {
        positives += 1;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('ROC-AUC needs both classes');
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Result of {@link runAcceptance}. */
export interface AcceptanceResult {
  readonly history: { path: string; events: number; authorizations: number };
  readonly modelDir: string;
  readonly holdoutFrom: string;
  readonly servedRequests: number;
  readonly servedFraud: number;
  readonly servedRocAuc: number;
  readonly offlineRocAuc: number;
  readonly baselineRocAuc: number;
  readonly passed: boolean;
  readonly seconds: { train: number; load: number; replay: number };
}

export async function runAcceptance(options: {
  cards: number;
  days: number;
  seed: number;
  out: string;
  maxIter?: number;
  log?: (line: string) => void;
}): Promise<AcceptanceResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(options.out, { recursive: true });
  const historyPath = join(options.out, 'history.jsonl.gz');
  const { gzipSync } = await import('node:zlib');
  writeFileSync(
    historyPath,
    gzipSync(foreignHistoryLines({ cards: options.cards, days: options.days, seed: options.seed })),
  );

  // 1. one command trains on the first 70 %.
  let started = Date.now();
  const trainArgs = [
    join(ROOT, 'models/training/train.sh'),
    '--events',
    historyPath,
    '--train-fraction',
    '0.7',
    '--version',
    'acceptance',
    '--created',
    '2026-01-01T00:00:00Z',
    ...(options.maxIter === undefined ? [] : ['--max-iter', String(options.maxIter)]),
  ];
  log(`$ bash ${trainArgs.join(' ')}`);
  const train = spawnSync('bash', trainArgs, {
    cwd: ROOT,
    env: { ...process.env, WORK: join(options.out, 'work'), MODELS_DIR: join(options.out, 'models') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (train.status !== 0) throw new Error(`training failed (exit ${train.status})`);
  const trainSeconds = (Date.now() - started) / 1000;
  const modelDir = join(options.out, 'models', 'fraud-gbdt', 'acceptance');
  const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  const holdoutFrom = Date.parse(card.training.data.testPeriod.firstTransaction);
  const baselineRocAuc = card.training.baseline.rocAuc as number;

  // 2. serve it, with the history before the holdout in the feature store.
  started = Date.now();
  const history = await readEvents(historyPath);
  const fraud = new Set(
    history.events.filter((e) => e.type === 'label' && isFraudLabel(e.label)).map((e) => e.transactionId),
  );
  const before = new FeatureAccumulator();
  let first = 0;
  while (first < history.events.length && (history.times[first] as number) < holdoutFrom) {
    before.add(history.events[first] as TransactionEvent);
    first += 1;
  }
  // Generous budgets: on a shared machine a 60 ms feature read can miss, and a degraded answer
  // (default features) would say nothing about the model.
  const stack = await startLocalStack({
    modelDir,
    maxFutureSkewMs: 3650 * 86_400_000,
    workers: 2,
    featureTimeoutMs: 5000,
    idempotencyTimeoutMs: 5000,
  });
  try {
    const { documents } = createDynamoClients({ endpoint: stack.dynamoEndpoint, requestTimeoutMs: 5000 });
    await bulkWrite(documents, stack.featureTable, before.items(Date.now(), 365 * 86_400));
    documents.destroy();
    const loadSeconds = (Date.now() - started) / 1000;
    log(
      `serving ${modelDir} at ${stack.url}; ${first} events before ${new Date(holdoutFrom).toISOString()} loaded`,
    );

    // 3. replay the holdout in time order, in groups that touch each card and merchant once.
    started = Date.now();
    const scores: number[] = [];
    const labels: number[] = [];
    const rest = history.events.slice(first);
    for (let i = 0; i < rest.length; ) {
      const keys = new Set<string>();
      const group: TransactionEvent[] = [];
      while (i < rest.length) {
        const event = rest[i] as TransactionEvent;
        const card = `c${event.cardId}`;
        const merchant = `m${event.merchantId}`;
        if (keys.has(card) || keys.has(merchant) || group.length >= 32) break;
        keys.add(card);
        keys.add(merchant);
        group.push(event);
        i += 1;
      }
      const answers = await Promise.all(
        group.map(async (event) => {
          if (event.type !== 'authorization') return undefined;
          const response = await fetch(`${stack.url}/v1/score`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(requestOf(event)),
          });
          const body = (await response.json()) as { score: number | null; degraded?: string[] };
          if (response.status !== 200 || body.score === null || (body.degraded ?? []).length > 0) {
            throw new Error(
              `POST /v1/score ${event.transactionId}: ${response.status} ${JSON.stringify(body)}`,
            );
          }
          return { score: body.score, label: fraud.has(event.transactionId) ? 1 : 0 };
        }),
      );
      for (const answer of answers) {
        if (answer === undefined) continue;
        scores.push(answer.score);
        labels.push(answer.label);
      }
      await stack.queue.send(group);
      await stack.drainEvents();
      if (scores.length % 2000 < group.length) log(`replayed ${scores.length} authorizations`);
    }
    const replaySeconds = (Date.now() - started) / 1000;
    const servedRocAuc = rocAuc(scores, labels);
    const result: AcceptanceResult = {
      history: {
        path: historyPath,
        events: history.events.length,
        authorizations: history.source.authorizations,
      },
      modelDir,
      holdoutFrom: new Date(holdoutFrom).toISOString(),
      servedRequests: scores.length,
      servedFraud: labels.reduce((a, b) => a + b, 0),
      servedRocAuc,
      offlineRocAuc: card.metrics.rocAuc,
      baselineRocAuc,
      passed: servedRocAuc >= baselineRocAuc,
      seconds: { train: trainSeconds, load: loadSeconds, replay: replaySeconds },
    };
    writeFileSync(join(options.out, 'acceptance.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await stack.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      cards: { type: 'string', default: '1500' },
      days: { type: 'string', default: '30' },
      seed: { type: 'string', default: '7' },
      out: { type: 'string', default: join(tmpdir(), 'train-acceptance') },
      'max-iter': { type: 'string' },
    },
  });
  const result = await runAcceptance({
    cards: Number(values.cards),
    days: Number(values.days),
    seed: Number(values.seed),
    out: resolve(values.out),
    maxIter: values['max-iter'] === undefined ? undefined : Number(values['max-iter']),
  });
  process.stdout.write(
    [
      `history: ${result.history.events} events (${result.history.authorizations} authorizations), ${result.history.path}`,
      `holdout from ${result.holdoutFrom}: ${result.servedRequests} authorizations served (${result.servedFraud} fraud)`,
      `ROC-AUC served through POST /v1/score: ${result.servedRocAuc.toFixed(4)} (offline holdout ${result.offlineRocAuc.toFixed(4)})`,
      `ROC-AUC plain HistGradientBoostingClassifier on raw columns: ${result.baselineRocAuc.toFixed(4)}`,
      `${result.passed ? 'PASS' : 'FAIL'}: served ${result.passed ? '>=' : '<'} baseline`,
      `seconds: train ${result.seconds.train.toFixed(0)}, load ${result.seconds.load.toFixed(0)}, replay ${result.seconds.replay.toFixed(0)}`,
      '',
    ].join('\n'),
  );
  if (!result.passed) process.exit(1);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`train:acceptance: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
