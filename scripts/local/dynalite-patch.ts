/**
 * A runtime patch of dynalite's fixed cost per response, applied by the local stack's dynalite
 * process only (`dynalite-process.ts`), never by the tests' in-process servers nor by the
 * `bench:peer` peer's dynalite (whose boto3 client checks the CRC32 header). It changes how four
 * things are computed, not what they are:
 *
 * - `x-amz-crc32`: dynalite computes it with `buffer-crc32`, a table walk in JavaScript over
 *   every response body (a 3 KB card item: 64 µs against 9 µs); `zlib.crc32` (Node ≥ 20.15)
 *   gives the same value natively. The header stays, with the same value: the AWS SDK for
 *   JavaScript v3 does not check it, but botocore does.
 * - `x-amzn-RequestId`: 52 characters from `crypto.randomBytes(39)` per response, a synchronous
 *   call into the CSPRNG for 39 bytes each time. Here the same calls are served from a pool
 *   refilled by one `randomFillSync` per 64 ids: still random bytes from the same generator.
 *
 * - Expressions: dynalite parses every `ConditionExpression`, `FilterExpression`,
 *   `KeyConditionExpression` and `ProjectionExpression` with a generated PEG parser, about a
 *   third of its CPU for a conditional PutItem. The parse is a pure function of the expression,
 *   its attribute names and values, so a parse is kept for the next request with the same three
 *   (`UpdateExpression`s are not kept: dynalite applies their sections to the item). A request
 *   still marks the names and values its expressions use, so unused ones are reported as before;
 *   a parse that fails is never kept.
 * - LevelDB reads: dynalite reads items and table descriptions with LevelDB's asynchronous `get`,
 *   a round trip through libuv's thread pool per read; here they are read with `getSync` and
 *   handed to the same callback on a later turn of the event loop (see `readSynchronously`).
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

/** Parses kept per parser; beyond this the cache starts over (a parse costs ~0.1 ms). */
const MAX_KEPT_PARSES = 1000;

/** What dynalite's validations hand its expression parsers (`validations/index.js`, `parse`). */
interface ParseContext {
  attrNames?: Record<string, unknown>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames?: Record<string, boolean>;
  unusedAttrVals?: Record<string, boolean>;
  isKeyCondition?: boolean;
}

interface PegParser {
  parse(input: string, options?: { context?: ParseContext }): unknown;
}

/** A kept parse: its tree, and the attribute names and values the expression used. */
interface KeptParse {
  readonly tree: unknown;
  readonly names: readonly string[];
  readonly values: readonly string[];
}

/** Every key of `map`, marked unused, as dynalite's validations start each request. */
const allUnused = (map: Record<string, unknown> | undefined): Record<string, boolean> =>
  Object.fromEntries(Object.keys(map ?? {}).map((key) => [key, true]));

/**
 * Wraps a PEG parser's `parse` so that a parse is kept for the next call with the same
 * expression, names and values. The parser reads the names and values from the context and
 * deletes each one it uses from the context's `unused*` maps; a kept parse replays those
 * deletions. They are recorded against a context of its own that starts with every name and
 * value unused, so a name that an earlier expression of the same request already used (an
 * `UpdateExpression`'s) is still recorded.
 */
function keepParses(parser: PegParser): void {
  const original = parser.parse.bind(parser);
  const kept = new Map<string, KeptParse>();
  parser.parse = (input, options) => {
    const context = options?.context;
    if (typeof input !== 'string' || context === undefined) return original(input, options);
    const key = `${context.isKeyCondition ? 'key' : 'any'}\u0000${input}\u0000${JSON.stringify(context.attrNames ?? null)}\u0000${JSON.stringify(context.attrVals ?? null)}`;
    let parse = kept.get(key);
    if (parse === undefined) {
      const own: ParseContext = {
        ...context,
        unusedAttrNames: allUnused(context.attrNames),
        unusedAttrVals: allUnused(context.attrVals),
      };
      // A syntax or validation error throws: nothing is kept, the caller gets it as before.
      const tree = original(input, { ...options, context: own });
      parse = {
        tree,
        names: Object.keys(context.attrNames ?? {}).filter((name) => !own.unusedAttrNames?.[name]),
        values: Object.keys(context.attrVals ?? {}).filter((value) => !own.unusedAttrVals?.[value]),
      };
      if (kept.size >= MAX_KEPT_PARSES) kept.clear();
      kept.set(key, parse);
    }
    for (const name of parse.names) delete context.unusedAttrNames?.[name];
    for (const value of parse.values) delete context.unusedAttrVals?.[value];
    return parse.tree;
  };
}

