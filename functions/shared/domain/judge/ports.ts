/**
 * The judge's one port: where the per-version series of a canary window come from. In AWS the
 * CloudWatch adapter (`GetMetricData`) implements it; locally the EMF adapter reads the lines
 * the local stack's workers wrote (`#adapters/emf-judge-source`). Both answer with the judge's
 * own input type, so `judgeCanary` cannot tell them apart.
 */
import type { JudgeInput } from './types';

/** The judged window: metrics with a timestamp in [start, end). */
export interface JudgeWindow {
  readonly start: Date;
  readonly end: Date;
}

/** One side of the comparison, as the score metrics' dimensions name it. */
export interface JudgedVersion {
  /** The Lambda version (`functionVersion` dimension). */
  readonly functionVersion: string;
  /** The model version it serves (`modelVersion` dimension). */
  readonly modelVersion: string;
}

/** Reads what the baseline and the canary published over a window, as the judge's input. */
export interface CanarySeriesSource {
  read(window: JudgeWindow, baseline: JudgedVersion, canary: JudgedVersion): Promise<JudgeInput>;
}
