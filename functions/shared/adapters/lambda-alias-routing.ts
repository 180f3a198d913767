/**
 * The score alias's routing from `lambda:GetAlias`: `FunctionVersion` is the version the alias
 * points to (the baseline while CodeDeploy shifts traffic) and `RoutingConfig.
 * AdditionalVersionWeights` holds the version being deployed with its share of traffic.
 */
import { GetAliasCommand, type GetAliasCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { AliasRoutingError } from '#domain/errors';
import type { AliasRouting, AliasRoutingReader } from '#domain/judge/ports';

export class LambdaAliasRouting implements AliasRoutingReader {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
    private readonly aliasName: string,
  ) {}

  async routing(): Promise<AliasRouting> {
    let alias: GetAliasCommandOutput;
    try {
      alias = await this.client.send(
        new GetAliasCommand({ FunctionName: this.functionName, Name: this.aliasName }),
      );
    } catch (error) {
      const err = error as Error;
      throw new AliasRoutingError(
        `GetAlias ${this.functionName}:${this.aliasName} failed: ${err.name}: ${err.message}`,
        {
          cause: error,
        },
      );
    }
    return aliasRouting(alias, `${this.functionName}:${this.aliasName}`);
  }
}

/**
 * The routing of a GetAlias answer. A weight of 0 is no canary (nothing is routed to it).
 *
 * @throws AliasRoutingError without a numeric `FunctionVersion` or with more than one weighted
 *   version (Lambda allows one; two would leave the judge guessing which one is deployed)
 */
export function aliasRouting(
  alias: Pick<GetAliasCommandOutput, 'FunctionVersion' | 'RoutingConfig'>,
  name: string,
): AliasRouting {
  const baseline = alias.FunctionVersion;
  if (!baseline || !/^\d+$/.test(baseline))
    throw new AliasRoutingError(`alias ${name} points to "${baseline ?? ''}", not a published version`);
  const weights = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).filter(
    ([, w]) => w > 0,
  );
  if (weights.length === 0) return { baseline };
  if (weights.length > 1)
    throw new AliasRoutingError(
      `alias ${name} routes to ${weights.length} extra versions; expected at most one`,
    );
  const [version, weight] = weights[0] as [string, number];
  if (!/^\d+$/.test(version) || !(weight > 0 && weight <= 1))
    throw new AliasRoutingError(`alias ${name} routes weight ${weight} to "${version}"`);
  return { baseline, canary: { version, weight } };
}
