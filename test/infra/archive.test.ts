/**
 * The event and answer archive as synthesized for prod (the stage with the strictest settings):
 * one Firehose stream per record kind with date partitioning, the KMS-encrypted, TLS-only,
 * private bucket with the stage's lifecycle, Glue tables Athena can query with partition
 * projection, each function allowed onto its own stream only, and the ticket alarms.
 */
import { resolveStageConfig } from '../../infra/config/stage-config';
import { prod } from '../../infra/config/stages';
import { PARTITION_QUERY } from '../../infra/constructs/archive';
import { alarmsByName, asList, functionId, functionStatements, resources, stage } from './support';

const { data, service } = stage('prod');
/** The archive's own key, not another one of the stack. */
const ARCHIVE_KEY_ARN = { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveKey/), 'Arn'] };

/** Logical id of the stream of a kind in the data stack. */
function streamId(kind: 'score' | 'event'): string {
  const id = Object.keys(resources(data, 'AWS::KinesisFirehose::DeliveryStream')).find((k) =>
    k.startsWith(`Archive${kind}stream`),
  );
  if (!id) throw new Error(`no ${kind} stream`);
  return id;
}

describe('archive streams', () => {
  it.each([
    ['score', 'score/dt=!{partitionKeyFromQuery:dt}/', '{dt: .eventTime[0:10]}'],
    [
      'event',
      'event/type=!{partitionKeyFromQuery:type}/dt=!{partitionKeyFromQuery:dt}/',
      '{type: .event.type, dt: .event.timestamp[0:10]}',
    ],
  ] as const)('%s: direct put, gzip, partitioned under %s', (kind, prefix, query) => {
    // prepare
    const stream = resources(data, 'AWS::KinesisFirehose::DeliveryStream')[streamId(kind)];
    // act
    const destination = stream?.Properties.ExtendedS3DestinationConfiguration as Record<string, unknown>;
    // assert
    expect(stream?.Properties).toMatchObject({
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
    });
    expect(destination).toMatchObject({
      Prefix: prefix,
      ErrorOutputPrefix: expect.stringMatching(new RegExp(`^errors/${kind}/`)),
      CompressionFormat: 'GZIP',
      FileExtension: '.jsonl.gz',
      BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 128 },
      DynamicPartitioningConfiguration: { Enabled: true },
      EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: ARCHIVE_KEY_ARN } },
    });
    const processors = (destination.ProcessingConfiguration as { Processors: { Parameters: unknown[] }[] })
      .Processors;
    expect(processors[0]?.Parameters).toContainEqual({
      ParameterName: 'MetadataExtractionQuery',
      ParameterValue: query,
    });
    expect(PARTITION_QUERY[kind]).toBe(query);
  });
});

