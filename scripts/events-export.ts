/**
 * `npm run events:export -- --from ISO --to ISO --out PATH [--local [--archive-dir DIR]] [--bucket NAME [--prefix P] [--region R]]`
 *
 * Pulls the accepted events of `[from, to)` back out of the archive as JSON lines of
 * `/v1/events` bodies, sorted by time, each event once: the input of `npm run train` on a
 * history that is not the simulator's. `--local` reads the local stack's archive
 * (`.local-data/archive`); otherwise the archive bucket in AWS (credentials from the usual chain).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import {
  type ArchiveReader,
  exportEvents,
  LocalArchiveReader,
  S3ArchiveReader,
  writeJsonLines,
} from './archive/export';
import { ARCHIVE_LOCATION_OPTIONS, ARCHIVE_LOCATION_USAGE, archiveLocation } from './archive/location';

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run events:export -- --from ISO --to ISO --out PATH ${ARCHIVE_LOCATION_USAGE}\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      ...ARCHIVE_LOCATION_OPTIONS,
    },
  });
  const from = Date.parse(values.from ?? '');
  const to = Date.parse(values.to ?? '');
  if (Number.isNaN(from)) usage(`--from must be an ISO time, got ${values.from}`);
  if (Number.isNaN(to)) usage(`--to must be an ISO time, got ${values.to}`);
  if (to <= from) usage('--to must be after --from');
  if (!values.out) usage('--out is required');
  const location = archiveLocation(values);
  if ('error' in location) usage(location.error);
  const reader: ArchiveReader =
    location.kind === 'local'
      ? new LocalArchiveReader(location.dir)
      : new S3ArchiveReader(new S3Client({ region: location.region }), location.bucket, location.prefix);
  const started = performance.now();
  const result = await exportEvents(reader, from, to);
  await writeJsonLines(resolve(values.out), result.events);
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `${result.events.length} events → ${values.out} (${result.objects} objects, ${result.duplicates} duplicates dropped, ${result.malformed} malformed lines skipped, ${seconds.toFixed(1)} s)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`events:export failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
