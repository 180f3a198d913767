/**
 * Reads the archive's local layout (`<root>/score/dt=YYYY-MM-DD/…`,
 * `<root>/event/type=<type>/dt=YYYY-MM-DD/…`, JSON lines, gzip or plain), the layout the S3
 * archive has. It is the S3 reader's record reader over files instead of S3 objects: the same
 * streaming, the same record checks, the same counting of what is skipped — a malformed line
 * is skipped (and counted) locally exactly when it would be in AWS, never fatal.
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ArchiveObjects, ArchiveRecordReader, type S3ArchiveReaderOptions } from './s3-archive-reader';

export { daysBetween } from '#domain/archive';

/** A directory in the archive layout, as {@link ArchiveObjects}: keys are paths relative to it. */
export class LocalArchiveObjects implements ArchiveObjects {
  constructor(private readonly root: string) {}

  /** The files of the partition folder `prefix` (`score/dt=2026-11-23/`); none when it is absent. */
  async list(prefix: string): Promise<string[]> {
    try {
      const entries = await readdir(join(this.root, prefix), { withFileTypes: true });
      return entries.filter((entry) => entry.isFile()).map((entry) => `${prefix}${entry.name}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async open(key: string): Promise<AsyncIterable<Uint8Array>> {
    return createReadStream(join(this.root, key));
  }
}

/** The calibration monitor's reader of the local archive (`npm run monitor:calibration`). */
export class FileArchiveReader extends ArchiveRecordReader {
  constructor(root: string, options: S3ArchiveReaderOptions = {}) {
    super(new LocalArchiveObjects(root), options);
  }
}
