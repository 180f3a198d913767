import { type Env, readNumber, readString } from '#shared/config';

/** Settings of the feature updater, read once at init. */
export interface UpdaterConfig {
  readonly stage: string;
  readonly featureTableName: string;
  /** How long feature items live without updates (the table's TTL). */
  readonly featureTtlSeconds: number;
  /** Local DynamoDB endpoint; unset in AWS. */
  readonly dynamoEndpoint?: string;
}

export function loadUpdaterConfig(env: Env = process.env): UpdaterConfig {
  return Object.freeze({
    stage: readString(env, 'STAGE', 'dev'),
    featureTableName: readString(env, 'FEATURE_TABLE_NAME'),
    featureTtlSeconds: readNumber(env, 'FEATURE_TTL_SECONDS', 180 * 86_400, { min: 3600 }),
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
  });
}
