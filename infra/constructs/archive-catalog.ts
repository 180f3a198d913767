/**
 * The archive's Glue catalog: a database with one table per record kind, whose partitions
 * (`dt`, and `type` for events) are projected from the S3 layout `archivePrefix` writes, so
 * Athena reads new days without a crawler. JSON keys match the columns case-insensitively.
 */

import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import {
  ARCHIVE_KINDS,
  type ArchiveKind,
  archivePrefix,
  EVENT_TYPES,
  type EventType,
} from '../../functions/shared/domain/archive';

/** Glue columns of a score record (`ScoreRecord`); JSON keys match case-insensitively. */
const SCORE_COLUMNS: glue.CfnTable.ColumnProperty[] = [
  { name: 'kind', type: 'string' },
  { name: 'transactionid', type: 'string' },
  { name: 'cardid', type: 'string' },
  { name: 'merchantid', type: 'string' },
  { name: 'eventtime', type: 'string' },
  { name: 'scoredat', type: 'string' },
  { name: 'functionversion', type: 'string' },
  { name: 'modelversion', type: 'string' },
  { name: 'policyversion', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'decision', type: 'string' },
  { name: 'reasons', type: 'array<string>' },
  { name: 'degraded', type: 'array<string>' },
  { name: 'segment', type: 'string' },
  { name: 'amount', type: 'bigint' },
  { name: 'currency', type: 'string' },
  { name: 'channel', type: 'string' },
  { name: 'shadow', type: 'struct<model:string,version:string,score:double,decision:string>' },
];

/** Glue columns of an event record (`EventRecord`): the `/v1/events` body as a struct. */
const EVENT_COLUMNS: glue.CfnTable.ColumnProperty[] = [
  { name: 'kind', type: 'string' },
  { name: 'receivedat', type: 'string' },
  {
    name: 'event',
    type:
      'struct<type:string,eventid:string,transactionid:string,cardid:string,merchantid:string,timestamp:string,' +
      'mcc:string,amount:bigint,currency:string,country:string,channel:string,deviceid:string,outcome:string,' +
      'label:string,transactiontimestamp:string>',
  },
];

const COLUMNS: Record<ArchiveKind, glue.CfnTable.ColumnProperty[]> = {
  score: SCORE_COLUMNS,
  event: EVENT_COLUMNS,
};

/** Glue partition columns and their projection, per kind (`archivePrefix` with Glue's `${…}`). */
const PARTITIONS: Record<
  ArchiveKind,
  { keys: glue.CfnTable.ColumnProperty[]; projection: Record<string, string>; template: string }
> = {
  score: { keys: [], projection: {}, template: archivePrefix('score', `\${dt}`) },
  event: {
    keys: [{ name: 'type', type: 'string' }],
    projection: { 'projection.type.type': 'enum', 'projection.type.values': EVENT_TYPES.join(',') },
    template: archivePrefix('event', `\${dt}`, `\${type}` as EventType),
  },
};

/** The Athena table name of a kind. */
export const ARCHIVE_TABLES: Record<ArchiveKind, string> = { score: 'scores', event: 'events' };

/** The Glue database and the table of each kind, created in `scope` (the archive construct). */
export function archiveCatalog(
  scope: Construct,
  options: { readonly account: string; readonly stage: string; readonly bucket: s3.IBucket },
): { database: glue.CfnDatabase; tables: Record<ArchiveKind, glue.CfnTable> } {
  const database = new glue.CfnDatabase(scope, 'Database', {
    catalogId: options.account,
    databaseInput: { description: `Fraud scoring ${options.stage}: archived answers and events (Athena)` },
  });
  const tables = {} as Record<ArchiveKind, glue.CfnTable>;
  for (const kind of ARCHIVE_KINDS) {
    const location = `s3://${options.bucket.bucketName}/${kind}/`;
    const partitions = PARTITIONS[kind];
    const table = new glue.CfnTable(scope, `${kind}-table`, {
      catalogId: options.account,
      databaseName: database.ref,
      tableInput: {
        name: ARCHIVE_TABLES[kind],
        description: `Archived ${kind} records, one JSON object per line, partitioned by the event's ${kind === 'event' ? 'type and ' : ''}date`,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [...partitions.keys, { name: 'dt', type: 'string' }],
        parameters: {
          classification: 'json',
          'projection.enabled': 'true',
          ...partitions.projection,
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': '2020-01-01,NOW+1DAYS',
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `s3://${options.bucket.bucketName}/${partitions.template}`,
        },
        storageDescriptor: {
          location,
          columns: COLUMNS[kind],
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          compressed: true,
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            parameters: { 'ignore.malformed.json': 'true' },
          },
        },
      },
    });
    tables[kind] = table;
  }
  return { database, tables };
}
