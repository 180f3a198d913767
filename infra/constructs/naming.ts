/**
 * Names that people read: alarms follow `<stage>-<resource>-<signal>-<severity>`, and every
 * alarm description links the runbook section named `<resource>-<signal>`.
 */
import type { Severity } from '../config/stage-config';

/** Where the runbook lives, relative to the repository root. */
export const RUNBOOK_PATH = 'docs/runbook.md';

/**
 * `<stage>-<resource>-<signal>-<severity>`, e.g. `prod-api-5xx-rate-page`. With a function
 * `version` (possibly a CDK token), the resource carries it: `prod-score-v42-canary-errors-page`.
 */
export function alarmName(
  stage: string,
  resource: string,
  signal: string,
  severity: Severity,
  version?: string,
): string {
  for (const [what, part] of Object.entries({ resource, signal })) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(part))
      throw new Error(`alarm ${what} "${part}" must be lower-case words joined by dashes`);
  }
  const qualified = version === undefined ? resource : `${resource}-v${version}`;
  return `${stage}-${qualified}-${signal}-${severity}`;
}

/** The runbook anchor of an alarm: `<resource>-<signal>` (a `### <resource>-<signal>` heading). */
export function runbookAnchor(resource: string, signal: string): string {
  return `${resource}-${signal}`;
}

/** Alarm description: what breached, then the runbook section to open. */
export function alarmDescription(summary: string, resource: string, signal: string): string {
  return `${summary} Runbook: ${RUNBOOK_PATH}#${runbookAnchor(resource, signal)}`;
}
