/**
 * The archive's local sink: the S3 layout on disk, `<dir>/score/dt=YYYY-MM-DD/<writer>.jsonl.gz`
 * and `<dir>/event/type=<type>/dt=YYYY-MM-DD/<writer>.jsonl.gz` (`recordPrefix`, the partition
 * Firehose computes for the same record).
 * Each delivery appends one gzip member per partition to this process's file there; a file of
 * concatenated gzip members is a valid gzip file (`zcat`, Athena, `events:export` read it
 * whole). Every process writes its own files (the local stack runs several front workers), so
 * appends never interleave.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { type ArchiveRecord, type ArchiveSink, recordPrefix } from '#domain/archive';

const gzipAsync = promisify(gzip);

export interface FileArchiveOptions {
  /** Names this writer's files. @default `<pid>-<start time in ms>` */
  readonly writerId?: string;
  /** Told about each partition that could not be written (its records are reported, never thrown). */
  readonly onError?: (error: unknown) => void;
}

export class FileArchiveSink implements ArchiveSink {
  private readonly writerId: string;
  private readonly created = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly options: FileArchiveOptions = {},
  ) {
    this.writerId = options.writerId ?? `${process.pid}-${Date.now()}`;
  }

  async deliver(records: readonly ArchiveRecord[]): Promise<number> {
    const partitions = new Map<string, string[]>();
    for (const record of records) {
      const prefix = recordPrefix(record);
      const lines = partitions.get(prefix) ?? [];
      lines.push(JSON.stringify(record));
      partitions.set(prefix, lines);
    }
    let failed = 0;
    for (const [prefix, lines] of partitions) {
      try {
        const folder = join(this.dir, prefix);
        if (!this.created.has(folder)) {
          await mkdir(folder, { recursive: true });
          this.created.add(folder);
        }
        await appendFile(join(folder, `${this.writerId}.jsonl.gz`), await gzipAsync(`${lines.join('\n')}\n`));
      } catch (error) {
        this.options.onError?.(error);
        failed += lines.length;
      }
    }
    return failed;
  }
}