describe('archive bucket', () => {
  const buckets = resources(data, 'AWS::S3::Bucket');
  const [archiveId, archive] = Object.entries(buckets).find(([id]) => id.startsWith('ArchiveBucket')) ?? [];

  it('is KMS-encrypted with the archive key, private, versioned and retained', () => {
    // assert
    expect(archive?.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARCHIVE_KEY_ARN },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { LogFilePrefix: 'archive/' },
    });
    expect(archive?.DeletionPolicy).toBe('Retain');
  });

  it('moves objects to Standard-IA, then Glacier IR, and deletes them after the stage’s retention', () => {
    // act
    const rules =
      (archive?.Properties.LifecycleConfiguration as { Rules?: Record<string, unknown>[] } | undefined)
        ?.Rules ?? [];
    // assert
    expect(rules[0]).toMatchObject({
      Status: 'Enabled',
      ExpirationInDays: 730,
      Transitions: [
        { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
        { StorageClass: 'GLACIER_IR', TransitionInDays: 180 },
      ],
    });
  });

  it('refuses every request without TLS', () => {
    // act
    const policies = Object.values(resources(data, 'AWS::S3::BucketPolicy')).filter(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: archiveId }),
    );
    // assert
    expect(policies).toHaveLength(1);
    expect(
      (policies[0]?.Properties.PolicyDocument as { Statement?: unknown[] } | undefined)?.Statement,
    ).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('lets Firehose write objects there and nowhere else', () => {
    // act
    const statements = Object.values(resources(data, 'AWS::IAM::ManagedPolicy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('ArchiveDeliveryRole'))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    const s3 = statements.filter((s) => asList(s.Action as string[]).some((a) => a.startsWith('s3:')));
    // assert
    expect(s3).toHaveLength(1);
    expect(JSON.stringify(s3[0]?.Resource)).toContain(archiveId);
    expect(asList(s3[0]?.Action as string[])).not.toContain('s3:*');
  });
});

describe('Glue tables', () => {
  it.each([
    ['scores', 'transactionid', [{ Name: 'dt', Type: 'string' }], `/score/dt=\${dt}/`, {}],
    [
      'events',
      'event',
      [
        { Name: 'type', Type: 'string' },
        { Name: 'dt', Type: 'string' },
      ],
      `/event/type=\${type}/dt=\${dt}/`,
      { 'projection.type.type': 'enum', 'projection.type.values': 'authorization,label' },
    ],
  ])('%s: JSON lines, partition projection on %j', (name, column, keys, template, typeProjection) => {
    // act
    const table = Object.values(resources(data, 'AWS::Glue::Table')).find(
      (t) => (t.Properties.TableInput as { Name: string }).Name === name,
    );
    const input = table?.Properties.TableInput as Record<string, Record<string, unknown>>;
    // assert
    expect(input.PartitionKeys).toEqual(keys);
    expect(input.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      ...typeProjection,
      'storage.location.template': { 'Fn::Join': ['', expect.arrayContaining([template])] },
    });
    expect(input.StorageDescriptor).toMatchObject({
      SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
      Columns: expect.arrayContaining([expect.objectContaining({ Name: column })]),
    });
  });
});

describe('functions and alarms', () => {
  it.each([
    ['ScoreFunction', 'score', 'event'],
    ['EventsFunction', 'event', 'score'],
  ] as const)('%s writes to its own stream only (PutRecordBatch on the %s stream)', (prefix, own, other) => {
    // prepare
    const fnId = functionId(service, prefix);
    const fn = resources(service, 'AWS::Lambda::Function')[fnId];
    // act
    const firehose = functionStatements(service, fnId).filter((s) =>
      asList(s.Action as string[]).some((a) => a.startsWith('firehose:')),
    );
    const env =
      (fn?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    // assert
    expect(firehose).toHaveLength(1);
    expect(firehose[0]?.Action).toBe('firehose:PutRecordBatch');
    expect(JSON.stringify(firehose[0]?.Resource)).toContain(`Archive${own}stream`);
    expect(JSON.stringify(firehose[0]?.Resource)).not.toContain(`Archive${other}stream`);
    expect(JSON.stringify(env.ARCHIVE_STREAM_NAME)).toContain(`Archive${own}stream`);
  });

  it('opens tickets on dropped records and on failed S3 deliveries, with the stage’s thresholds', () => {
    // act
    const alarms = alarmsByName(service);
    const dropped = alarms.get('prod-archive-dropped-records-ticket')?.[1];
    const delivery = alarms.get('prod-archive-delivery-failures-ticket')?.[1];
    // assert
    expect(dropped?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(delivery?.Properties).toMatchObject({ Threshold: 1 });
    expect(JSON.stringify(dropped?.Properties.Metrics)).toContain('ArchiveDropped');
    expect(JSON.stringify(delivery?.Properties.Metrics)).toContain('DeliveryToS3.Success');
    for (const alarm of [dropped, delivery])
      expect(JSON.stringify(alarm?.Properties.AlarmActions)).toContain('TicketTopic');
  });
});

describe('archive stage settings', () => {
  it('refuses a lifecycle whose steps are out of order', () => {
    // prepare
    const edited = (archive: Partial<typeof prod.archive>) => ({
      ...prod,
      archive: { ...prod.archive, ...archive },
    });
    // act
    const attempts = [
      () => resolveStageConfig(edited({ glacierAfterDays: 40 })),
      () => resolveStageConfig(edited({ expireAfterDays: 180 })),
      () => resolveStageConfig(edited({ infrequentAccessAfterDays: 7 })),
      () => resolveStageConfig(edited({ bufferMiB: 8 })),
    ];
    // assert
    for (const attempt of attempts) expect(attempt).toThrow(/archive/);
  });
});