type Callback = (error: unknown, value?: unknown) => void;

/** dynalite's LevelDB (classic-level, or memory-level in memory), its `get` wrapped for callbacks. */
interface LevelDb {
  get(key: string, callback?: Callback): unknown;
  getSync?(key: string): unknown;
  supports?: { getSync?: boolean };
  status?: string;
}

/** The store `db.create` returns: every read of an item or table goes through `store.db.get`. */
interface DynaliteStore {
  db: LevelDb;
  recreate(): void;
  lifecycleManager?: { getState(): string };
}

/**
 * Reads LevelDB synchronously. dynalite reads every item (and table description) with the
 * asynchronous `get`, which classic-level runs on libuv's thread pool: a hand-off to a pool
 * thread and back per read, each waiting for a core when the machine is busy, for a read that
 * LevelDB answers from memory in microseconds. `getSync` (classic-level 3, memory-level 3) reads
 * the same value on the calling thread; the callback still runs on a later turn of the event
 * loop, as before. Anything else (no callback, a closed or unopened database, an error) takes
 * the original path, so errors are reported exactly as before.
 */
function readSynchronously(store: DynaliteStore): void {
  const db = store.db;
  if (typeof db.getSync !== 'function' || db.supports?.getSync !== true) return;
  const original = db.get.bind(db);
  const getSync = db.getSync.bind(db);
  db.get = (key, callback) => {
    if (
      typeof callback !== 'function' ||
      db.status !== 'open' ||
      store.lifecycleManager?.getState() === 'closed'
    )
      return original(key, callback);
    let value: unknown;
    try {
      value = getSync(key);
    } catch {
      return original(key, callback);
    }
    setImmediate(callback, null, value);
  };
}

/** Wraps `db.create` so that every store dynalite makes, and remakes, reads LevelDB synchronously. */
function readSynchronouslyInEveryStore(dbModule: { create: (...args: unknown[]) => DynaliteStore }): void {
  const create = dbModule.create;
  const patchStore = (store: DynaliteStore): DynaliteStore => {
    readSynchronously(store);
    const recreate = store.recreate;
    // `recreate` copies a fresh store's members (a new `db`) onto this one.
    store.recreate = function (this: DynaliteStore) {
      recreate.call(this);
      patchStore(this);
    };
    return store;
  };
  dbModule.create = (...args) => patchStore(create(...args));
}

/** What {@link patchDynalite} replaced, for the report line of the dynalite process. */
export interface DynalitePatch {
  readonly crc32: boolean;
  readonly requestIds: boolean;
  readonly expressions: boolean;
  readonly syncReads: boolean;
}

/**
 * Patches the modules dynalite resolves (`buffer-crc32`, `crypto`, its expression parsers) in
 * this process. Call it before dynalite handles a request; dynalite looks these functions up on
 * every request.
 */
export function patchDynalite(root: string = ROOT): DynalitePatch {
  const requireFromDynalite = createRequire(createRequire(`${root}/package.json`).resolve('dynalite'));
  const crcModule = requireFromDynalite('buffer-crc32') as { unsigned: (input: string | Buffer) => number };
  const cryptoModule = requireFromDynalite('crypto') as { randomBytes: (...args: unknown[]) => Buffer };
  // `zlib.crc32` encodes a string as UTF-8, as `buffer-crc32` does (`Buffer.from(string)`).
  crcModule.unsigned = (input) => crc32(input);
  cryptoModule.randomBytes = pooledRandomBytes(cryptoModule.randomBytes);
  // The parsers' trees are only read afterwards (conditions, filters, projections); update
  // expressions are left alone.
  keepParses(requireFromDynalite('./db/conditionParser') as PegParser);
  keepParses(requireFromDynalite('./db/projectionParser') as PegParser);
  readSynchronouslyInEveryStore(
    requireFromDynalite('./db') as { create: (...args: unknown[]) => DynaliteStore },
  );
  return { crc32: true, requestIds: true, expressions: true, syncReads: true };
}
