import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { DynamicBatcher } from '../../services/neural/batcher';
import { ModelConfigError, parseModelConfig, parseTextProto } from '../../services/neural/model-config';
import { parseFault } from '../../services/neural/options';
import { PreciseTimer } from '../../services/neural/precise-timer';

const SHIPPED = 'models/fraud-seq/1.0.0/triton/fraud-seq/config.pbtxt';

describe('parseModelConfig', () => {
  it('reads the shipped Triton configuration', () => {
    // act
    const config = parseModelConfig(readFileSync(SHIPPED, 'utf8'));
    // assert
    expect(config).toEqual({
      name: 'fraud-seq',
      platform: 'onnxruntime_onnx',
      maxBatchSize: 64,
      inputs: [{ name: 'sequence', datatype: 'FP32', dims: [33, 25] }],
      outputs: [{ name: 'score', datatype: 'FP32', dims: [1] }],
      dynamicBatching: { preferredBatchSizes: [], maxQueueDelayMicroseconds: 0 },
      instanceCount: 1,
    });
  });

  it('reads text-format variants: angle brackets, repeated fields, comments, no colons', () => {
    // prepare
    const text = `
      name: 'm'  # a comment
      backend: "onnxruntime"
      max_batch_size: 8
      input < name: "x" data_type: TYPE_FP32 dims: 4 dims: 2 >
      output { name: "y", data_type: TYPE_FP32, dims: [ 1 ] }
      dynamic_batching { preferred_batch_size: 4 preferred_batch_size: 2 }
      instance_group [ { count: 2 kind: KIND_CPU }, { kind: KIND_GPU gpus: [ 0, 1 ] } ]`;
    // act
    const config = parseModelConfig(text);
    // assert
    expect(config.inputs).toEqual([{ name: 'x', datatype: 'FP32', dims: [4, 2] }]);
    expect(config.dynamicBatching).toEqual({ preferredBatchSizes: [2, 4], maxQueueDelayMicroseconds: 0 });
    expect(config.instanceCount).toBe(3);
  });

  it('treats a missing dynamic_batching block as no batching', () => {
    // act
    const config = parseModelConfig(readFileSync(SHIPPED, 'utf8').replace(/dynamic_batching \{[^}]*\}/, ''));
    // assert
    expect(config.dynamicBatching).toBeUndefined();
  });

  const broken: [string, string][] = [
    ['an unterminated string', 'name: "m'],
    ['a missing brace', 'name: "m" input { name: "x"'],
    [
      'another platform',
      'name: "m" platform: "tensorrt_plan" input { name: "x" data_type: TYPE_FP32 dims: 1 }',
    ],
    [
      'a preferred size above the max',
      'name: "m" platform: "onnxruntime_onnx" max_batch_size: 4 input { name: "x" data_type: TYPE_FP32 dims: 1 } output { name: "y" data_type: TYPE_FP32 dims: 1 } dynamic_batching { preferred_batch_size: 8 }',
    ],
    [
      'an unsupported data type',
      'name: "m" platform: "onnxruntime_onnx" input { name: "x" data_type: TYPE_STRING dims: 1 } output { name: "y" data_type: TYPE_FP32 dims: 1 }',
    ],
    [
      'variable dims',
      'name: "m" platform: "onnxruntime_onnx" input { name: "x" data_type: TYPE_FP32 dims: [ -1 ] } output { name: "y" data_type: TYPE_FP32 dims: 1 }',
    ],
  ];
  it.each(broken)('refuses %s with a ModelConfigError', (_, text) => {
    // act
    const act = () => parseModelConfig(text);
    // assert
    expect(act).toThrow(ModelConfigError);
  });

  it('never throws anything but ModelConfigError on arbitrary text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        // act
        let thrown: unknown;
        try {
          parseTextProto(text);
        } catch (error) {
          thrown = error;
        }
        // assert
        expect(thrown === undefined || thrown instanceof ModelConfigError).toBe(true);
      }),
    );
  });
});

describe('parseFault', () => {
  it('reads the three fault kinds and refuses anything else', () => {
    // act / assert
    expect(parseFault('slow:200')).toEqual({ kind: 'slow', ms: 200 });
    expect(parseFault('status:503')).toEqual({ kind: 'status', status: 503 });
    expect(parseFault('malformed')).toEqual({ kind: 'malformed' });
    expect(parseFault(undefined)).toBeUndefined();
    expect(() => parseFault('status:200')).toThrow();
    expect(() => parseFault('explode')).toThrow();
  });
});

