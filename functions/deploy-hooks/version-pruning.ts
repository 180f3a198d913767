/**
 * Bounded pruning of the score function's published versions. CloudFormation retains every
 * version (so the runbook's `update-alias` rollback has a target); after a good deployment the
 * post-traffic hook deletes the versions beyond the newest N that no alias points to, at most
 * `maxDeletions` per run. Deleting is best effort: a failure is reported, never fatal.
 */
import {
  DeleteFunctionCommand,
  type LambdaClient,
  ListAliasesCommand,
  type ListAliasesCommandOutput,
  ListVersionsByFunctionCommand,
  type ListVersionsByFunctionCommandOutput,
} from '@aws-sdk/client-lambda';

/** What one pruning run did. */
export interface PruneResult {
  /** Published versions found (numeric, `$LATEST` excluded). */
  found: number;
  /** Versions some alias points to (weighted ones included). */
  protected: string[];
  deleted: string[];
  /** Versions that could not be deleted, with the error name. */
  failed: { version: string; error: string }[];
}

/**
 * The versions to delete, oldest first: every numeric version outside the newest `keep`, minus
 * the protected ones (alias targets, the version being deployed), at most `maxDeletions`.
 */
export function versionsToPrune(
  versions: readonly string[],
  protectedVersions: ReadonlySet<string>,
  keep: number,
  maxDeletions: number,
): string[] {
  const numeric = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return numeric
    .slice(keep)
    .filter((v) => !protectedVersions.has(v))
    .reverse()
    .slice(0, maxDeletions);
}

/** Lists, selects and deletes; `alsoKeep` is the version being deployed. */
export async function pruneVersions(
  lambda: LambdaClient,
  options: { functionName: string; keep: number; maxDeletions: number; alsoKeep: string },
): Promise<PruneResult> {
  const versions: string[] = [];
  let marker: string | undefined;
  do {
    const page: ListVersionsByFunctionCommandOutput = await lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: options.functionName, Marker: marker }),
    );
    for (const v of page.Versions ?? []) if (v.Version) versions.push(v.Version);
    marker = page.NextMarker;
  } while (marker);

  const protectedVersions = new Set<string>([options.alsoKeep]);
  marker = undefined;
  do {
    const page: ListAliasesCommandOutput = await lambda.send(
      new ListAliasesCommand({ FunctionName: options.functionName, Marker: marker }),
    );
    for (const alias of page.Aliases ?? []) {
      if (alias.FunctionVersion) protectedVersions.add(alias.FunctionVersion);
      for (const weighted of Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {}))
        protectedVersions.add(weighted);
    }
    marker = page.NextMarker;
  } while (marker);

  const result: PruneResult = {
    found: versions.filter((v) => /^\d+$/.test(v)).length,
    protected: [...protectedVersions].sort((a, b) => Number(a) - Number(b)),
    deleted: [],
    failed: [],
  };
  for (const version of versionsToPrune(versions, protectedVersions, options.keep, options.maxDeletions)) {
    try {
      await lambda.send(
        new DeleteFunctionCommand({ FunctionName: options.functionName, Qualifier: version }),
      );
      result.deleted.push(version);
    } catch (error) {
      result.failed.push({ version, error: (error as Error).name });
    }
  }
  return result;
}
