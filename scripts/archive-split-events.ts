/**
 * `npm run archive:split-events -- --from YYYY-MM-DD --to YYYY-MM-DD [--remove] [--dry-run]
 *    [--local [--archive-dir DIR]] [--bucket NAME [--prefix P] [--region R]]`
 *
 * Run once after deploying the typed event layout: moves the events archived before it
 * (`event/dt=D/`) to `event/type=<type>/dt=D/`, where the calibration monitor and Athena read
 * them (docs/archive.md#moving-the-old-layout). Safe to run again; `--remove` deletes each old
 * object after its lines are written; `--dry-run` only counts.
 */
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_LOCATION_OPTIONS, ARCHIVE_LOCATION_USAGE, archiveLocation } from './archive/location';
import { LocalSplitStore, S3SplitStore, splitEvents } from './archive/split-events';

const USAGE = `usage: npm run archive:split-events -- --from YYYY-MM-DD --to YYYY-MM-DD [--remove] [--dry-run] ${ARCHIVE_LOCATION_USAGE}`;

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      remove: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      ...ARCHIVE_LOCATION_OPTIONS,
    },
  });
  const date = /^\d{4}-\d\d-\d\d$/;
  if (!date.test(values.from ?? '')) usage(`--from must be YYYY-MM-DD, got ${values.from}`);
  if (!date.test(values.to ?? '')) usage(`--to must be YYYY-MM-DD, got ${values.to}`);
  if ((values.to as string) < (values.from as string)) usage('--to must not be before --from');
  const location = archiveLocation(values);
  if ('error' in location) usage(location.error);
  const store =
    location.kind === 'local'
      ? new LocalSplitStore(location.dir)
      : new S3SplitStore(new S3Client({ region: location.region }), location.bucket, location.prefix);
  const started = performance.now();
  const result = await splitEvents(store, {
    from: values.from as string,
    to: values.to as string,
    remove: values.remove,
    dryRun: values['dry-run'],
    onObject: (key, lines) => process.stderr.write(`${key}: ${JSON.stringify(lines)}\n`),
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${values['dry-run'] ? 'would split' : 'split'} ${result.objects} objects: ${JSON.stringify(result.lines)} lines, ${result.removed} old objects removed (${seconds.toFixed(1)} s)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `archive:split-events failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
