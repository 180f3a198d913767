/**
 * Where an archive command reads (and writes): the local stack's archive directory or the
 * archive bucket in AWS. The flags and their checks are shared by every command that takes
 * them (`events:export`, `archive:split-events`), so a prefix is checked the same way in all.
 */
import { resolve } from 'node:path';
import { isArchiveBucketPrefix } from '#domain/archive';
import { ROOT } from '../local/processes';

/** The `parseArgs` options naming an archive location. */
export const ARCHIVE_LOCATION_OPTIONS = {
  local: { type: 'boolean', default: false },
  'archive-dir': { type: 'string', default: `${ROOT}/.local-data/archive` },
  bucket: { type: 'string' },
  prefix: { type: 'string', default: '' },
  region: { type: 'string' },
} as const;

/** How the location flags read in a usage line. */
export const ARCHIVE_LOCATION_USAGE =
  '[--local [--archive-dir DIR]] [--bucket NAME [--prefix P] [--region R]]';

/** The values `parseArgs` returns for {@link ARCHIVE_LOCATION_OPTIONS}. */
export interface ArchiveLocationFlags {
  readonly local: boolean;
  readonly 'archive-dir': string;
  readonly bucket?: string;
  readonly prefix: string;
  readonly region?: string;
}

/** A checked archive location. */
export type ArchiveLocation =
  | { readonly kind: 'local'; readonly dir: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string; readonly region?: string };

/**
 * The location the flags name, or the reason they name none: exactly one of `--local` and
 * `--bucket`, and a prefix that can stand before the archive's keys ({@link isArchiveBucketPrefix},
 * the rule the calibration monitor's `ARCHIVE_PREFIX` follows too).
 */
export function archiveLocation(flags: ArchiveLocationFlags): ArchiveLocation | { readonly error: string } {
  if (flags.local && flags.bucket !== undefined) return { error: 'give --local or --bucket, not both' };
  if (flags.local) return { kind: 'local', dir: resolve(flags['archive-dir']) };
  if (flags.bucket === undefined || flags.bucket === '') return { error: 'give --local or --bucket' };
  if (!isArchiveBucketPrefix(flags.prefix)) return { error: '--prefix must end with "/"' };
  return { kind: 's3', bucket: flags.bucket, prefix: flags.prefix, region: flags.region };
}
