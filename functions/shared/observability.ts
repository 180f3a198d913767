/**
 * A function's logger and metrics, named and dimensioned the same way in every function: the
 * service name of the metrics contract, the stage as a persistent log key and a default metric
 * dimension, the contract's namespace. Built once per environment by each `index.ts`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type MetricServiceName } from './metrics-contract';

export interface ServiceObservability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function serviceObservability(service: MetricServiceName, stage: string): ServiceObservability {
  return {
    logger: new Logger({ serviceName: service, persistentKeys: { stage } }),
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: service,
      defaultDimensions: { stage },
    }),
  };
}
