/**
 * Fixtures of the calibration monitor's archive readers, shared by their tests: an archived
 * answer as the score function writes it, and archive objects served by a mocked S3 client
 * (ListObjectsV2 by prefix, GetObject as the SDK's Readable body in chunks).
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** One archived answer (`kind: 'score'`) with every field the join reads. */
export const archivedAnswer = (id = 'tx-1', score: unknown = 0.5): Record<string, unknown> => ({
  kind: 'score',
  transactionId: id,
  cardId: 'tok_1',
  merchantId: 'm_1',
  eventTime: '2026-10-10T12:00:00Z',
  scoredAt: '2026-10-10T12:00:00.010Z',
  functionVersion: '7',
  modelVersion: '1.0.0',
  score,
  decision: 'approve',
  reasons: ['CARD_COUNT_1H'],
  degraded: [],
  segment: 'ecommerce.low.known',
  amount: 100,
  currency: 'EUR',
  channel: 'ecommerce',
});

/** A GetObject body as the SDK gives it in Node: a Readable, here in chunks of `size` bytes. */
export function objectBody(bytes: Uint8Array, size = 64 * 1024) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(Buffer.from(bytes.subarray(i, i + size)));
  return Readable.from(chunks) as never;
}

/** Serves `files` (key → bytes) through the mocked client; a missing key is S3's `NoSuchKey`. */
export function serveArchiveObjects(
  s3: AwsClientStub<S3Client>,
  files: Record<string, Uint8Array>,
  chunk?: number,
): void {
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
    Contents: Object.keys(files)
      .filter((key) => key.startsWith(input.Prefix))
      .map((Key) => ({ Key })),
  }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const bytes = files[input.Key];
    if (!bytes) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: objectBody(bytes, chunk) };
  });
}
