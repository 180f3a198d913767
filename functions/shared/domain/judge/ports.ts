/**
 * The ports of the canary judge. The judge itself is pure (`judgeCanary`); what it reads comes
 * through {@link CanarySeriesSource} (CloudWatch in AWS, the local stack's EMF files locally)
 * and which versions to compare through {@link AliasRoutingReader}.
 */
import type { JudgeInput } from './types';

/** The judged stretch of time: whole minutes, `start` inclusive, `end` exclusive. */
export interface JudgeWindow {
  readonly start: Date;
  readonly end: Date;
}

/**
 * Where the per-version observations come from. `baseline` and `canary` are score function
 * versions (the `functionVersion` metric dimension); the source finds the model version each
 * one served and fills {@link JudgeInput} for the window, with zero counts where a series has
 * no data.
 */
export interface CanarySeriesSource {
  read(window: JudgeWindow, baseline: string, canary: string): Promise<JudgeInput>;
}

/** How the score alias routes traffic right now. */
export interface AliasRouting {
  /** The version the alias points to (`FunctionVersion`): the baseline during a canary. */
  readonly baseline: string;
  /** The weighted extra version, while a deployment shifts traffic to it. */
  readonly canary?: { readonly version: string; readonly weight: number };
}

/** Reads the score alias's routing (`lambda:GetAlias` in AWS). */
export interface AliasRoutingReader {
  routing(): Promise<AliasRouting>;
}
