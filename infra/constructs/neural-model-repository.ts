/**
 * Copies a Triton model repository (`models/<name>/<version>/triton/`) into the model bucket,
 * file by file: each file is a CDK asset, copied to `<prefix>/<relative path>` by a custom
 * resource. A new model version is a new prefix, so the previous task definition still finds its
 * model when a canary rolls back.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';

/**
 * Uploads every file of the Triton repository as an asset and copies it to
 * `<prefix>/<relative path>` in the model bucket (CopyObject: exact object ARNs, no wildcard).
 */
export function uploadModelRepository(
  scope: Construct,
  bucket: s3.IBucket,
  dir: string,
  prefix: string,
): cr.AwsCustomResource[] {
  const files = listFiles(dir);
  if (files.length === 0) throw new Error(`no Triton model repository in ${dir}`);
  return files.map((file, i) => {
    const key = `${prefix}/${relative(dir, file).split(sep).join('/')}`;
    const asset = new s3assets.Asset(scope, `ModelFile${i}`, { path: file });
    const copy = {
      service: 'S3',
      action: 'copyObject',
      parameters: {
        Bucket: bucket.bucketName,
        Key: key,
        CopySource: `${asset.s3BucketName}/${asset.s3ObjectKey}`,
      },
      physicalResourceId: cr.PhysicalResourceId.of(key),
    };
    return new cr.AwsCustomResource(scope, `CopyModelFile${i}`, {
      onCreate: copy,
      onUpdate: copy,
      installLatestAwsSdk: false,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [`arn:${Stack.of(scope).partition}:s3:::${asset.s3BucketName}/${asset.s3ObjectKey}`],
        }),
        new iam.PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [bucket.arnForObjects(key)],
        }),
      ]),
    });
  });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? listFiles(path) : [path];
    });
}
