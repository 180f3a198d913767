/**
 * `npm run archive:split-events -- --from YYYY-MM-DD --to YYYY-MM-DD [--remove] [--dry-run]
 *    [--local [--archive-dir DIR]] [--bucket NAME [--prefix P] [--region R]]`
 *
 * Run once after deploying the typed event layout: moves the events archived before it
 * (`event/dt=D/`) to `event/type=<type>/dt=D/`, where the calibration monitor and Athena read
 * them (docs/archive.md#moving-the-old-layout). Safe to run again; `--remove` deletes each old
 * object after its lines are written; `--dry-run` only counts.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { LocalSplitStore, S3SplitStore, splitEvents } from './archive/split-events';
import { ROOT } from './local/processes';

const USAGE =
  'usage: npm run archive:split-events -- --from YYYY-MM-DD --to YYYY-MM-DD [--remove] [--dry-run] [--local [--archive-dir DIR]] [--bucket NAME [--prefix P] [--region R]]';

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
      local: { type: 'boolean', default: false },
      'archive-dir': { type: 'string', default: `${ROOT}/.local-data/archive` },
      bucket: { type: 'string' },
      prefix: { type: 'string', default: '' },
      region: { type: 'string' },
    },
  });
  const date = /^\d{4}-\d\d-\d\d$/;
  if (!date.test(values.from ?? '')) usage(`--from must be YYYY-MM-DD, got ${values.from}`);
  if (!date.test(values.to ?? '')) usage(`--to must be YYYY-MM-DD, got ${values.to}`);
  if ((values.to as string) < (values.from as string)) usage('--to must not be before --from');
  if (!values.local && !values.bucket) usage('give --local or --bucket');
  if (values.prefix !== '' && !values.prefix.endsWith('/')) usage('--prefix must end with "/"');
  const store = values.local
    ? new LocalSplitStore(resolve(values['archive-dir']))
    : new S3SplitStore(new S3Client({ region: values.region }), values.bucket as string, values.prefix);
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
