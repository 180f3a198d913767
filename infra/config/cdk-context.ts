/**
 * CDK feature flags this app depends on. They are passed to `new App({ context })` by
 * `infra/bin/app.ts` and by the infra tests, so both synthesize the same template
 * (cdk.json or `-c` still take precedence over these).
 */
export const CDK_FEATURE_FLAGS: Readonly<Record<string, unknown>> = Object.freeze({
  // A new onnxruntime layer must publish a new function version (and so go through the canary).
  '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
  // Removing every alarm from the deployment group must really remove them.
  '@aws-cdk/aws-codedeploy:removeAlarmsFromDeploymentGroup': true,
  '@aws-cdk/aws-apigateway:requestValidatorUniqueId': true,
  '@aws-cdk/aws-apigateway:usagePlanKeyOrderInsensitiveId': true,
  '@aws-cdk/aws-kms:aliasNameRef': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
  '@aws-cdk/core:target-partitions': ['aws'],
  // Data and service stacks deploy together; the table exports never change.
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
});
