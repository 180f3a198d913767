/**
 * A function's logger and metrics, named and dimensioned the same way in every function: the
 * service name of the metrics contract, the stage as a persistent log key and a default metric
 * dimension, the contract's namespace. Built once per environment by each `index.ts`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { emfDisabledByEnv } from './emf-lines';
import { METRICS_NAMESPACE, type MetricServiceName } from './metrics-contract';

const ignore = () => undefined;

/**
 * What Powertools Metrics logs through while metrics are off. Its flush warns "No application
 * metrics to publish" whenever nothing was recorded, disabled or not; with metrics off that is
 * every flush that follows another request's in the same process (the local stack serves
 * several requests per process at once, and one flush takes all of them): ~2,700 lines in one
 * `npm run simulate` run, none worth acting on. Its errors still print.
 */
const QUIET_WHEN_DISABLED = { debug: ignore, info: ignore, warn: ignore, error: console.error };

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
      ...(emfDisabledByEnv() ? { logger: QUIET_WHEN_DISABLED } : {}),
    }),
  };
}