describe('DynamicBatcher', () => {
  /** An executor that records batch sizes and returns each row's first value, after `ms`. */
  function recorder(ms = 0) {
    const batches: number[] = [];
    const execute = async (inputs: Readonly<Record<string, Float32Array>>, rows: number) => {
      batches.push(rows);
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      const x = inputs.x as Float32Array;
      return { y: Float32Array.from({ length: rows }, (_, i) => (x[i * 2] as number) * 10) };
    };
    return { batches, execute };
  }
  const widths = { inputWidths: { x: 2 }, outputWidths: { y: 1 } };
  const row = (v: number) => ({ x: Float32Array.of(v, 0) });
  /** A one-instance batcher over `widths` with dynamic batching as `config.pbtxt` would set it. */
  const dynamicBatcher = (
    maxBatchSize: number,
    preferredBatchSizes: number[],
    maxQueueDelayMicroseconds: number,
    execute: ConstructorParameters<typeof DynamicBatcher>[1],
  ) =>
    new DynamicBatcher(
      { ...widths, maxBatchSize, instances: 1, dynamic: { preferredBatchSizes, maxQueueDelayMicroseconds } },
      execute,
    );

  it('dispatches a preferred size at once, without waiting for the delay', async () => {
    // prepare
    const { batches, execute } = recorder(5);
    const batcher = dynamicBatcher(8, [4], 10_000_000, execute);
    // act: with a 10 s delay, only reaching the preferred size can dispatch
    const started = performance.now();
    const results = await Promise.all([1, 2, 3, 4].map((v) => batcher.submit(row(v), 1)));
    // assert
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(batches).toEqual([4]);
    expect(results.map((r) => r.outputs.y?.[0])).toEqual([10, 20, 30, 40]);
    expect(results.every((r) => r.batchRows === 4)).toBe(true);
    batcher.close();
  });

  it('waits up to the max queue delay, then sends what it has', async () => {
    // prepare
    const { batches, execute } = recorder();
    const batcher = dynamicBatcher(8, [4], 30_000, execute);
    // act
    const started = performance.now();
    const results = await Promise.all([1, 2].map((v) => batcher.submit(row(v), 1)));
    const waited = performance.now() - started;
    // assert
    expect(batches).toEqual([2]);
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(results[0]?.queueMicroseconds).toBeGreaterThanOrEqual(25_000);
    batcher.close();
  });

  it('honours a sub-millisecond queue delay: waits it out, then sends what it has', async () => {
    // prepare: 400 µs, below what a Node timer can wait
    const { batches, execute } = recorder();
    const batcher = dynamicBatcher(8, [4], 400, execute);
    // act
    const results = await Promise.all([1, 2].map((v) => batcher.submit(row(v), 1)));
    // assert: both in one batch, dispatched no earlier than the delay (how much later is the
    // machine's scheduling, measured by bench:neural, not asserted here)
    expect(batches).toEqual([2]);
    expect(results[0]?.queueMicroseconds).toBeGreaterThanOrEqual(400);
    batcher.close();
  });

  it('with no delay, batches every request queued in the same turn of the event loop', async () => {
    // prepare: Triton's default batcher (no preferred sizes, no delay)
    const { batches, execute } = recorder();
    const batcher = dynamicBatcher(8, [], 0, execute);
    // act: five requests read in one turn (as the server parses several sockets per poll)
    const results = await Promise.all([1, 2, 3, 4, 5].map((v) => batcher.submit(row(v), 1)));
    // assert: one batch, not the first alone and the rest after it
    expect(batches).toEqual([5]);
    expect(results.map((r) => r.outputs.y?.[0])).toEqual([10, 20, 30, 40, 50]);
    batcher.close();
  });

  it('once the oldest request is past the delay, sends everything pending, not a preferred prefix', async () => {
    // prepare: the first batch keeps the only instance busy until the test releases it (not for a
    // fixed time: a late timer on a loaded machine left the others younger than the delay)
    const { batches, execute } = recorder();
    let started!: () => void;
    let release!: () => void;
    const firstStarted = new Promise<void>((r) => {
      started = r;
    });
    const released = new Promise<void>((r) => {
      release = r;
    });
    const gated: typeof execute = async (inputs, rows) => {
      const isFirst = batches.length === 0;
      const outputs = await execute(inputs, rows);
      if (isFirst) {
        started();
        await released;
      }
      return outputs;
    };
    const batcher = dynamicBatcher(8, [2], 20_000, gated);
    const first = batcher.submit(row(1), 1);
    await firstStarted;
    // act: three requests queue behind the busy instance and age past the delay (a late timer
    // only ages them more), then the instance frees up
    const later = [2, 3, 4].map((v) => batcher.submit(row(v), 1));
    await new Promise((r) => setTimeout(r, 30));
    release();
    await Promise.all([first, ...later]);
    // assert: Triton's GetDynamicBatch sends all three (the delay is exceeded), not [2] then [1]
    expect(batches).toEqual([1, 3]);
    batcher.close();
  });

  it('sends at once what fits under the largest preferred size when the next request would pass it', async () => {
    // prepare: a delay far longer than the test
    const { batches, execute } = recorder();
    const batcher = dynamicBatcher(8, [4], 10_000_000, execute);
    const rows = (n: number, v: number) => ({ x: Float32Array.from({ length: n * 2 }, () => v) });
    // act: 3 rows then 2 rows (3 + 2 passes 4), then two single rows that make 2 + 1 + 1 = 4
    const started = performance.now();
    const all = [batcher.submit(rows(3, 1), 3), batcher.submit(rows(2, 2), 2)];
    await all[0];
    all.push(batcher.submit(rows(1, 3), 1), batcher.submit(rows(1, 4), 1));
    await Promise.all(all);
    // assert: neither batch waited for the 10 s delay
    expect(batches).toEqual([3, 4]);
    expect(performance.now() - started).toBeLessThan(1_000);
    batcher.close();
  });

  it('never exceeds max_batch_size and keeps whole requests together', async () => {
    // prepare
    const { batches, execute } = recorder(2);
    const batcher = dynamicBatcher(4, [], 1_000, execute);
    // act
    const sizes = [3, 2, 2, 1, 4, 1];
    const results = await Promise.all(
      sizes.map((n, k) =>
        batcher.submit({ x: Float32Array.from({ length: n * 2 }, (_, i) => (i % 2 === 0 ? k : 0)) }, n),
      ),
    );
    // assert
    expect(batches.every((b) => b <= 4)).toBe(true);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(13);
    results.forEach((r, k) => {
      expect(Array.from(r.outputs.y as Float32Array)).toEqual(new Array(sizes[k]).fill(k * 10));
    });
    batcher.close();
  });

  it('without dynamic batching runs every request alone', async () => {
    // prepare
    const { batches, execute } = recorder(1);
    const batcher = new DynamicBatcher({ ...widths, maxBatchSize: 8, instances: 1 }, execute);
    // act
    await Promise.all([1, 2, 3].map((v) => batcher.submit(row(v), 1)));
    // assert
    expect(batches).toEqual([1, 1, 1]);
  });

  it('an executor failure rejects every request of that batch, and the next batch still runs', async () => {
    // prepare
    let calls = 0;
    const batcher = dynamicBatcher(2, [2], 20_000, async (_inputs, rows) => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return { y: new Float32Array(rows) };
    });
    // act
    const first = await Promise.allSettled([batcher.submit(row(1), 1), batcher.submit(row(2), 1)]);
    const after = await batcher.submit(row(3), 1);
    // assert
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(after.outputs.y).toHaveLength(1);
  });

  it('returns each request its own rows, whatever the arrival pattern (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom(0, 200, 2_000),
        async (sizes, delay) => {
          // prepare
          const { batches, execute } = recorder();
          const batcher = new DynamicBatcher(
            {
              ...widths,
              maxBatchSize: 6,
              instances: 2,
              dynamic: { preferredBatchSizes: [2, 6], maxQueueDelayMicroseconds: delay },
            },
            execute,
          );
          // act
          const results = await Promise.all(
            sizes.map((n, k) =>
              batcher.submit({ x: Float32Array.from({ length: n * 2 }, (_, i) => (i % 2 === 0 ? k : 0)) }, n),
            ),
          );
          batcher.close();
          // assert
          expect(batches.every((b) => b <= 6)).toBe(true);
          results.forEach((r, k) => {
            expect(Array.from(r.outputs.y as Float32Array)).toEqual(new Array(sizes[k]).fill(k * 10));
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('PreciseTimer', () => {
  it('fires after a sub-millisecond delay, not before, and in order', async () => {
    // prepare
    const timer = new PreciseTimer();
    const fired: { id: number; ms: number }[] = [];
    const started = performance.now();
    // act
    await new Promise<void>((resolve) => {
      timer.set(() => fired.push({ id: 1, ms: performance.now() - started }), 0.4);
      timer.set(() => {
        fired.push({ id: 2, ms: performance.now() - started });
        resolve();
      }, 0.2);
    });
    await timer.close();
    // assert: one sleep at a time, so the second fires after both delays
    expect(fired.map((f) => f.id)).toEqual([1, 2]);
    expect(fired[0]?.ms).toBeGreaterThanOrEqual(0.4);
    expect(fired[1]?.ms).toBeGreaterThanOrEqual(0.6);
  });

  it('a cancelled timer never fires', async () => {
    // prepare
    const timer = new PreciseTimer();
    let cancelledFired = false;
    // act
    const cancel = timer.set(() => {
      cancelledFired = true;
    }, 0.3);
    cancel();
    await new Promise<void>((resolve) => timer.set(resolve, 0.6));
    await timer.close();
    // assert
    expect(cancelledFired).toBe(false);
  });
});
