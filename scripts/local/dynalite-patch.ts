/**
 * A runtime patch of dynalite's fixed cost per response, applied by the local stack's dynalite
 * process only (`dynalite-process.ts`), never by the tests' in-process servers nor by the
 * `bench:peer` peer's dynalite (whose boto3 client checks the CRC32 header). It changes how two
 * values are computed, not what they are:
 *
 * - `x-amz-crc32`: dynalite computes it with `buffer-crc32`, a table walk in JavaScript over
 *   every response body (a 3 KB card item: 64 µs against 9 µs); `zlib.crc32` (Node ≥ 20.15)
 *   gives the same value natively. The header stays, with the same value: the AWS SDK for
 *   JavaScript v3 does not check it, but botocore does.
 * - `x-amzn-RequestId`: 52 characters from `crypto.randomBytes(39)` per response, a synchronous
 *   call into the CSPRNG for 39 bytes each time. Here the same calls are served from a pool
 *   refilled by one `randomFillSync` per 64 ids: still random bytes from the same generator.
 *
 * `test/integration/dynalite-patch.test.ts` proves neutrality: one corpus of valid and invalid
 * requests against a patched and an unpatched dynalite process, same status, headers and body.
 */
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import { ROOT } from './processes';

/** Sizes served from the pool; dynalite asks for 39 bytes per request id. */
const POOLED_MAX_BYTES = 64;
const POOL_BYTES = 64 * 39;

/** `crypto.randomBytes(size)` for small synchronous calls, from a pool refilled in bulk. */
function pooledRandomBytes(original: (...args: unknown[]) => Buffer): (...args: unknown[]) => Buffer {
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  let offset = POOL_BYTES;
  return function randomBytes(this: unknown, ...args: unknown[]): Buffer {
    const size = args[0];
    if (
      args.length !== 1 ||
      typeof size !== 'number' ||
      !Number.isInteger(size) ||
      size < 0 ||
      size > POOLED_MAX_BYTES
    ) {
      // Callbacks, odd sizes and anything else: the original's own overloads and errors.
      return Reflect.apply(original, this, args);
    }
    if (offset + size > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    // A copy: the caller owns its buffer, and the pool's bytes are never handed out twice.
    const bytes = Buffer.from(pool.subarray(offset, offset + size));
    offset += size;
    return bytes;
  };
}

/** What {@link patchDynalite} replaced, for the report line of the dynalite process. */
export interface DynalitePatch {
  readonly crc32: boolean;
  readonly requestIds: boolean;
}

/**
 * Patches the modules dynalite resolves (`buffer-crc32`, `crypto`) in this process. Call it
 * before dynalite handles a request; dynalite looks both functions up on every response.
 */
export function patchDynalite(root: string = ROOT): DynalitePatch {
  const requireFromDynalite = createRequire(createRequire(`${root}/package.json`).resolve('dynalite'));
  const crcModule = requireFromDynalite('buffer-crc32') as { unsigned: (input: string | Buffer) => number };
  const cryptoModule = requireFromDynalite('crypto') as { randomBytes: (...args: unknown[]) => Buffer };
  // `zlib.crc32` encodes a string as UTF-8, as `buffer-crc32` does (`Buffer.from(string)`).
  crcModule.unsigned = (input) => crc32(input);
  cryptoModule.randomBytes = pooledRandomBytes(cryptoModule.randomBytes);
  return { crc32: true, requestIds: true };
}
