/**
 * The canary judge's wiring: the model card, the alias reader, the CloudWatch series source and
 * observability, built once per environment.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchJudgeSource } from '#adapters/cloudwatch-judge-source';
import { LambdaAliasRouting } from '#adapters/lambda-alias-routing';
import { parseModelCard } from '#domain/model-card';
import { METRICS_NAMESPACE, MetricService } from '#shared/metrics-contract';
import type { CanaryJudgeConfig } from './config';
import { createCanaryJudgeHandler } from './handler';

export function createCanaryJudge(config: CanaryJudgeConfig) {
  const card = parseModelCard(JSON.parse(readFileSync(config.modelCardPath, 'utf8')));
  const logger = new Logger({
    serviceName: MetricService.CanaryJudge,
    persistentKeys: { stage: config.stage },
  });
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: MetricService.CanaryJudge,
    defaultDimensions: { stage: config.stage },
  });
  return createCanaryJudgeHandler({
    alias: new LambdaAliasRouting(
      new LambdaClient({ region: config.region }),
      config.scoreFunctionName,
      config.scoreAliasName,
    ),
    source: new CloudWatchJudgeSource(new CloudWatchClient({ region: config.region }), {
      stage: config.stage,
      card,
    }),
    judge: config.judge,
    lagMinutes: config.lagMinutes,
    metrics,
    logger,
  });
}
